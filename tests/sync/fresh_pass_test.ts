/**
 * lib/sync/fresh_pass.ts on its own: the pass off; a pass that takes a change from the feed to
 * the roles and records what it did; a failing feed or linked stage that does not stop the rest;
 * the report (backlog ages, the 15-minute p95 with waiting updates), the lag alert and the
 * /metrics gauges. (tests/e2e/sync_fresh_test.ts runs passes against a synced guild.)
 */
import assert from "node:assert/strict";
import {
  ALERT_P95_S,
  freshGauges,
  freshnessPass,
  type FreshReport,
  freshReport,
  type LinkedFigures,
  type PassStage,
  type PassSummary,
} from "../../lib/sync/fresh_pass.ts";
import { backlogTimes, freshKeys, LINKED_QUEUE } from "../../lib/jobs/fresh_backlog.ts";
import { readLags, recordLags } from "../../lib/sync/fresh_lag.ts";
import { recentAlerts } from "../../lib/ops/alerts.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { GUILD, tierRole, withGuild } from "./_guild.ts";

const CONFIGURED = {
  DISCORD_GUILD_ID: GUILD,
  VERIFIED_ROLE_ID: "210000000000000001",
  ETHOS_ROLE_NEUTRAL: "210000000000000002",
};
/** Ethos refusing every call at once (no retries): the feed fails, nothing else is asked. */
const ethosRefuses: typeof fetch = () =>
  Promise.resolve(new Response('{"error":"bad request"}', { status: 400 }));

const queue = (deps: AppDeps, guildId: string, userId: string, updatedAt: number) =>
  deps.kv.set(freshKeys.backlog(guildId, userId), { updatedAt, queuedAt: updatedAt });

const figures = (over: Partial<LinkedFigures> = {}): LinkedFigures => ({
  applied: 0,
  notLinked: 0,
  left: 0,
  pushes: 0,
  refreshes: 0,
  failures: 0,
  unlinked: 0,
  ...over,
});

Deno.test("freshnessPass: SYNC_FRESHNESS=false runs nothing and records nothing", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: { ...CONFIGURED, SYNC_FRESHNESS: "false" } });
    assert.equal(await freshnessPass(deps), null);
    assert.equal((await kv.get(freshKeys.lastPass())).versionstamp, null);
  }));

Deno.test("freshnessPass: a score change in the feed reaches the member's roles; the pass is recorded", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    assert.ok(await freshnessPass(deps), "a first pass sets the feed's cursor");
    const id = verifiedScored().find((m) => emu.state.score(m)! < 2000)!;
    emu.state.setScore(id, 2500, Date.now());
    const pass = (await freshnessPass(deps))!;
    assert.ok(emu.state.memberRoles(GUILD, id)!.includes(tierRole(roles, 2500)));
    assert.ok(!("error" in pass.intake) && pass.intake.queued >= 1, JSON.stringify(pass.intake));
    assert.equal(pass.guilds.length, 1);
    const [g] = pass.guilds;
    assert.deepEqual([g.guildId, g.ran, g.applied, g.left], [GUILD, true, 1, 0]);
    assert.equal("lags" in g, false, "the lags are recorded, not kept in the summary");
    assert.ok(pass.lastApplied && pass.lastApplied.lagS >= 0);
    assert.equal(pass.linked, null);
    assert.deepEqual((await deps.kv.get(freshKeys.lastPass())).value, pass);
    assert.equal((await readLags(deps.kv, Date.now(), 5)).all.n, 1);
    // Nothing new: the next pass applies nothing and keeps the last applied update.
    const quiet = (await freshnessPass(deps))!;
    assert.equal(quiet.guilds[0].applied, 0);
    assert.deepEqual(quiet.lastApplied, pass.lastApplied);
  }));

Deno.test("freshnessPass: a failing feed is reported; the backlog already queued is still applied", () =>
  withGuild(async ({ emu, deps, roles, verifiedScored }) => {
    const id = verifiedScored().find((m) => emu.state.score(m)! < 2000)!;
    emu.state.setScore(id, 2500, Date.now());
    await queue(deps, GUILD, id, Date.now() - 5_000);
    emu.state.ethos.failPaths.add("/score/updates");
    emu.state.ethos.failStatus = 400;
    const pass = (await freshnessPass(deps))!;
    assert.ok(
      "error" in pass.intake && /score\/updates/.test(pass.intake.error),
      JSON.stringify(pass.intake),
    );
    assert.equal(pass.guilds[0].applied, 1);
    assert.ok(emu.state.memberRoles(GUILD, id)!.includes(tierRole(roles, 2500)));
    assert.ok(deps.log.lines.some((l) => l.msg === "fresh: reading the score-updates feed failed"));
  }));

Deno.test("freshnessPass: what a guild could not do in the time box is reported as left", () =>
  withGuild(async ({ deps, verifiedScored }) => {
    const [a, b] = verifiedScored();
    await queue(deps, GUILD, a, Date.now() - 1_000);
    await queue(deps, GUILD, b, Date.now() - 1_000);
    const pass = (await freshnessPass(deps, { budgetMs: 0 }))!;
    assert.deepEqual([pass.guilds[0].applied, pass.guilds[0].left], [0, 2]);
  }));

Deno.test("freshnessPass: the feed's changes are queued for the linked stage too", () =>
  withGuild(async ({ emu, deps, verifiedScored }) => {
    const stage: PassStage<LinkedFigures> = {
      queue: LINKED_QUEUE,
      apply: () => Promise.resolve({ ...figures(), lags: [] }),
    };
    await freshnessPass(deps, { linked: stage });
    const [id] = verifiedScored();
    emu.state.setScore(id, emu.state.score(id)! + 1, Date.now());
    await freshnessPass(deps, { linked: stage });
    assert.equal((await backlogTimes(deps.kv, LINKED_QUEUE)).length, 1);
  }));

Deno.test("freshnessPass: the linked stage runs in the same time box; its figures, without lags", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: CONFIGURED, fetch: ethosRefuses });
    const deadlines: number[] = [];
    const stage: PassStage<LinkedFigures> = {
      queue: LINKED_QUEUE,
      apply: (deadline) => {
        deadlines.push(deadline);
        return Promise.resolve({ ...figures({ applied: 2, pushes: 2 }), lags: [3, 4] });
      },
    };
    const pass = (await freshnessPass(deps, { linked: stage, budgetMs: 10_000 }))!;
    assert.deepEqual(pass.linked, figures({ applied: 2, pushes: 2 }));
    assert.deepEqual(deadlines, [deps.clock.now() + 10_000]);
    assert.equal(pass.lastApplied, null, "the linked lags are not role lags");
  }));

Deno.test("freshnessPass: a failing linked stage is logged and reported as null", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: CONFIGURED, fetch: ethosRefuses });
    const stage: PassStage<LinkedFigures> = {
      queue: LINKED_QUEUE,
      apply: () => Promise.reject(new Error("stage broke")),
    };
    const pass = (await freshnessPass(deps, { linked: stage }))!;
    assert.equal(pass.linked, null);
    assert.ok(
      deps.log.lines.some((l) => l.level === "error" && l.msg === "fresh: linked roles failed"),
    );
  }));

Deno.test("freshReport: each guild's backlog and oldest age; the p95 counts waiting updates", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: CONFIGURED });
    const now = deps.clock.now();
    let r = await freshReport(deps);
    assert.deepEqual(r.backlog, [{ guildId: GUILD, count: 0, oldestAgeS: null }]);
    assert.deepEqual(r.lag15, { n: 0, p50: null, p95: null, max: null });
    assert.deepEqual([r.enabled, r.last, r.cursor], [true, null, null]);
    await recordLags(kv, now, [10, 20, 30]);
    await queue(deps, GUILD, "300000000000000001", now - 100_000);
    await queue(deps, GUILD, "300000000000000002", now - 40_000);
    await queue(deps, LINKED_QUEUE, "300000000000000003", now - 999_000);
    r = await freshReport(deps);
    assert.deepEqual(r.backlog, [{ guildId: GUILD, count: 2, oldestAgeS: 100 }]);
    assert.deepEqual(r.lag15, { n: 5, p50: 30, p95: 100, max: 100 });
    assert.equal(r.lagHour.minutes.length, 60);
  }));

Deno.test("freshnessPass: a p95 over 5 minutes raises one alert; at 5 minutes none", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: CONFIGURED, fetch: ethosRefuses });
    await recordLags(kv, deps.clock.now(), [ALERT_P95_S]);
    await freshnessPass(deps);
    assert.deepEqual(await recentAlerts(kv), []);
    await recordLags(kv, deps.clock.now(), Array(40).fill(ALERT_P95_S + 1));
    await freshnessPass(deps);
    const [alert] = await recentAlerts(kv);
    assert.equal(alert.cause, "fresh_lag");
    assert.match(alert.detail, /is 301 s \(alert above 300 s\); 0 member updates are waiting/);
  }));

Deno.test("freshnessPass: updates stuck in the backlog raise the alert without any lag recorded", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: CONFIGURED, fetch: ethosRefuses });
    await queue(deps, GUILD, "300000000000000001", deps.clock.now() - 600_000);
    await freshnessPass(deps);
    const alerts = await recentAlerts(kv);
    assert.deepEqual(alerts.map((a) => a.cause), ["fresh_lag"]);
    assert.match(alerts[0].detail, /1 member updates are waiting/);
    assert.equal((await backlogTimes(kv, GUILD)).length, 1, "still waiting: no roles to read");
  }));

Deno.test("freshGauges: the report as gauges; what is unknown has no sample", () => {
  const now = Date.UTC(2026, 10, 22, 12);
  const empty: FreshReport = {
    enabled: true,
    last: null,
    cursor: null,
    backlog: [{ guildId: GUILD, count: 0, oldestAgeS: null }],
    lagHour: { minutes: [], all: { n: 0, p50: null, p95: null, max: null }, values: [] },
    lag15: { n: 0, p50: null, p95: null, max: null },
  };
  const samples = (r: FreshReport) =>
    Object.fromEntries(freshGauges(r, now).map((f) => [f.name, f.samples]));
  assert.deepEqual(samples(empty), {
    ethos_fresh_last_lag_seconds: [],
    ethos_fresh_lag_p95_seconds: [],
    ethos_fresh_backlog: [{ labels: { guild: GUILD }, value: 0 }],
    ethos_fresh_oldest_waiting_seconds: [],
    ethos_fresh_feed_age_seconds: [],
  });
  const full: FreshReport = {
    ...empty,
    last: { lastApplied: { lagS: 42, at: now } } as PassSummary,
    cursor: { after: now - 5_000, at: now - 30_000 },
    backlog: [{ guildId: GUILD, count: 3, oldestAgeS: 90 }],
    lag15: { n: 3, p50: 10, p95: 55, max: 90 },
  };
  assert.deepEqual(samples(full), {
    ethos_fresh_last_lag_seconds: [{ value: 42 }],
    ethos_fresh_lag_p95_seconds: [{ value: 55 }],
    ethos_fresh_backlog: [{ labels: { guild: GUILD }, value: 3 }],
    ethos_fresh_oldest_waiting_seconds: [{ labels: { guild: GUILD }, value: 90 }],
    ethos_fresh_feed_age_seconds: [{ value: 30 }],
  });
});
