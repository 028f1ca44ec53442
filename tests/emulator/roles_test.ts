import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  type APIGuildMember,
  type APIRole,
  PermissionFlagsBits as P,
  Routes,
} from "discord-api-types/v10";
import { compareRoles, guildPermissions, highestRole } from "./permissions.ts";
import type { Emulator } from "./server.ts";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

function human(emu: Emulator): string {
  const g = emu.state.guild(GUILD);
  return g.members.ids().find((id) => !g.members.get(id)!.bot && id !== g.ownerId)!;
}

Deno.test("seeded roles: Ethos roles below the bot, one role above, one managed", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const bot = g.roles.get(g.botRole!)!;
    ok(has(BigInt(bot.permissions), P.ManageRoles));
    ok(bot.managed);
    strictEqual(highestRole(g, emu.botUserId).id, bot.id);
    for (const id of Object.values(g.ethosRoles!)) ok(compareRoles(g.roles.get(id)!, bot) < 0);
    ok(compareRoles(g.roles.get(g.aboveBotRole!)!, bot) > 0);
    const managed = g.roles.get(g.managedRole!)!;
    ok(managed.managed && compareRoles(managed, bot) < 0);
    ok(!has(guildPermissions(g, emu.botUserId), P.Administrator));
    const roles = await api<APIRole[]>(emu, "GET", Routes.guildRoles(GUILD));
    strictEqual(roles.body.length, g.roles.size);
    strictEqual(roles.body[0].id, GUILD);
  });
});

function has(perms: bigint, flag: bigint) {
  return (perms & flag) === flag;
}

Deno.test("hierarchy: roles at or above the bot's and managed roles answer 403 50013", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const user = human(emu);
    for (const role of [g.aboveBotRole!, g.botRole!, g.managedRole!]) {
      for (const method of ["PUT", "DELETE"]) {
        const res = await api<{ code: number; message: string }>(
          emu,
          method,
          Routes.guildMemberRole(GUILD, user, role),
        );
        strictEqual(res.status, 403, `${method} ${role}`);
        deepStrictEqual(res.body, { message: "Missing Permissions", code: 50013 });
      }
    }
    const patch = await api<{ code: number }>(emu, "PATCH", Routes.guildMember(GUILD, user), {
      body: { roles: [g.aboveBotRole] },
    });
    strictEqual(patch.status, 403);
    strictEqual(patch.body.code, 50013);
    strictEqual(emu.stats.writes.length, 0);
  });
});

Deno.test("PATCH may keep an unmanageable role untouched while changing others", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const user = human(emu);
    const { verified, exemplary } = g.ethosRoles!;
    emu.state.setMemberRoles(GUILD, user, [g.aboveBotRole!, verified]);
    const res = await api<APIGuildMember>(emu, "PATCH", Routes.guildMember(GUILD, user), {
      body: { roles: [g.aboveBotRole, verified, exemplary] },
      reason: "ethos sync: score 2100",
    });
    strictEqual(res.status, 200);
    deepStrictEqual(new Set(res.body.roles), new Set([g.aboveBotRole, verified, exemplary]));
    const [write] = emu.stats.writes;
    strictEqual(write.route, "PATCH /guilds/:guild/members/:user");
    strictEqual(write.reason, "ethos sync: score 2100");
    ok(!write.rolesBefore!.includes(exemplary));
    ok(write.rolesAfter!.includes(exemplary));
    // Dropping the unmanageable role is a change to it: refused.
    const drop = await api(emu, "PATCH", Routes.guildMember(GUILD, user), {
      body: { roles: [verified] },
    });
    strictEqual(drop.status, 403);
  });
});

Deno.test("PATCH with an unknown role answers 10011 and changes nothing", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const user = human(emu);
    const before = emu.state.memberRoles(GUILD, user);
    const res = await api<{ code: number }>(emu, "PATCH", Routes.guildMember(GUILD, user), {
      body: { roles: ["123456789012345678"] },
    });
    strictEqual(res.status, 404);
    strictEqual(res.body.code, 10011);
    deepStrictEqual(emu.state.memberRoles(GUILD, user), before);
    const put = await api<{ code: number }>(
      emu,
      "PUT",
      Routes.guildMemberRole(GUILD, user, "123456789012345678"),
    );
    strictEqual(put.body.code, 10011);
    const unknownMember = await api<{ code: number }>(
      emu,
      "PUT",
      Routes.guildMemberRole(
        GUILD,
        "123456789012345678",
        emu.state.guild(GUILD).ethosRoles!.neutral,
      ),
    );
    strictEqual(unknownMember.body.code, 10007);
  });
});

Deno.test("PUT/DELETE member role write log shows no-op writes", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const user = human(emu);
    const role = g.ethosRoles!.reputable;
    emu.state.setMemberRoles(GUILD, user, []);
    strictEqual((await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, role))).status, 204);
    strictEqual((await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, role))).status, 204);
    deepStrictEqual(emu.state.memberRoles(GUILD, user), [role]);
    strictEqual((await api(emu, "DELETE", Routes.guildMemberRole(GUILD, user, role))).status, 204);
    deepStrictEqual(emu.state.memberRoles(GUILD, user), []);
    strictEqual(emu.stats.writes.length, 3);
    strictEqual(emu.stats.noopRoleWrites().length, 1);
    strictEqual(emu.stats.writesTo("PUT /guilds/:guild/members/:user/roles/:role").length, 2);
  });
});

Deno.test("without MANAGE_ROLES every role change is 50013", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    g.roles.get(g.botRole!)!.permissions = P.ViewChannel.toString();
    const res = await api<{ code: number }>(
      emu,
      "PUT",
      Routes.guildMemberRole(GUILD, human(emu), g.ethosRoles!.neutral),
    );
    strictEqual(res.body.code, 50013);
    const create = await api<{ code: number }>(emu, "POST", Routes.guildRoles(GUILD), {
      body: { name: "x" },
    });
    strictEqual(create.body.code, 50013);
  });
});

Deno.test("role create, edit, reorder and delete follow Discord's rules", async () => {
  await withEmulator({ guilds: [{ members: 10 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const created = await api<APIRole>(emu, "POST", Routes.guildRoles(GUILD), {
      body: {
        name: "Backup",
        color: 0x123456,
        hoist: true,
        permissions: P.SendMessages.toString(),
      },
    });
    strictEqual(created.status, 200);
    strictEqual(created.body.position, 1);
    strictEqual(created.body.colors.primary_color, 0x123456);
    // Granting a permission the bot lacks is refused.
    const tooMuch = await api<{ code: number }>(emu, "POST", Routes.guildRoles(GUILD), {
      body: { name: "Admin2", permissions: P.Administrator.toString() },
    });
    strictEqual(tooMuch.body.code, 50013);
    const badName = await api<{ code: number; errors: unknown }>(
      emu,
      "POST",
      Routes.guildRoles(GUILD),
      {
        body: { name: "x".repeat(101) },
      },
    );
    strictEqual(badName.body.code, 50035);
    const edited = await api<APIRole>(emu, "PATCH", Routes.guildRole(GUILD, created.body.id), {
      body: { name: "Backup 2", mentionable: true },
    });
    strictEqual(edited.body.name, "Backup 2");
    const editAbove = await api(emu, "PATCH", Routes.guildRole(GUILD, g.aboveBotRole!), {
      body: { name: "x" },
    });
    strictEqual(editAbove.status, 403);

    const reordered = await api<APIRole[]>(emu, "PATCH", Routes.guildRoles(GUILD), {
      body: [{ id: created.body.id, position: 3 }],
    });
    strictEqual(reordered.status, 200);
    strictEqual(reordered.body.find((r) => r.id === created.body.id)!.position, 3);
    const positions = reordered.body.map((r) => r.position);
    deepStrictEqual(positions, [...positions].sort((a, b) => a - b));
    strictEqual(new Set(positions).size, positions.length);
    const moveAbove = await api(emu, "PATCH", Routes.guildRoles(GUILD), {
      body: [{ id: created.body.id, position: g.roles.get(g.aboveBotRole!)!.position }],
    });
    strictEqual(moveAbove.status, 403);

    // Deleting removes the role from members and overwrites.
    const user = human(emu);
    emu.state.setMemberRoles(GUILD, user, [created.body.id]);
    const channel = [...g.channels.values()].find((c) => c.name === "general")!;
    channel.permission_overwrites.push({ id: created.body.id, type: 0, allow: "0", deny: "0" });
    strictEqual((await api(emu, "DELETE", Routes.guildRole(GUILD, created.body.id))).status, 204);
    deepStrictEqual(emu.state.memberRoles(GUILD, user), []);
    ok(!channel.permission_overwrites.some((o) => o.id === created.body.id));
    strictEqual(
      (await api<{ code: number }>(emu, "DELETE", Routes.guildRole(GUILD, created.body.id))).body
        .code,
      10011,
    );
    strictEqual(
      (await api<{ code: number }>(emu, "DELETE", Routes.guildRole(GUILD, GUILD))).body.code,
      50028,
    );
    strictEqual((await api(emu, "DELETE", Routes.guildRole(GUILD, g.managedRole!))).status, 403);
  });
});

Deno.test("guild, emojis, stickers and users/@me", async () => {
  await withEmulator({ guilds: [{ members: 42 }] }, async (emu) => {
    const guild = await api<{ id: string; approximate_member_count?: number; roles: unknown[] }>(
      emu,
      "GET",
      `${Routes.guild(GUILD)}?with_counts=true`,
    );
    strictEqual(guild.body.id, GUILD);
    strictEqual(guild.body.approximate_member_count, emu.state.guild(GUILD).members.size);
    const plain = await api<{ approximate_member_count?: number }>(emu, "GET", Routes.guild(GUILD));
    strictEqual(plain.body.approximate_member_count, undefined);
    const emojis = await api<unknown[]>(emu, "GET", Routes.guildEmojis(GUILD));
    strictEqual(emojis.body.length, 3);
    const stickers = await api<unknown[]>(emu, "GET", Routes.guildStickers(GUILD));
    strictEqual(stickers.body.length, 1);
    // A guild the bot has left answers Unknown Guild.
    emu.state.removeMember(GUILD, emu.botUserId);
    strictEqual((await api<{ code: number }>(emu, "GET", Routes.guild(GUILD))).body.code, 10004);
  });
});
