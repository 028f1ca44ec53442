/**
 * lib/sync/fresh_apply.ts, one guild's backlog on its own: when the stage leaves a guild alone
 * (nothing queued, sync off, a chunk holding it, no Manage Roles), how each queued member ends
 * (written, already right, not a member, score unknown, write refused), and the time box.
 * (tests/e2e/sync_fresh_test.ts runs it inside the whole pass.)
 */
import assert from "node:assert/strict";
import { applyGuildBacklog } from "../../lib/sync/fresh_apply.ts";
import { backlogTimes, freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import { SYNC_KIND, syncServices } from "../../lib/sync/service.ts";
import { rulesFor, SyncConfigError } from "../../lib/sync/context.ts";
import { IndexBuilder, indexedRoles } from "../../lib/sync/member_index.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { readLease } from "../../lib/kv/lease.ts";
import { keys } from "../../lib/kv/keys.ts";
import { leaseName } from "../../lib/jobs/store.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { GUILD, tierRole, withGuild } from "./_guild.ts";

const STRANGER = "390000000000000001";

function queue(deps: AppDeps, userId: string, agoMs = 20_000) {
  return deps.kv.set(freshKeys.backlog(GUILD, userId), {
    updatedAt: deps.clock.now() - agoMs,
    queuedAt: deps.clock.now(),
  });
}

function apply(deps: AppDeps, deadline = deps.clock.now() + 30_000) {
  const { ethos, cache } = syncServices(deps);
  return applyGuildBacklog(deps, GUILD, { ethos, cache, deadline, jobKind: SYNC_KIND });
}

/** The environment's guild with its roles set, and no network. */
const configured = (kv: Deno.Kv) =>
  memoryDeps(kv, {
    env: {
      DISCORD_GUILD_ID: GUILD,
      VERIFIED_ROLE_ID: "210000000000000001",
      ETHOS_ROLE_NEUTRAL: "210000000000000002",
    },
  });

Deno.test("applyGuildBacklog: nothing queued, nothing done (no rules read, no lease, no call)", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv); // not even configured: the empty backlog answers first
    const r = await apply(deps);
    assert.deepEqual(r, {
      guildId: GUILD,
      ran: false,
      reason: "nothing queued",
      applied: 0,
      written: 0,
      calls: 0,
      reads: 0,
      notMember: 0,
      left: 0,
      refused: 0,
      lags: [],
    });
    assert.equal(await readLease(kv, leaseName(SYNC_KIND, GUILD), deps.clock), null);
  }));

Deno.test("applyGuildBacklog: a guild with a backlog but no setup is a SyncConfigError", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await queue(deps, STRANGER);
    await assert.rejects(apply(deps), SyncConfigError);
  }));

Deno.test("applyGuildBacklog: role sync turned off leaves the backlog as it is", () =>
  withKv(async (kv) => {
    const deps = configured(kv);
    await queue(deps, STRANGER);
    await setFlag(kv, GUILD, "role_sync", false);
    const r = await apply(deps);
    assert.deepEqual([r.ran, r.reason], [false, "role sync is turned off for this server"]);
    assert.equal((await backlogTimes(kv, GUILD)).length, 1);
  }));

Deno.test("applyGuildBacklog: while a sync chunk holds the guild, the chunk takes the backlog", () =>
  withKv(async (kv) => {
    const deps = configured(kv);
    await queue(deps, STRANGER);
    const now = deps.clock.now();
    await kv.set(keys.lease(leaseName(SYNC_KIND, GUILD)), {
      owner: "a-chunk",
      expiresAt: now + 60_000,
      takenAt: now,
    });
    const r = await apply(deps);
    assert.deepEqual([r.ran, r.reason], [
      false,
      "a sync chunk holds the guild (it takes the backlog)",
    ]);
    assert.equal((await backlogTimes(kv, GUILD)).length, 1);
  }));

Deno.test("applyGuildBacklog: each member ends right, and only role writes are made", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    const [changed, right] = verifiedScored().filter((id) => {
      const r = emu.state.memberRoles(GUILD, id)!;
      return r.includes(tierRole(roles, emu.state.score(id)!));
    });
    assert.ok(changed && right, "the seed has two members in sync");
    const before = emu.state.score(changed)!;
    const after = before >= 2000 ? 500 : 2500;
    emu.state.setScore(changed, after);
    await queue(deps, changed, 30_000);
    await queue(deps, right, 10_000);
    await queue(deps, STRANGER);
    emu.stats.reset();
    const r = await apply(deps);
    assert.equal(r.ran, true);
    assert.deepEqual(
      {
        applied: r.applied,
        written: r.written,
        calls: r.calls,
        reads: r.reads,
        notMember: r.notMember,
        refused: r.refused,
      },
      { applied: 2, written: 1, calls: 2, reads: 3, notMember: 1, refused: 0 },
    );
    assert.equal(r.lags.length, 2);
    assert.ok(r.lags.every((s) => s >= 10 && s < 60), JSON.stringify(r.lags));
    const now = emu.state.memberRoles(GUILD, changed)!;
    assert.ok(now.includes(tierRole(roles, after)), "the new tier role");
    assert.ok(!now.includes(tierRole(roles, before)), "the old one taken off");
    assert.deepEqual(
      emu.stats.writes.map((w) => w.route).sort(),
      [
        "DELETE /guilds/:guild/members/:user/roles/:role",
        "PUT /guilds/:guild/members/:user/roles/:role",
      ],
    );
    assert.deepEqual(await backlogTimes(deps.kv, GUILD), []);
    assert.equal(
      await readLease(deps.kv, leaseName(SYNC_KIND, GUILD), deps.clock),
      null,
      "the lease is given back",
    );
    // No full sync built the member index: a second pass reads the members again, once each.
    await queue(deps, right);
    const again = await apply(deps);
    assert.deepEqual([again.reads, again.applied, again.written], [1, 1, 0]);
  }));

Deno.test("applyGuildBacklog: with the member index no member is read; a stranger costs nothing", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    // The index as a full sync leaves it: every member with their relevant roles.
    const relevant = indexedRoles(await rulesFor(deps, GUILD));
    const b = new IndexBuilder(deps.kv, GUILD, "run-1", relevant, "0");
    const members = [...emu.state.guild(GUILD).members.values()]
      .sort((x, y) => (BigInt(x.id) < BigInt(y.id) ? -1 : 1));
    for (const m of members) b.add(m.id, m.bot ? null : m.roles);
    await b.end(true, deps.clock.now());
    const id = verifiedScored().find((m) => emu.state.score(m)! < 2000)!;
    emu.state.setScore(id, 2500);
    await queue(deps, id);
    await queue(deps, STRANGER);
    emu.stats.reset();
    const r = await apply(deps);
    assert.deepEqual([r.reads, r.applied, r.notMember], [0, 1, 1]);
    assert.ok(emu.state.memberRoles(GUILD, id)!.includes(roles.exemplary));
    // The one member read is the bot's own, for the guild's context.
    assert.equal(emu.stats.requests["GET /guilds/:guild/members/:user"], 1);
  }));

Deno.test("applyGuildBacklog: a score Ethos cannot give leaves the member queued, untouched", () =>
  withGuild(async ({ emu, deps, verifiedScored }) => {
    const [id] = verifiedScored();
    const rolesBefore = emu.state.memberRoles(GUILD, id);
    await queue(deps, id);
    emu.state.ethos.failing = true;
    emu.state.ethos.failStatus = 400;
    const r = await apply(deps);
    assert.deepEqual([r.ran, r.applied, r.written], [true, 0, 0]);
    assert.equal((await backlogTimes(deps.kv, GUILD)).length, 1);
    assert.deepEqual(emu.state.memberRoles(GUILD, id), rolesBefore);
  }));

Deno.test("applyGuildBacklog: a write Discord refuses is given up (logged); the entry goes", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    const id = verifiedScored().find((m) => emu.state.score(m)! < 2000)!;
    // The guild's context is read and cached; then the role the member needs is deleted.
    await queue(deps, id);
    await apply(deps);
    emu.state.deleteRole(GUILD, roles.exemplary);
    emu.state.setScore(id, 2500);
    await queue(deps, id);
    const r = await apply(deps);
    assert.deepEqual([r.refused, r.applied], [1, 0]);
    assert.deepEqual(await backlogTimes(deps.kv, GUILD), []);
    assert.ok(deps.log.lines.some((l) => l.msg === "fresh: write refused"));
  }));

Deno.test("applyGuildBacklog: without Manage Roles the guild is left alone, the lease given back", () =>
  withGuild(async ({ emu, deps, verifiedScored }) => {
    const bot = emu.state.member(GUILD, emu.botUserId)!;
    emu.state.setMemberRoles(GUILD, emu.botUserId, []);
    assert.equal(bot.roles.length, 0);
    await queue(deps, verifiedScored()[0]);
    const r = await apply(deps);
    assert.deepEqual([r.ran, r.reason], [true, "the bot lacks Manage Roles in this server"]);
    assert.equal((await backlogTimes(deps.kv, GUILD)).length, 1);
    assert.equal(await readLease(deps.kv, leaseName(SYNC_KIND, GUILD), deps.clock), null);
  }));

Deno.test("applyGuildBacklog: past the deadline no member is started", () =>
  withGuild(async ({ deps, verifiedScored }) => {
    await queue(deps, verifiedScored()[0]);
    const r = await apply(deps, deps.clock.now() - 1);
    assert.deepEqual([r.ran, r.applied, r.reads], [true, 0, 0]);
    assert.equal((await backlogTimes(deps.kv, GUILD)).length, 1);
  }));

Deno.test("applyGuildBacklog: the deadline passing while Ethos answers leaves the batch queued", () =>
  withGuild(async ({ emu, deps, verifiedScored }) => {
    const id = verifiedScored().find((m) => emu.state.score(m)! < 2000)!;
    emu.state.setScore(id, 2500);
    let offset = 0;
    const late = {
      ...deps,
      clock: { ...deps.clock, now: () => Date.now() + offset },
      // The score lookup takes "a minute": the time box is over when it answers.
      fetch: (async (input, init) => {
        const res = await deps.fetch(input, init);
        if (String(input).includes("/ethos/")) offset = 60_000;
        return res;
      }) as typeof fetch,
    };
    await queue(late, id);
    const r = await apply(late, Date.now() + 30_000);
    assert.deepEqual([r.ran, r.applied, r.written], [true, 0, 0]);
    assert.equal((await backlogTimes(deps.kv, GUILD)).length, 1);
    assert.ok(offset > 0, "the score was asked");
  }));
