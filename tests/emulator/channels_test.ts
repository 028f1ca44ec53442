import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  type APIChannel,
  ChannelType,
  OverwriteType,
  PermissionFlagsBits as P,
  Routes,
} from "discord-api-types/v10";
import type { ChannelRecord } from "./guild.ts";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

const opts = { guilds: [{ members: 5, channels: 3 }] };

Deno.test("seeded channels cover every type with their fields", async () => {
  await withEmulator(opts, async (emu) => {
    const res = await api<ChannelRecord[]>(emu, "GET", Routes.guildChannels(GUILD));
    strictEqual(res.status, 200);
    const types = new Set(res.body.map((c) => c.type));
    for (
      const t of [
        ChannelType.GuildCategory,
        ChannelType.GuildText,
        ChannelType.GuildVoice,
        ChannelType.GuildForum,
        ChannelType.GuildStageVoice,
      ]
    ) {
      ok(types.has(t), `type ${t}`);
    }
    const voice = res.body.find((c) => c.type === ChannelType.GuildVoice)!;
    strictEqual(voice.bitrate, 64000);
    strictEqual(voice.user_limit, 10);
    const general = res.body.find((c) => c.name === "general")!;
    strictEqual(general.topic, "General chat");
    strictEqual(general.rate_limit_per_user, 5);
    ok(general.parent_id);
    ok(res.body.some((c) => c.name === "extra-3"));
  });
});

Deno.test("create, edit and delete channels with validation", async () => {
  await withEmulator(opts, async (emu) => {
    const g = emu.state.guild(GUILD);
    const category = [...g.channels.values()].find((c) => c.type === ChannelType.GuildCategory)!;
    const created = await api<ChannelRecord>(emu, "POST", Routes.guildChannels(GUILD), {
      body: {
        name: "Restored Channel",
        type: ChannelType.GuildText,
        topic: "from backup",
        parent_id: category.id,
        rate_limit_per_user: 10,
        permission_overwrites: [
          { id: GUILD, type: OverwriteType.Role, deny: P.SendMessages.toString() },
        ],
      },
      reason: "restore",
    });
    strictEqual(created.status, 201);
    strictEqual(created.body.name, "restored-channel");
    strictEqual(created.body.parent_id, category.id);
    strictEqual(created.body.permission_overwrites[0].deny, P.SendMessages.toString());
    strictEqual(emu.stats.writes[0].reason, "restore");

    const missingName = await api<
      { code: number; errors: { name: { _errors: { code: string }[] } } }
    >(
      emu,
      "POST",
      Routes.guildChannels(GUILD),
      { body: { type: 0 } },
    );
    strictEqual(missingName.status, 400);
    strictEqual(missingName.body.errors.name._errors[0].code, "BASE_TYPE_REQUIRED");
    const tooFast = await api<{ code: number }>(emu, "POST", Routes.guildChannels(GUILD), {
      body: { name: "v", type: ChannelType.GuildVoice, bitrate: 384000 },
    });
    strictEqual(tooFast.body.code, 30052);
    const badParent = await api<{ code: number }>(emu, "POST", Routes.guildChannels(GUILD), {
      body: { name: "x", parent_id: created.body.id },
    });
    strictEqual(badParent.body.code, 50035);
    const grantAdmin = await api<{ code: number }>(emu, "POST", Routes.guildChannels(GUILD), {
      body: {
        name: "x",
        permission_overwrites: [{ id: GUILD, type: 0, allow: P.Administrator.toString() }],
      },
    });
    strictEqual(grantAdmin.body.code, 50013);

    const edited = await api<ChannelRecord>(emu, "PATCH", Routes.channel(created.body.id), {
      body: { topic: "changed", nsfw: true },
    });
    strictEqual(edited.body.topic, "changed");
    strictEqual(edited.body.nsfw, true);
    const badType = await api<{ code: number }>(emu, "PATCH", Routes.channel(created.body.id), {
      body: { type: ChannelType.GuildVoice },
    });
    strictEqual(badType.body.code, 50035);

    const deleted = await api<APIChannel>(emu, "DELETE", Routes.channel(created.body.id));
    strictEqual(deleted.status, 200);
    strictEqual(deleted.body.id, created.body.id);
    const gone = await api<{ code: number }>(emu, "GET", Routes.channel(created.body.id));
    strictEqual(gone.status, 404);
    strictEqual(gone.body.code, 10003);
  });
});

Deno.test("deleting a category orphans its children; hidden channels are 50001", async () => {
  await withEmulator(opts, async (emu) => {
    const g = emu.state.guild(GUILD);
    const info = [...g.channels.values()].find((c) => c.name === "Information")!;
    strictEqual((await api(emu, "DELETE", Routes.channel(info.id))).status, 200);
    ok([...g.channels.values()].every((c) => c.parent_id !== info.id));
    const staff = [...g.channels.values()].find((c) => c.name === "staff")!;
    const hidden = await api<{ code: number }>(emu, "PATCH", Routes.channel(staff.id), {
      body: { topic: "x" },
    });
    strictEqual(hidden.status, 403);
    strictEqual(hidden.body.code, 50001);
  });
});

Deno.test("permission overwrites: put, replace, delete and checks", async () => {
  await withEmulator(opts, async (emu) => {
    const g = emu.state.guild(GUILD);
    const general = [...g.channels.values()].find((c) => c.name === "general")!;
    const role = g.ethosRoles!.verified;
    const put = await api(emu, "PUT", Routes.channelPermission(general.id, role), {
      body: { type: 0, allow: P.ViewChannel.toString(), deny: "0" },
    });
    strictEqual(put.status, 204);
    await api(emu, "PUT", Routes.channelPermission(general.id, role), {
      body: { type: 0, allow: "0", deny: P.SendMessages.toString() },
    });
    const mine = general.permission_overwrites.filter((o) => o.id === role);
    deepStrictEqual(mine, [{ id: role, type: 0, allow: "0", deny: P.SendMessages.toString() }]);
    const unknown = await api<{ code: number }>(
      emu,
      "PUT",
      Routes.channelPermission(general.id, "123456789012345678"),
      {
        body: { type: 0 },
      },
    );
    strictEqual(unknown.body.code, 10011);
    const noType = await api<{ code: number }>(
      emu,
      "PUT",
      Routes.channelPermission(general.id, role),
      { body: {} },
    );
    strictEqual(noType.body.code, 50035);
    strictEqual((await api(emu, "DELETE", Routes.channelPermission(general.id, role))).status, 204);
    strictEqual(
      (await api<{ code: number }>(emu, "DELETE", Routes.channelPermission(general.id, role))).body
        .code,
      10009,
    );
  });
});
