/**
 * The typed route wrappers (lib/discord/api.ts). First against a recording fake: each wrapper's
 * method, path (ids encoded), query, body and audit-log reason, the member page's bounds and the
 * member walk's paging. Then against the Discord emulator (real HTTP on loopback): the wrappers
 * cover the bot's routes with Discord's answers, and a walk over 5,000 members.
 * Kept in one file past 400 lines: one case per wrapper, sharing the recording fake and the
 * emulator fixture.
 */
import assert from "node:assert/strict";
import type { APIApplicationCommand } from "discord-api-types/v10";
import { memoryLogger } from "../_log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import * as api from "../../lib/discord/api.ts";
import { type Call, caught, FakeDiscord, json, ManualClock } from "./_fake_discord.ts";
import { GUILD, humans, withEmu } from "./_emulator.ts";

const TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm";
const G = "200000000000000001";
const U = "300000000000000001";
const R = "500000000000000001";
const C = "600000000000000001";
const APP = "100000000000000001";

// --- against a recording fake ----------------------------------------------------------------

/**
 * A client over a fake that answers `answer(call)` (default `{ok: true}`) and records each call;
 * its system clock and a high global limit keep the tests free of pacing waits.
 */
function recorder(answer: (call: Call) => unknown = () => ({ ok: true })) {
  const fake = new FakeDiscord(new ManualClock(), {
    respond: (call) => json(200, answer(call)),
  });
  const rest = new RestClient({
    token: TOKEN,
    apiBase: "https://discord.test/api/v10",
    fetch: fake.fetch,
    log: memoryLogger(),
    globalLimit: 10_000,
  });
  /** The one call recorded since the last `take()`, as the wrapper sent it. */
  const take = () => {
    assert.equal(fake.calls.length, 1, fake.calls.map((c) => c.url).join(", "));
    const call = fake.calls.pop()!;
    const url = new URL(call.url);
    return {
      line: `${call.method} ${call.path}`,
      query: Object.fromEntries(url.searchParams),
      body: call.body === null ? undefined : JSON.parse(call.body),
      reason: call.headers.get("x-audit-log-reason"),
    };
  };
  return { fake, rest, take };
}

async function withRecorder(
  fn: (r: ReturnType<typeof recorder>) => Promise<void>,
  answer?: (call: Call) => unknown,
): Promise<void> {
  const r = recorder(answer);
  try {
    await fn(r);
  } finally {
    await r.rest.close();
  }
}

Deno.test("api: member reads, with the page size kept within 1..1000", async () => {
  await withRecorder(async ({ rest, take }) => {
    await api.listMembers(rest, G);
    assert.deepStrictEqual(take(), {
      line: `GET /guilds/${G}/members`,
      query: { limit: "1000", after: "0" },
      body: undefined,
      reason: null,
    });
    for (
      const [limit, sent] of [[1, "1"], [250, "250"], [0, "1"], [-5, "1"], [5000, "1000"]] as const
    ) {
      await api.listMembers(rest, G, { limit, after: U });
      assert.deepStrictEqual(take().query, { limit: sent, after: U }, `limit ${limit}`);
    }
    const member = await api.getMember(rest, G, U);
    assert.deepStrictEqual(take().line, `GET /guilds/${G}/members/${U}`);
    assert.deepStrictEqual(member, { ok: true }, "the answer as Discord sent it");
  });
});

Deno.test("api: ids are path-encoded, so an id can never reach another route", async () => {
  await withRecorder(async ({ rest, fake, take }) => {
    await api.getMember(rest, "1/../2", "3?x=4#y");
    const call = take();
    assert.equal(call.line, "GET /guilds/1%2F..%2F2/members/3%3Fx%3D4%23y");
    assert.deepStrictEqual(call.query, {});
    await api.removeMemberRole(rest, G, U, "a b", "why");
    assert.equal(take().line, `DELETE /guilds/${G}/members/${U}/roles/a%20b`);
    assert.equal(fake.calls.length, 0);
  });
});

Deno.test("api: member role writes carry the body and the audit-log reason", async () => {
  await withRecorder(async ({ rest, take }) => {
    const out = await api.modifyMemberRoles(rest, G, U, [R, "500000000000000002"], "sync: tier");
    assert.deepStrictEqual(take(), {
      line: `PATCH /guilds/${G}/members/${U}`,
      query: {},
      body: { roles: [R, "500000000000000002"] },
      reason: "sync%3A%20tier",
    });
    assert.deepStrictEqual(out, { ok: true });
    // An empty list is sent as such: it removes every role.
    await api.modifyMemberRoles(rest, G, U, [], "strip");
    assert.deepStrictEqual(take().body, { roles: [] });
    // Single-role calls send no body and answer nothing, whatever Discord's body says.
    assert.equal(await api.addMemberRole(rest, G, U, R, "add it"), undefined);
    assert.deepStrictEqual(take(), {
      line: `PUT /guilds/${G}/members/${U}/roles/${R}`,
      query: {},
      body: undefined,
      reason: "add%20it",
    });
    assert.equal(await api.removeMemberRole(rest, G, U, R, "take it"), undefined);
    assert.deepStrictEqual(take(), {
      line: `DELETE /guilds/${G}/members/${U}/roles/${R}`,
      query: {},
      body: undefined,
      reason: "take%20it",
    });
  });
});

Deno.test("api: guild, role and channel routes", async () => {
  await withRecorder(async ({ rest, take }) => {
    const cases: [() => Promise<unknown>, ReturnType<typeof take>][] = [
      [() => api.getGuild(rest, G), {
        line: `GET /guilds/${G}`,
        query: {},
        body: undefined,
        reason: null,
      }],
      [() => api.getGuild(rest, G, { withCounts: true }), {
        line: `GET /guilds/${G}`,
        query: { with_counts: "true" },
        body: undefined,
        reason: null,
      }],
      [() => api.getRoles(rest, G), {
        line: `GET /guilds/${G}/roles`,
        query: {},
        body: undefined,
        reason: null,
      }],
      [() => api.createRole(rest, G, { name: "Tier", color: 3 }, "create"), {
        line: `POST /guilds/${G}/roles`,
        query: {},
        body: { name: "Tier", color: 3 },
        reason: "create",
      }],
      [() => api.reorderRoles(rest, G, [{ id: R, position: 3 }], "move"), {
        line: `PATCH /guilds/${G}/roles`,
        query: {},
        body: [{ id: R, position: 3 }],
        reason: "move",
      }],
      [() => api.getChannels(rest, G), {
        line: `GET /guilds/${G}/channels`,
        query: {},
        body: undefined,
        reason: null,
      }],
      [() => api.createChannel(rest, G, { name: "ethos", type: 0 }, "open"), {
        line: `POST /guilds/${G}/channels`,
        query: {},
        body: { name: "ethos", type: 0 },
        reason: "open",
      }],
      [() => api.modifyChannel(rest, C, { name: "ethos-2" }, "rename channel"), {
        line: `PATCH /channels/${C}`,
        query: {},
        body: { name: "ethos-2" },
        reason: "rename%20channel",
      }],
      [() => api.editChannelPermission(rest, C, R, { type: 0, allow: "1024" }, "perm"), {
        line: `PUT /channels/${C}/permissions/${R}`,
        query: {},
        body: { type: 0, allow: "1024" },
        reason: "perm",
      }],
      // A run summary in the log channel: a message is not an audit-logged write.
      [() => api.createMessage(rest, C, { content: "done", allowed_mentions: { parse: [] } }), {
        line: `POST /channels/${C}/messages`,
        query: {},
        body: { content: "done", allowed_mentions: { parse: [] } },
        reason: null,
      }],
      [() => api.getEmojis(rest, G), {
        line: `GET /guilds/${G}/emojis`,
        query: {},
        body: undefined,
        reason: null,
      }],
      [() => api.getStickers(rest, G), {
        line: `GET /guilds/${G}/stickers`,
        query: {},
        body: undefined,
        reason: null,
      }],
      [() => api.getCurrentUser(rest), {
        line: "GET /users/@me",
        query: {},
        body: undefined,
        reason: null,
      }],
    ];
    for (const [send, expected] of cases) {
      await send();
      assert.deepStrictEqual(take(), expected, expected.line);
    }
    assert.equal(await api.editChannelPermission(rest, C, R, { type: 1 }, "x"), undefined);
    take();
  });
});

Deno.test("api: application commands, global or one guild's, localisations included", async () => {
  await withRecorder(async ({ rest, take }) => {
    await api.getCommands(rest, APP);
    assert.deepStrictEqual(take(), {
      line: `GET /applications/${APP}/commands`,
      query: { with_localizations: "true" },
      body: undefined,
      reason: null,
    });
    await api.getCommands(rest, APP, G);
    assert.deepStrictEqual(take().line, `GET /applications/${APP}/guilds/${G}/commands`);
    const set = [{ name: "ethos", description: "Ethos score", type: 1 as const }];
    await api.bulkOverwriteCommands(rest, APP, set);
    assert.deepStrictEqual(take(), {
      line: `PUT /applications/${APP}/commands`,
      query: {},
      body: set,
      reason: null,
    });
    await api.bulkOverwriteCommands(rest, APP, [], G);
    assert.deepStrictEqual(take(), {
      line: `PUT /applications/${APP}/guilds/${G}/commands`,
      query: {},
      body: [],
      reason: null,
    });
  });
});

Deno.test("api: a wrapper passes the caller's signal on", async () => {
  await withRecorder(async ({ rest, fake }) => {
    const reason = new Error("the chunk stopped");
    const signal = AbortSignal.abort(reason);
    assert.equal(await caught(api.getMember(rest, G, U, { signal })), reason);
    assert.equal(await caught(api.addMemberRole(rest, G, U, R, "x", { signal })), reason);
    assert.equal(await caught(api.getCommands(rest, APP, G, { signal })), reason);
    assert.equal(await caught(api.listMembers(rest, G, {}, { signal })), reason);
    assert.equal(fake.calls.length, 0);
  });
});

// --- against the emulator --------------------------------------------------------------------

Deno.test("emulator: pages through 5,000 members with zero 429s", async () => {
  await withEmu({
    guilds: [{ members: 5000 }],
    limits: { memberList: { limit: 2, windowMs: 500 } },
  }, async (emu, client) => {
    const rest = client();
    // Pages of 1,000 after the last id, until a short page, as the sync and the backup read them.
    const seen: string[] = [];
    for (let after = "0";;) {
      const page = await api.listMembers(rest, GUILD, { after });
      seen.push(...page.map((m) => m.user.id));
      if (page.length < 1000) break;
      after = seen[seen.length - 1];
    }
    const expected = emu.state.guild(GUILD).members.page("0", 100_000).map((m) => m.id);
    assert.ok(expected.length >= 5000);
    assert.deepStrictEqual(seen, expected);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
    assert.deepStrictEqual(
      emu.stats.requests["GET /guilds/:guild/members"],
      Math.ceil((expected.length + 1) / 1000),
    );
  });
});

Deno.test("emulator: typed wrappers cover the bot's routes and pass audit-log reasons", async () => {
  await withEmu({ guilds: [{ members: 10 }] }, async (emu, client) => {
    const rest = client();
    const g = emu.state.guild(GUILD);
    const ethos = g.ethosRoles!;

    // The bot user (sync reads its id once to find its own member and roles).
    const me = await api.getCurrentUser(rest);
    assert.deepStrictEqual([me.id, me.username, me.bot], [emu.botUserId, "Ethos Bot", true]);

    // The guild: owner (hierarchy), roles, emojis, stickers; member counts only when asked.
    const guild = await api.getGuild(rest, GUILD, { withCounts: true });
    assert.deepStrictEqual([guild.id, guild.name, guild.owner_id], [
      GUILD,
      "Emulated Guild 1",
      g.ownerId,
    ]);
    assert.deepStrictEqual(guild.approximate_member_count, 14); // 10 people, 3 other bots and the bot
    assert.deepStrictEqual(guild.approximate_presence_count, 4);
    assert.deepStrictEqual(guild.roles.map((r) => r.id), g.sortedRoles().map((r) => r.id));
    assert.deepStrictEqual(guild.emojis.map((e) => e.name), ["ethos", "verified_check", "party"]);
    assert.deepStrictEqual(guild.stickers?.map((s) => s.name), ["wave"]);
    const plain = await api.getGuild(rest, GUILD);
    assert.deepStrictEqual(plain.approximate_member_count, undefined);

    // Roles, lowest first, with the fields the hierarchy checks read.
    const seeded = [
      "@everyone",
      "Role 1",
      "Role 2",
      "Role 3",
      "Untrusted",
      "Questionable",
      "Neutral",
      "Reputable",
      "Exemplary",
      "Ethos Profile",
      "Ethos Verified",
      "Helper Bot",
      "Ethos Bot",
      "Admin",
    ];
    const before = await api.getRoles(rest, GUILD);
    assert.deepStrictEqual(before.map((r) => r.name), seeded);
    assert.deepStrictEqual(before.map((r) => r.position), seeded.map((_, i) => i));
    assert.deepStrictEqual(before[0].id, GUILD);
    assert.deepStrictEqual(before.find((r) => r.name === "Neutral")!.id, ethos.neutral);
    const botRole = before.find((r) => r.id === g.botRole)!;
    assert.deepStrictEqual([botRole.name, botRole.managed, botRole.tags?.bot_id], [
      "Ethos Bot",
      true,
      emu.botUserId,
    ]);
    assert.deepStrictEqual(before.filter((r) => r.managed).map((r) => r.name), [
      "Helper Bot",
      "Ethos Bot",
    ]);

    const role = await api.createRole(rest, GUILD, { name: "Ethos Test" }, "create role");
    assert.deepStrictEqual([role.name, role.permissions, role.managed, role.position], [
      "Ethos Test",
      "0",
      false,
      1,
    ]);
    assert.ok(!before.some((r) => r.id === role.id), "a new id");
    const after = await api.getRoles(rest, GUILD);
    assert.deepStrictEqual(after.length, seeded.length + 1);
    assert.deepStrictEqual(after.filter((r) => r.id === role.id).map((r) => r.name), [
      "Ethos Test",
    ]);

    // Channels by position (ties in creation order); the new one goes last with its overwrite.
    const channel = await api.createChannel(rest, GUILD, { name: "ethos", type: 0 }, "channel");
    assert.deepStrictEqual([
      channel.name,
      channel.type,
      (channel as { guild_id?: string }).guild_id,
    ], [
      "ethos",
      0,
      GUILD,
    ]);
    const renamed = await api.modifyChannel(
      rest,
      channel.id,
      { name: "ethos-2" },
      "rename channel",
    );
    assert.deepStrictEqual([renamed.id, renamed.name], [channel.id, "ethos-2"]);
    await api.editChannelPermission(rest, channel.id, role.id, {
      type: 0,
      allow: "1024",
      deny: "0",
    }, "perm");
    const channels = await api.getChannels(rest, GUILD);
    assert.deepStrictEqual(channels.map((c) => c.name), [
      "Information",
      "welcome",
      "rules",
      "Community",
      "verified-lounge",
      "staff",
      "general",
      "Voice Chat",
      "ideas",
      "Town Hall",
      "extra-1",
      "extra-2",
      "ethos-2",
    ]);
    const mine = channels.at(-1)!;
    assert.deepStrictEqual(mine.id, channel.id);
    assert.deepStrictEqual((mine as { permission_overwrites?: unknown }).permission_overwrites, [
      { id: role.id, type: 0, allow: "1024", deny: "0" },
    ]);

    // Emojis and stickers, in the shapes a backup keeps.
    const emojis = await api.getEmojis(rest, GUILD);
    assert.deepStrictEqual(emojis, g.emojis);
    assert.deepStrictEqual(emojis.map((e) => [e.name, e.animated]), [
      ["ethos", false],
      ["verified_check", false],
      ["party", true],
    ]);
    const stickers = await api.getStickers(rest, GUILD);
    assert.deepStrictEqual(stickers, g.stickers);
    assert.deepStrictEqual(stickers.map((s) => [s.name, s.tags, s.description, s.format_type]), [
      ["wave", "wave", "A friendly wave", 1],
    ]);

    // Member roles, one at a time.
    const [a] = humans(emu, 1);
    await api.addMemberRole(rest, GUILD, a, role.id, "add");
    const held = await api.getMember(rest, GUILD, a);
    assert.deepStrictEqual([held.user.id, held.roles], [a, [role.id]]);
    await api.removeMemberRole(rest, GUILD, a, role.id, "remove");
    assert.deepStrictEqual((await api.getMember(rest, GUILD, a)).roles, []);

    // Commands of the guild scope.
    const cmds = await api.bulkOverwriteCommands(rest, emu.applicationId, [
      { name: "ethos", description: "Ethos score", type: 1 },
    ], GUILD);
    assert.deepStrictEqual(
      cmds.map((c) => [c.name, c.description, c.type, c.application_id, c.guild_id]),
      [
        ["ethos", "Ethos score", 1, emu.applicationId, GUILD],
      ],
    );
    const commands = (guild?: string) =>
      rest.get<APIApplicationCommand[]>(
        guild
          ? `/applications/${emu.applicationId}/guilds/${guild}/commands`
          : `/applications/${emu.applicationId}/commands`,
      );
    const listed = await commands(GUILD);
    assert.deepStrictEqual(listed.map((c) => [c.id, c.name]), [[cmds[0].id, "ethos"]]);
    assert.deepStrictEqual(
      await commands(),
      [],
      "no global commands",
    );

    // Every guild write carried its audit-log reason, in the order they were made.
    const guildWrites = emu.stats.writes.filter((w) => !w.route.includes("/applications/"));
    assert.deepStrictEqual(guildWrites.map((w) => [w.route, w.reason]), [
      ["POST /guilds/:guild/roles", "create role"],
      ["POST /guilds/:guild/channels", "channel"],
      ["PATCH /channels/:channel", "rename channel"],
      ["PUT /channels/:channel/permissions/:overwrite", "perm"],
      ["PUT /guilds/:guild/members/:user/roles/:role", "add"],
      ["DELETE /guilds/:guild/members/:user/roles/:role", "remove"],
    ]);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  });
});
