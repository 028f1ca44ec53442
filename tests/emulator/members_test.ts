import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import type { APIGuildMember } from "discord-api-types/v10";
import { Routes } from "discord-api-types/v10";
import { compareIds } from "./ids.ts";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

Deno.test("member list pages in ascending id order with after and limit", async () => {
  await withEmulator({ guilds: [{ members: 2500 }], uniformRate: 10_000 }, async (emu) => {
    const seen: string[] = [];
    let after = "0";
    for (;;) {
      const res = await api<APIGuildMember[]>(
        emu,
        "GET",
        `${Routes.guildMembers(GUILD)}?limit=1000&after=${after}`,
      );
      strictEqual(res.status, 200);
      ok(res.body.length <= 1000);
      if (res.body.length === 0) break;
      for (const m of res.body) seen.push(m.user.id);
      after = res.body[res.body.length - 1].user.id;
    }
    const guild = emu.state.guild(GUILD);
    strictEqual(seen.length, guild.members.size);
    deepStrictEqual(seen, [...seen].sort(compareIds));
    strictEqual(new Set(seen).size, seen.length);
  });
});

Deno.test("member list defaults to one member and validates limit and after", async () => {
  await withEmulator({ guilds: [{ members: 20 }] }, async (emu) => {
    const one = await api<APIGuildMember[]>(emu, "GET", Routes.guildMembers(GUILD));
    strictEqual(one.body.length, 1);
    strictEqual(one.body[0].user.id, emu.state.guild(GUILD).members.ids()[0]);
    for (
      const [q, code] of [["limit=0", "NUMBER_TYPE_MIN"], ["limit=1001", "NUMBER_TYPE_MAX"], [
        "limit=abc",
        "NUMBER_TYPE_COERCE",
      ], ["after=xyz", "NUMBER_TYPE_COERCE"]]
    ) {
      const bad = await api<
        { code: number; errors: Record<string, { _errors: { code: string }[] }> }
      >(
        emu,
        "GET",
        `${Routes.guildMembers(GUILD)}?${q}`,
      );
      strictEqual(bad.status, 400, q);
      strictEqual(bad.body.code, 50035);
      strictEqual(Object.values(bad.body.errors)[0]._errors[0].code, code);
    }
    const ids = emu.state.guild(GUILD).members.ids();
    const mid = await api<APIGuildMember[]>(
      emu,
      "GET",
      `${Routes.guildMembers(GUILD)}?limit=3&after=${ids[4]}`,
    );
    deepStrictEqual(mid.body.map((m) => m.user.id), ids.slice(5, 8));
    // after does not need to be a member id: the next higher ids follow.
    const between = (BigInt(ids[4]) + 1n).toString();
    const next = await api<APIGuildMember[]>(
      emu,
      "GET",
      `${Routes.guildMembers(GUILD)}?limit=1&after=${between}`,
    );
    strictEqual(next.body[0].user.id, ids[5]);
  });
});

Deno.test("member objects have Discord's shape; unknown member, guild and bad ids", async () => {
  await withEmulator({ guilds: [{ members: 5 }] }, async (emu) => {
    const id = emu.state.guild(GUILD).members.ids()[0];
    const m = await api<APIGuildMember>(emu, "GET", Routes.guildMember(GUILD, id));
    strictEqual(m.status, 200);
    strictEqual(m.body.user.id, id);
    ok(Array.isArray(m.body.roles));
    ok(typeof m.body.joined_at === "string");
    strictEqual(m.body.deaf, false);

    const unknownMember = await api<{ code: number; message: string }>(
      emu,
      "GET",
      Routes.guildMember(GUILD, "123456789012345678"),
    );
    strictEqual(unknownMember.status, 404);
    deepStrictEqual(unknownMember.body, { message: "Unknown Member", code: 10007 });

    const unknownGuild = await api<{ code: number }>(
      emu,
      "GET",
      Routes.guildMembers("999999999999999999"),
    );
    strictEqual(unknownGuild.status, 404);
    strictEqual(unknownGuild.body.code, 10004);

    const badId = await api<{ code: number }>(emu, "GET", Routes.guildMember(GUILD, "nope"));
    strictEqual(badId.status, 400);
    strictEqual(badId.body.code, 50035);
  });
});

Deno.test("without the members intent, listing members is 403 50001", async () => {
  await withEmulator({ guilds: [{ members: 5 }], membersIntent: false }, async (emu) => {
    const res = await api<{ code: number }>(emu, "GET", Routes.guildMembers(GUILD));
    strictEqual(res.status, 403);
    strictEqual(res.body.code, 50001);
  });
});

Deno.test("state helpers add, remove and re-role members in id order", async () => {
  await withEmulator({ guilds: [{ members: 3 }] }, async (emu) => {
    const g = emu.state.guild(GUILD);
    const verified = g.ethosRoles!.verified;
    const added = emu.state.addMember(GUILD, { id: "150000000000000000", roles: [verified] });
    deepStrictEqual(emu.state.memberRoles(GUILD, added.id), [verified]);
    const ids = g.members.ids();
    deepStrictEqual([...ids], [...ids].sort(compareIds));
    emu.state.setMemberRoles(GUILD, added.id, []);
    deepStrictEqual(emu.state.memberRoles(GUILD, added.id), []);
    ok(emu.state.removeMember(GUILD, added.id));
    strictEqual(emu.state.memberRoles(GUILD, added.id), undefined);
    const res = await api(emu, "GET", Routes.guildMember(GUILD, added.id));
    strictEqual(res.status, 404);
  });
});

Deno.test("member search matches username or nick prefixes", async () => {
  await withEmulator({ guilds: [{ members: 30 }] }, async (emu) => {
    const res = await api<APIGuildMember[]>(
      emu,
      "GET",
      `${Routes.guildMembersSearch(GUILD)}?query=USER_1&limit=100`,
    );
    strictEqual(res.status, 200);
    ok(res.body.length >= 1);
    ok(
      res.body.every((m) =>
        m.user.username.startsWith("user_1") || m.nick?.toLowerCase().startsWith("user_1")
      ),
    );
  });
});
