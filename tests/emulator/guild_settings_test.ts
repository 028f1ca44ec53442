import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { ChannelType, PermissionFlagsBits as P, Routes } from "discord-api-types/v10";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

type GuildBody = Record<string, unknown>;

Deno.test("PATCH /guilds/{id} edits the settings and GET shows them", async () => {
  await withEmulator({ guilds: [{ members: 5 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const voice = [...g.channels.values()].find((c) => c.type === ChannelType.GuildVoice)!;
    const text = [...g.channels.values()].find((c) => c.type === ChannelType.GuildText)!;
    const res = await api<GuildBody>(emu, "PATCH", Routes.guild(GUILD), {
      body: {
        verification_level: 3,
        default_message_notifications: 0,
        explicit_content_filter: 1,
        afk_channel_id: voice.id,
        afk_timeout: 900,
        system_channel_id: text.id,
        system_channel_flags: 5,
        preferred_locale: "fr",
      },
      reason: "restore",
    });
    strictEqual(res.status, 200);
    const got = (await api<GuildBody>(emu, "GET", Routes.guild(GUILD))).body;
    deepStrictEqual(
      [
        got.verification_level,
        got.default_message_notifications,
        got.explicit_content_filter,
        got.afk_channel_id,
        got.afk_timeout,
        got.system_channel_id,
        got.system_channel_flags,
        got.preferred_locale,
      ],
      [3, 0, 1, voice.id, 900, text.id, 5, "fr"],
    );
    strictEqual(emu.stats.writesTo("PATCH /guilds/:guild").length, 1);
    // Deleting the AFK channel clears the setting, as on Discord.
    emu.state.deleteChannel(voice.id);
    strictEqual((await api<GuildBody>(emu, "GET", Routes.guild(GUILD))).body.afk_channel_id, null);
  });
});

Deno.test("PATCH /guilds/{id} validates fields and needs Manage Server", async () => {
  await withEmulator({ guilds: [{ members: 5 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const text = [...g.channels.values()].find((c) => c.type === ChannelType.GuildText)!;
    const bad = await api<{ code: number; errors: Record<string, unknown> }>(
      emu,
      "PATCH",
      Routes.guild(GUILD),
      { body: { verification_level: 9, afk_timeout: 61, afk_channel_id: text.id } },
    );
    strictEqual(bad.status, 400);
    strictEqual(bad.body.code, 50035);
    deepStrictEqual(Object.keys(bad.body.errors).sort(), [
      "afk_channel_id",
      "afk_timeout",
      "verification_level",
    ]);
    strictEqual(g.settings.verification_level, 1);
    // Without Manage Server on the bot's role: 50013.
    const botRole = g.roles.get(g.botRole!)!;
    botRole.permissions = (BigInt(botRole.permissions) & ~P.ManageGuild).toString();
    const denied = await api<{ code: number }>(emu, "PATCH", Routes.guild(GUILD), {
      body: { verification_level: 2 },
    });
    strictEqual(denied.status, 403);
    strictEqual(denied.body.code, 50013);
  });
});
