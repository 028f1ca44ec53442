/**
 * lib/backup/restore_members.ts: the members phase against the emulator. Each live member's
 * missing roles come back in one call (with rewind, the roles gained since go); bots, members not
 * in the backup and unchanged ones are counted, not written; a chunk stops at its limit and the
 * next one goes on after its cursor, which only ever passes members that are done.
 */
import assert from "node:assert/strict";
import {
  captureNow,
  GUILD,
  refusedBy,
  restoreCheckpoint,
  restoreRunOf,
  withGuild,
} from "./_jobs.ts";
import { readLiveGuild } from "../../lib/backup/restore_live.ts";
import { restoreMembers } from "../../lib/backup/restore_members.ts";
import type { RestoreCheckpoint } from "../../lib/backup/restore_run.ts";
import type { Emulator } from "../emulator/server.ts";
import type { MemoryDeps } from "../_deps.ts";

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/** The members whose roles were written, in id order (one entry per write). */
const written = (emu: Emulator) =>
  emu.stats.writes.filter((w) => w.route.includes("/members/")).map((w) => w.path.split("/")[4])
    .sort(byId);

/** Takes role `roleId` from the first `n` human holders (in id order); returns their ids. */
function takeRole(emu: Emulator, roleId: string, n: number, from = 0): string[] {
  const g = emu.state.guild(GUILD);
  const holders = [...g.members.values()]
    .filter((m) => !m.bot && m.id !== g.ownerId && m.roles.includes(roleId))
    .sort((a, b) => byId(a.id, b.id))
    .slice(from, from + n);
  for (const m of holders) {
    emu.state.setMemberRoles(GUILD, m.id, m.roles.filter((r) => r !== roleId));
  }
  return holders.map((m) => m.id);
}

async function members(
  deps: MemoryDeps,
  cp: RestoreCheckpoint,
  o: { limit?: number; signal?: AbortSignal } = {},
) {
  const { run, chunk } = await restoreRunOf(deps, cp, o);
  const done = await restoreMembers(run, await readLiveGuild(deps, GUILD));
  return { done, run, chunk };
}

const membersOnly = (o: Partial<RestoreCheckpoint> = {}) =>
  restoreCheckpoint({ parts: ["members"], phase: "members", ...o });

Deno.test("members: missing roles come back, one write each; the rest is counted, not written", () =>
  withGuild({ members: 40, roles: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    await captureNow(deps);
    const [r1] = g.extraRoles;
    const lost = takeRole(emu, r1, 3);
    assert.equal(lost.length, 3);
    const stranger = emu.state.addMember(GUILD, { roles: [] });
    emu.stats.reset();

    const { done, run, chunk } = await members(deps, membersOnly());
    assert.equal(done, true);
    assert.deepStrictEqual(written(emu), lost);
    for (const id of lost) assert.ok(emu.state.memberRoles(GUILD, id)!.includes(r1), id);
    const all = [...g.members.values()];
    const bots = all.filter((m) => m.bot).length;
    const humans = all.length - bots;
    assert.deepStrictEqual(chunk.counters(), {
      "members.changed": 3,
      "members.roles_added": 3,
      "members.bots": bots,
      "members.not_in_backup": 1,
      "members.unchanged": humans - 3 - 1,
    });
    const last = all.map((m) => m.id).sort(byId).at(-1)!;
    assert.equal(run.cp.cursor, last);
    assert.ok(byId(stranger.id, last) <= 0);
    const processed = chunk.updates.reduce((n, u) => n + (u.processed ?? 0), 0);
    assert.equal(processed, all.length);
  }));

Deno.test("members: roles gained since the backup stay, unless the restore rewinds", () =>
  withGuild({ members: 30, roles: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    await captureNow(deps);
    const [, r2] = g.extraRoles;
    const gainer = [...g.members.values()].find((m) =>
      !m.bot && m.id !== g.ownerId && !m.roles.includes(r2)
    )!;
    emu.state.setMemberRoles(GUILD, gainer.id, [...gainer.roles, r2]);
    emu.stats.reset();

    const plain = await members(deps, membersOnly());
    assert.equal(plain.chunk.counters()["members.changed"], undefined);
    assert.deepStrictEqual(written(emu), []);
    assert.ok(emu.state.memberRoles(GUILD, gainer.id)!.includes(r2));

    const rewound = await members(deps, membersOnly({ rewind: true }));
    const counters = rewound.chunk.counters();
    assert.deepStrictEqual([counters["members.changed"], counters["members.roles_removed"]], [
      1,
      1,
    ]);
    assert.deepStrictEqual(written(emu), [gainer.id]);
    assert.ok(!emu.state.memberRoles(GUILD, gainer.id)!.includes(r2));
  }));

Deno.test("members: a chunk stops at its limit; the next goes on after the cursor, writing nothing twice", () =>
  withGuild({ members: 1_500, roles: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    await captureNow(deps);
    const [r1] = g.extraRoles;
    const lost = takeRole(emu, r1, 4).concat(takeRole(emu, r1, 4, 200));
    emu.stats.reset();

    const first = await members(deps, membersOnly(), { limit: 1_000 });
    assert.equal(first.done, false);
    const cursor = first.run.cp.cursor;
    const sorted = [...g.members.values()].map((m) => m.id).sort(byId);
    assert.equal(cursor, sorted[999], "a page of 1000, then the limit");
    assert.deepStrictEqual(written(emu), lost.filter((id) => byId(id, cursor) <= 0));

    const next = await members(deps, first.chunk.checkpoint() as RestoreCheckpoint);
    assert.equal(next.done, true);
    assert.deepStrictEqual(written(emu), [...lost].sort(byId));
    for (const id of lost) assert.ok(emu.state.memberRoles(GUILD, id)!.includes(r1), id);
  }));

Deno.test("members: a chunk stopped at once reads nothing and writes nothing", () =>
  withGuild({ members: 20, roles: 3 }, async ({ emu, deps }) => {
    await captureNow(deps);
    takeRole(emu, emu.state.guild(GUILD).extraRoles[0], 2);
    emu.stats.reset();
    const { done, run, chunk } = await members(deps, membersOnly(), {
      signal: AbortSignal.abort(),
    });
    assert.equal(done, false);
    assert.equal(emu.stats.totalRequests > 0, true, "the live guild is read");
    assert.deepStrictEqual(written(emu), []);
    assert.deepStrictEqual([run.cp.cursor, chunk.updates], ["0", []]);
  }));

/** Stops the chunk (`stop`) as soon as a page of members is read, once `armed`. */
function stopAfterListing(stop: AbortController, armed: { on: boolean }): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    if (
      armed.on && req.method === "GET" && /\/guilds\/\d+\/members$/.test(new URL(req.url).pathname)
    ) {
      stop.abort();
    }
    return res;
  };
}

const stop = new AbortController();
const armed = { on: false };

Deno.test("members: stopped after reading a page, the cursor passes only members before the first left to do", () =>
  withGuild({ members: 40, roles: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    const [r1] = g.extraRoles;
    const humans = [...g.members.values()].filter((m) => !m.bot && m.id !== g.ownerId)
      .sort((a, b) => byId(a.id, b.id));
    // The eleventh human and a later one hold r1 in the backup and lose it after.
    const lost = [humans[10].id, humans[20].id];
    for (const id of lost) {
      emu.state.setMemberRoles(GUILD, id, [...emu.state.memberRoles(GUILD, id)!, r1]);
    }
    await captureNow(deps);
    for (const id of lost) {
      emu.state.setMemberRoles(
        GUILD,
        id,
        emu.state.memberRoles(GUILD, id)!.filter((r) => r !== r1),
      );
    }
    emu.stats.reset();
    armed.on = true;
    const { done, run, chunk } = await members(deps, membersOnly(), { signal: stop.signal });
    assert.equal(done, false);
    assert.deepStrictEqual(written(emu), []);
    const all = [...g.members.values()].map((m) => m.id).sort(byId);
    const before = all.filter((id) => byId(id, lost[0]) < 0);
    assert.ok(before.length >= 10);
    assert.equal(run.cp.cursor, before.at(-1));
    assert.equal(chunk.updates.reduce((n, u) => n + (u.processed ?? 0), 0), before.length);
  }, { fetch: stopAfterListing(stop, armed) }));

/** Refuses role writes for one member with 403 Missing Permissions. */
const refusing = (userId: string) =>
  refusedBy(
    (req) => req.method !== "GET" && new URL(req.url).pathname.includes(`/members/${userId}`),
    { message: "Missing Permissions", code: 50013 },
  );

const TARGET = "900000000000000123";

Deno.test("members: a refused write is counted and described; the others go on, the cursor passes it", () =>
  withGuild({ members: 20, roles: 3 }, async ({ emu, deps }) => {
    const g = emu.state.guild(GUILD);
    const [r1] = g.extraRoles;
    emu.state.addMember(GUILD, { id: TARGET, roles: [r1] });
    await captureNow(deps);
    emu.state.setMemberRoles(GUILD, TARGET, []);
    const lost = takeRole(emu, r1, 2);
    emu.stats.reset();
    const { done, run, chunk } = await members(deps, membersOnly());
    assert.equal(done, true);
    const counters = chunk.counters();
    assert.equal(counters["failed.members"], 1);
    assert.equal(counters["members.changed"], 2);
    assert.deepStrictEqual(written(emu), lost);
    assert.deepStrictEqual(chunk.updates.flatMap((u) => u.warnings ?? []), [
      `member ${TARGET}: 403 50013 Missing Permissions`,
    ]);
    assert.equal(run.cp.cursor, [...g.members.values()].map((m) => m.id).sort(byId).at(-1));
  }, { fetch: refusing(TARGET) }));
