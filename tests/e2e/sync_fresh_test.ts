/**
 * The freshness pass end to end, on the emulator: a score change reaches the member's roles in
 * the next pass with role writes only (the member index answers who is in the guild and what they
 * hold), a user in no guild costs no Discord call, an unknown index costs one read, a running
 * chunk takes the backlog itself, a chunk starting meanwhile gets the guild, and failures leave
 * the backlog for the next pass.
 */
import assert from "node:assert/strict";
import { GUILD, outOfSync, startFixture } from "./sync_helpers.ts";
import type { Emulator } from "../emulator/server.ts";
import { freshGauges, freshnessPass, freshReport } from "../../lib/sync/fresh_pass.ts";
import { backlogTimes, freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import { indexKeys } from "../../lib/sync/member_index.ts";
import { readLags } from "../../lib/sync/fresh_lag.ts";
import { YieldingLease } from "../../lib/kv/lease.ts";
import { leaseName } from "../../lib/jobs/store.ts";
import { SYNC_KIND, triggerSync } from "../../lib/sync/service.ts";
import { applyGuildBacklog } from "../../lib/sync/fresh_apply.ts";
import { syncServices } from "../../lib/sync/service.ts";
import { gaugeText, Metrics, scrape } from "../../lib/ops/metrics.ts";
import { keys } from "../../lib/kv/keys.ts";

const TIERS = [2000, 1800, 1200, 800, 0];
const tierOf = (s: number) => TIERS.findIndex((t) => s >= t);
/** A score in another tier than `s`. */
const otherTier = (s: number) => tierOf(s) === 0 ? 500 : 2500;

/** Verified, scored members: their score changes need role writes. */
function verifiedScored(emu: Emulator, n: number): string[] {
  const r = emu.state.guild(GUILD).ethosRoles!;
  return [...emu.state.guild(GUILD).members.values()]
    .filter((m) => !m.bot && m.roles.includes(r.verified) && emu.state.score(m.id) !== undefined)
    .slice(0, n).map((m) => m.id);
}

function changeScores(emu: Emulator, ids: string[]): void {
  for (const id of ids) emu.state.setScore(id, otherTier(emu.state.score(id)!), Date.now());
}

/** A synced guild (the index built) and a first pass (the feed cursor set). */
async function synced(members = 120) {
  const fx = await startFixture({ uniformRate: 300, guilds: [{ members }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  const r = await fx.bot.trigger({ startIndex: 0 }, "?wait=true");
  assert.deepStrictEqual(r.status, 200);
  await fx.bot.waitFor();
  assert.deepStrictEqual(outOfSync(fx.emu), []);
  assert.ok(
    (await fx.bot.deps.kv.get(indexKeys.meta(GUILD))).value,
    "the full run built the index",
  );
  await freshnessPass(fx.bot.deps);
  fx.emu.stats.reset();
  return fx;
}

/** The guild's sync lease, held as a running chunk holds it. */
async function holdAsChunk(kv: Deno.Kv): Promise<void> {
  const now = Date.now();
  await kv.set(keys.lease(leaseName(SYNC_KIND, GUILD)), {
    owner: "a-chunk",
    expiresAt: now + 60_000,
    takenAt: now,
  });
}

const routes = (emu: Emulator) => Object.keys(emu.stats.requests).sort();

Deno.test("fresh: a score change reaches the roles in the next pass, with role writes only", async () => {
  const fx = await synced();
  try {
    const ids = verifiedScored(fx.emu, 5);
    changeScores(fx.emu, ids);
    // A user in no guild: queued, dropped by the index, no Discord call.
    fx.emu.state.setScore("900000000000000001", 1500, Date.now());
    assert.deepStrictEqual(outOfSync(fx.emu).length, 5);
    const pass = (await freshnessPass(fx.bot.deps))!;
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    assert.ok(!("error" in pass.intake) && pass.intake.queued === 6, JSON.stringify(pass.intake));
    const g = pass.guilds.find((x) => x.guildId === GUILD)!;
    assert.deepStrictEqual([g.applied, g.written, g.notMember, g.reads, g.left], [5, 5, 1, 0, 0]);
    // Each change moves one tier role: one DELETE and one PUT. No member read, none listed: the
    // only reads are the guild's context (guild, roles, the bot's own member), loaded once per
    // 10 minutes by the first pass with something to write.
    assert.deepStrictEqual(routes(fx.emu), [
      "DELETE /guilds/:guild/members/:user/roles/:role",
      "GET /guilds/:guild",
      "GET /guilds/:guild/members/:user",
      "GET /guilds/:guild/roles",
      "PUT /guilds/:guild/members/:user/roles/:role",
    ]);
    assert.deepStrictEqual(fx.emu.stats.requests["GET /guilds/:guild/members/:user"], 1);
    assert.deepStrictEqual(fx.emu.stats.totalRequests, 10 + 3);
    assert.deepStrictEqual(g.calls, 10);
    assert.deepStrictEqual((await backlogTimes(fx.bot.deps.kv, GUILD)).length, 0);
    const lags = await readLags(fx.bot.deps.kv, Date.now(), 5);
    assert.deepStrictEqual(lags.all.n, 5);
    assert.ok(lags.all.max! < 60, `lag ${lags.all.max}`);
    // The index now holds the new roles: the next change of the same member needs no read either.
    changeScores(fx.emu, ids.slice(0, 1));
    fx.emu.stats.reset();
    await freshnessPass(fx.bot.deps);
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    assert.deepStrictEqual(fx.emu.stats.requests["GET /guilds/:guild/members/:user"], undefined);
    // Nothing applied twice: a pass with no new update makes no call.
    fx.emu.stats.reset();
    await freshnessPass(fx.bot.deps);
    assert.deepStrictEqual(fx.emu.stats.totalRequests, 0);
    // /metrics: updates applied (this isolate's counter), last lag and backlog (from KV).
    const metrics = new Metrics();
    const deps = { ...fx.bot.deps, metrics };
    changeScores(fx.emu, ids.slice(1, 3));
    await freshnessPass(deps);
    const text = (await scrape(deps.kv, metrics)).text +
      gaugeText(freshGauges(await freshReport(deps), Date.now()));
    const value = (name: string) => {
      const line = text.split("\n").find((l) => l.startsWith(name));
      assert.ok(line, `${name} missing:\n${text}`);
      return Number(line.split(" ").at(-1));
    };
    assert.deepStrictEqual(value(`ethos_fresh_updates_applied_total{guild="${GUILD}"}`), 2);
    assert.deepStrictEqual(value(`ethos_fresh_discord_calls_total{kind="write"}`), 4);
    assert.deepStrictEqual(value(`ethos_fresh_backlog{guild="${GUILD}"}`), 0);
    const lag = value("ethos_fresh_last_lag_seconds");
    assert.ok(lag >= 0 && lag < 60, String(lag));
    assert.ok(value("ethos_fresh_feed_age_seconds") < 60);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: without an index a changed member costs one read", async () => {
  const fx = await synced();
  try {
    await fx.bot.deps.kv.delete(indexKeys.meta(GUILD));
    const ids = verifiedScored(fx.emu, 3);
    changeScores(fx.emu, ids);
    const g = (await freshnessPass(fx.bot.deps))!.guilds[0];
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    assert.deepStrictEqual([g.applied, g.reads], [3, 3]);
    // The three members, and the bot's own member for the guild's context.
    assert.deepStrictEqual(fx.emu.stats.requests["GET /guilds/:guild/members/:user"], 3 + 1);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: a guild whose chunk runs is left to the chunk, which takes the backlog", async () => {
  const fx = await synced();
  try {
    const kv = fx.bot.deps.kv;
    const ids = verifiedScored(fx.emu, 4);
    changeScores(fx.emu, ids);
    // A chunk holds the guild: the pass queues the updates and leaves the guild alone.
    await holdAsChunk(kv);
    const pass = (await freshnessPass(fx.bot.deps))!;
    assert.deepStrictEqual(pass.guilds[0].ran, false);
    assert.deepStrictEqual((await backlogTimes(kv, GUILD)).length, 4);
    assert.deepStrictEqual(fx.emu.stats.writes.length, 0);
    await kv.delete(keys.lease(leaseName(SYNC_KIND, GUILD)));
    // The guild's next chunk (here a full run) takes the backlog between its pages.
    await fx.bot.trigger({ startIndex: 0 }, "?wait=true");
    const done = await fx.bot.waitFor();
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    assert.deepStrictEqual((await backlogTimes(kv, GUILD)).length, 0);
    assert.ok((done.counters["fresh.changed"] ?? 0) >= 1, JSON.stringify(done.counters));
    // Backlog entries are no members of the run: its count is the guild's.
    assert.deepStrictEqual(done.processed, fx.emu.state.guild(GUILD).members.size);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: a chunk starting while the pass writes the guild gets it within seconds", async () => {
  const fx = await synced();
  try {
    const kv = fx.bot.deps.kv;
    // The pass holds the guild as a yielding holder (as applyGuildBacklog does).
    const held = await YieldingLease.take(
      kv,
      leaseName(SYNC_KIND, GUILD),
      15_000,
      fx.bot.deps.clock,
    );
    assert.ok(held);
    const started = triggerSync(fx.bot.deps, GUILD, { startIndex: 0, source: "test" });
    // The holder sees the request at its next commit and gives the guild back.
    for (let i = 0; i < 200 && !held.lost; i++) {
      await new Promise((r) => setTimeout(r, 10));
      await held.commit(() => {});
    }
    assert.ok(held.lost);
    await held.release();
    const r = await started;
    assert.deepStrictEqual(r.status, "started");
    if (r.status === "started") await r.done;
    // A pass meanwhile leaves the guild alone.
    const { ethos, cache } = syncServices(fx.bot.deps);
    await holdAsChunk(kv);
    const skipped = await applyGuildBacklog(fx.bot.deps, GUILD, {
      ethos,
      cache,
      deadline: Date.now() + 5_000,
      jobKind: SYNC_KIND,
    });
    assert.deepStrictEqual(skipped.ran, false);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: Ethos or Discord failing leaves the backlog for the next pass; none lost", async () => {
  const fx = await synced();
  try {
    const kv = fx.bot.deps.kv;
    const ids = verifiedScored(fx.emu, 3);
    changeScores(fx.emu, ids);
    // The feed answers 503: the cursor stays, nothing is queued, the next pass reads it again.
    fx.emu.state.ethos.failPaths.add("/score/updates");
    const failed = (await freshnessPass(fx.bot.deps))!;
    assert.ok("error" in failed.intake);
    assert.deepStrictEqual((await backlogTimes(kv, GUILD)).length, 0);
    fx.emu.state.ethos.failPaths.clear();
    // Discord fails every call: the members stay queued.
    fx.emu.setFaults({ errorRate: 1 });
    const stuck = (await freshnessPass(fx.bot.deps))!;
    assert.ok(
      !("error" in stuck.intake) && stuck.intake.queued === 3,
      JSON.stringify(stuck.intake),
    );
    assert.deepStrictEqual(stuck.guilds.reduce((n, g) => n + g.applied, 0), 0);
    assert.deepStrictEqual((await backlogTimes(kv, GUILD)).length, 3);
    fx.emu.setFaults({ errorRate: 0 });
    const ok = (await freshnessPass(fx.bot.deps))!;
    assert.deepStrictEqual(ok.guilds[0].applied, 3);
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    assert.deepStrictEqual((await kv.get(freshKeys.lastPass())).versionstamp !== null, true);
    const report = await freshReport(fx.bot.deps);
    assert.deepStrictEqual(report.backlog, [{ guildId: GUILD, count: 0, oldestAgeS: null }]);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: an update waiting past 5 minutes raises the lag alert", async () => {
  const fx = await synced();
  try {
    const kv = fx.bot.deps.kv;
    // Stuck in the backlog for 10 minutes (a chunk holds the guild, say).
    await kv.set(freshKeys.backlog(GUILD, "900000000000000002"), {
      updatedAt: Date.now() - 600_000,
      queuedAt: Date.now() - 600_000,
    });
    await holdAsChunk(kv);
    await freshnessPass(fx.bot.deps);
    const report = await freshReport(fx.bot.deps);
    assert.ok(report.lag15.p95! >= 600, JSON.stringify(report.lag15));
    const alerts = [];
    for await (const e of kv.list<{ cause: string }>({ prefix: ["alerts"] })) {
      alerts.push(e.value.cause);
    }
    assert.deepStrictEqual(alerts, ["fresh_lag"]);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: the hourly incremental run reads no member for updates the pass took in", async () => {
  const fx = await synced();
  try {
    const ids = verifiedScored(fx.emu, 3);
    changeScores(fx.emu, ids);
    await freshnessPass(fx.bot.deps);
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    fx.emu.stats.reset();
    const r = await fx.bot.trigger({ mode: "incremental", startIndex: 0 }, "?wait=true");
    assert.deepStrictEqual(r.status, 200);
    const done = await fx.bot.waitFor();
    assert.deepStrictEqual(done.counters["skipped.fresh_pass"], 3);
    // No member read (the one GET the emulator saw is the run's setup: the bot's own member).
    assert.deepStrictEqual(done.counters["calls.member"] ?? 0, 0);
    assert.deepStrictEqual(fx.emu.stats.requests["GET /guilds/:guild/members/:user"] ?? 0, 1);
    assert.deepStrictEqual(fx.emu.stats.writes.length, 0);
    // The run left the index as the pass noted it: the members' next change needs no read.
    changeScores(fx.emu, ids);
    fx.emu.stats.reset();
    const again = (await freshnessPass(fx.bot.deps))!;
    assert.deepStrictEqual([again.guilds[0].applied, again.guilds[0].reads], [3, 0]);
    assert.deepStrictEqual(outOfSync(fx.emu), []);
  } finally {
    await fx.close();
  }
});

Deno.test("fresh: what a pass's time box cannot write stays queued for the next pass", async () => {
  const fx = await synced();
  try {
    const ids = verifiedScored(fx.emu, 4);
    changeScores(fx.emu, ids);
    // A time box already over: the updates are taken in, no member is started.
    const short = (await freshnessPass(fx.bot.deps, { budgetMs: 0 }))!;
    assert.deepStrictEqual(short.guilds[0].applied, 0);
    assert.deepStrictEqual(short.guilds[0].left, 4);
    assert.deepStrictEqual(fx.emu.stats.writes.length, 0);
    const report = await freshReport(fx.bot.deps);
    assert.deepStrictEqual(report.backlog[0].count, 4);
    const next = (await freshnessPass(fx.bot.deps))!;
    assert.deepStrictEqual([next.guilds[0].applied, next.guilds[0].left], [4, 0]);
    assert.deepStrictEqual(outOfSync(fx.emu), []);
  } finally {
    await fx.close();
  }
});
