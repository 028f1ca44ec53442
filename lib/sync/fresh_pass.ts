/**
 * The freshness pass, run every minute by cron ("role-sync-fresh"): Ethos's score-updates feed
 * into each configured guild's backlog (fresh_intake.ts), then every guild's backlog written to
 * Discord side by side (fresh_apply.ts), inside a time box that ends before the next pass. What
 * does not fit stays in the backlog. The pass records its figures (lags, backlog, feed
 * anomalies) for /metrics and the status page, and raises an alert when the p95 lag of the last
 * 15 minutes passes 5 minutes, counting updates still waiting at their current age.
 */
import type { AppDeps } from "../deps.ts";
import { configuredGuilds } from "../guilds/setup.ts";
import { raiseAlert } from "../ops/alerts.ts";
import type { GaugeFamily } from "../ops/metrics.ts";
import { SyncConfigError } from "./context.ts";
import { applyGuildBacklog, type ApplyResult } from "./fresh_apply.ts";
import {
  backlogTimes,
  freshKeys,
  type LinkedFigures,
  type PassStage,
} from "../jobs/fresh_backlog.ts";
import { type FreshCursor, type IntakeResult, intakeUpdates } from "./fresh_intake.ts";
import { type LagStats, percentile, readLags, recordLags } from "./fresh_lag.ts";
import { SYNC_KIND, syncServices } from "./service.ts";

export type { LinkedFigures, PassStage };

/** The pass's time box: it ends well before the next minute's pass. */
const PASS_BUDGET_MS = 45_000;
/** The p95 lag the pass aims for (s): two minutes from a change at Ethos to the right roles. */
export const TARGET_P95_S = 120;
export const ALERT_WINDOW_MIN = 15;
export const ALERT_P95_S = 300;

export interface PassSummary {
  at: number;
  durationMs: number;
  intake: Omit<IntakeResult, "cursor"> | { error: string };
  guilds: Omit<ApplyResult, "lags">[];
  /** Linked users (null: linked roles off, or their stage failed). */
  linked: LinkedFigures | null;
  /** The last update applied, by this pass or an earlier one: its lag (s) and when. */
  lastApplied: { lagS: number; at: number } | null;
}

export interface PassOptions {
  /** Linked roles' stage (lib/linked_roles/fresh.ts), when they are on. */
  linked?: PassStage<LinkedFigures>;
  /** Time box (default PASS_BUDGET_MS). */
  budgetMs?: number;
  /** Feed pages of 1,000 per pass (default 5). */
  maxPages?: number;
}

export async function freshnessPass(
  deps: AppDeps,
  o: PassOptions = {},
): Promise<PassSummary | null> {
  if (!deps.config.sync.freshness) return null;
  const { kv, clock } = deps;
  const log = deps.log.child({ component: "fresh" });
  const started = clock.now();
  const deadline = started + (o.budgetMs ?? PASS_BUDGET_MS);
  const { ethos, cache } = syncServices(deps);
  const linked = o.linked ?? null;
  let intake: PassSummary["intake"];
  try {
    const { cursor: _, ...rest } = await intakeUpdates(deps, {
      ethos,
      maxPages: o.maxPages,
      queues: linked ? [linked.queue] : [],
    });
    intake = rest;
  } catch (error) {
    // Ethos failing (429/5xx after retries), or a lost lease: the cursor did not move, so the
    // next pass reads the same updates; the backlog already queued is still applied.
    log.warn("fresh: reading the score-updates feed failed", { error });
    intake = { error: error instanceof Error ? error.message : String(error) };
  }
  const guilds = (await configuredGuilds(deps.config, kv)).map((g) => g.guildId);
  const [settled, linkedResult] = await Promise.all([
    Promise.allSettled(
      guilds.map((g) => applyGuildBacklog(deps, g, { ethos, cache, deadline, jobKind: SYNC_KIND })),
    ),
    linked
      ? linked.apply(deadline).catch((error) => {
        log.error("fresh: linked roles failed", { error });
        return null;
      })
      : null,
  ]);
  const results: ApplyResult[] = [];
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") results.push(s.value);
    else if (!(s.reason instanceof SyncConfigError)) {
      log.error("fresh: a guild's backlog failed", { guild: guilds[i], error: s.reason });
    }
  });
  const lags = results.flatMap((r) => r.lags);
  await recordLags(kv, clock.now(), lags);
  // One read of every backlog: what each guild has left, and the report the alert reads.
  const report = await freshReport(deps);
  for (const r of results) {
    r.left = report.backlog.find((b) => b.guildId === r.guildId)?.count ?? 0;
  }
  const summary: PassSummary = {
    at: started,
    durationMs: clock.now() - started,
    intake,
    guilds: results.map(({ lags: _, ...r }) => r),
    linked: linkedResult && (({ lags: _, ...l }) => l)(linkedResult),
    lastApplied: lags.length
      ? { lagS: lags[lags.length - 1], at: clock.now() }
      : report.last?.lastApplied ?? null,
  };
  await kv.set(freshKeys.lastPass(), summary);
  deps.metrics?.freshPass(summary);
  await alertOnLag(deps, report);
  return summary;
}

export interface FreshReport {
  enabled: boolean;
  last: PassSummary | null;
  cursor: FreshCursor | null;
  backlog: { guildId: string; count: number; oldestAgeS: number | null }[];
  /** Per minute over the last hour. */
  lagHour: Awaited<ReturnType<typeof readLags>>;
  /** The last 15 minutes, with waiting updates counted at their current age. */
  lag15: LagStats;
}

/** What the status page, /metrics and the alert read. */
export async function freshReport(deps: AppDeps): Promise<FreshReport> {
  const { kv, clock } = deps;
  const now = clock.now();
  const [last, cursor] = await kv.getMany<[PassSummary, FreshCursor]>([
    freshKeys.lastPass(),
    freshKeys.cursor(),
  ]);
  const guilds = (await configuredGuilds(deps.config, kv)).map((g) => g.guildId);
  const waiting: number[] = [];
  const backlog = await Promise.all(guilds.map(async (guildId) => {
    const ages = (await backlogTimes(kv, guildId)).map((t) => (now - t) / 1000);
    waiting.push(...ages);
    return { guildId, count: ages.length, oldestAgeS: ages.length ? Math.max(...ages) : null };
  }));
  const [lagHour, recent] = await Promise.all([
    readLags(kv, now, 60),
    readLags(kv, now, ALERT_WINDOW_MIN),
  ]);
  return {
    enabled: deps.config.sync.freshness,
    last: last.value,
    cursor: cursor.value,
    backlog,
    lagHour,
    lag15: withWaiting(recent, waiting),
  };
}

/** The last 15 minutes' lags with every still-queued update at its age, so a stuck pass shows. */
function withWaiting(
  recent: { all: LagStats; values: number[] },
  waiting: readonly number[],
): LagStats {
  if (waiting.length === 0) return recent.all;
  const all = [...recent.values, ...waiting].sort((a, b) => a - b);
  return {
    n: recent.all.n + waiting.length,
    p50: percentile(all, 0.5),
    p95: percentile(all, 0.95),
    max: Math.max(recent.all.max ?? 0, ...waiting),
  };
}

async function alertOnLag(deps: AppDeps, r: FreshReport): Promise<void> {
  const p95 = r.lag15.p95;
  if (p95 === null || p95 <= ALERT_P95_S) return;
  const waiting = r.backlog.reduce((n, b) => n + b.count, 0);
  await raiseAlert(deps, {
    cause: "fresh_lag",
    title: "Ethos score changes are reaching Discord late",
    detail:
      `The p95 lag from an Ethos score change to the member's roles over the last ${ALERT_WINDOW_MIN} minutes is ${
        Math.round(p95)
      } s (alert above ${ALERT_P95_S} s); ${waiting} member updates are waiting.`,
    severity: "warning",
  });
}

/** The report as /metrics gauges (deployment-wide, read from KV at scrape time). */
export function freshGauges(r: FreshReport, now: number): GaugeFamily[] {
  const guild = (g: { guildId: string }) => ({ guild: g.guildId });
  const out: GaugeFamily[] = [
    {
      name: "ethos_fresh_last_lag_seconds",
      help: "Lag of the last applied score change: Ethos's lastUpdatedAt to the role write.",
      samples: r.last?.lastApplied ? [{ value: r.last.lastApplied.lagS }] : [],
    },
    {
      name: "ethos_fresh_lag_p95_seconds",
      help: `p95 lag over the last ${ALERT_WINDOW_MIN} minutes, waiting updates at their age.`,
      samples: r.lag15.p95 === null ? [] : [{ value: r.lag15.p95 }],
    },
    {
      name: "ethos_fresh_backlog",
      help: "Members with a score change waiting to be written, by guild.",
      samples: r.backlog.map((b) => ({ labels: guild(b), value: b.count })),
    },
    {
      name: "ethos_fresh_oldest_waiting_seconds",
      help: "Age of the oldest score change waiting, by guild.",
      samples: r.backlog.filter((b) => b.oldestAgeS !== null)
        .map((b) => ({ labels: guild(b), value: b.oldestAgeS! })),
    },
    {
      name: "ethos_fresh_feed_age_seconds",
      help: "Seconds since the score-updates feed was last read to its end.",
      samples: r.cursor ? [{ value: (now - r.cursor.at) / 1000 }] : [],
    },
  ];
  return out;
}
