/**
 * Everything the status page shows, gathered from KV (and this isolate's REST client as a last
 * resort). Each section fails on its own: one unreadable part shows as unavailable, the rest
 * still renders.
 */
import type { App } from "../app.ts";
import type { LinkedFigures } from "../jobs/fresh_backlog.ts";
import type { JobProgress } from "../jobs/progress.ts";
import { listHistory, perMinute, type RunSummary } from "../jobs/history.ts";
import { SYNC_KIND, syncStatus } from "../sync/service.ts";
import { requestedGuild } from "../deps.ts";
import { knownGuilds } from "../guilds/setup.ts";
import { commandStatus } from "../manifest/status.ts";
import { manifestEnv } from "../manifest/env.ts";
import { backupGuilds, listBackups } from "../backup/store.ts";
import { jobStatus } from "../backup/service.ts";
import { type Alert, recentAlerts } from "../ops/alerts.ts";
import { aggregate } from "../ops/metrics.ts";
import { readGlobalBudget } from "../discord/global_budget.ts";
import {
  ALERT_P95_S,
  ALERT_WINDOW_MIN,
  type FreshReport,
  freshReport,
  type PassSummary,
  TARGET_P95_S,
} from "../sync/fresh_pass.ts";
import { linkedRolesStatus } from "../linked_roles/status.ts";
import type { LagMinute, LagStats } from "../sync/fresh_lag.ts";

export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SyncSection {
  guildId: string | null;
  current: JobProgress | null;
  /** Duration of the chunk running now, or of the last one, in seconds. */
  chunkSeconds: number | null;
  perMinute: { minute: number; processed: number }[];
  runs: RunSummary[];
}

export interface GuildsSection {
  guilds: {
    guildId: string;
    active: boolean;
    configured: boolean;
    fromEnvironment: boolean;
    schedule: string;
    logChannelId: string | null;
    state: string;
    processed: number;
    total: number | null;
    changed: number;
    lastRunAt: string | null;
    /** Members per level in the current (or last) run, highest count first. */
    levels: { level: string; members: number }[];
  }[];
}

export interface CommandsSection {
  fingerprint: string;
  commands: number;
  scope: string;
  lastSyncAt: number | null;
  lastAttempt: { at: number; result: string } | null;
  drift: { at: number; inSync: boolean; summary: string } | null;
  cooldownUntil: number | null;
}

export interface BackupsSection {
  guilds: {
    guildId: string;
    count: number;
    pinned: number;
    bytes: number;
    latest: { id: string; label: string; at: number; bytes: number } | null;
  }[];
  restores: { guildId: string; progress: JobProgress; backupId: string | null }[];
}

export interface RestSection {
  /** "all instances" (aggregated metrics) or "this instance". */
  scope: string;
  requests: number;
  rateLimited: { user: number; global: number; shared: number };
  invalid: { used: number; limit: number };
  serverErrors: number;
  retries: number;
  /** The global limit's KV timeline: isolates sending now and how far ahead it is booked. */
  globalBudget: { clients: number; bookedAheadMs: number } | null;
}

export interface FreshSection {
  /** False: SYNC_FRESHNESS=false, no pass runs. */
  enabled: boolean;
  last: PassSummary | null;
  /** The feed cursor: when a pass last read the feed (null: never), and whether it stopped at its page limit. */
  feed: { at: number; ageS: number; more: boolean } | null;
  backlog: { guildId: string; count: number; oldestAgeS: number | null }[];
  /** Per minute over the last hour, oldest first (empty minutes: n 0, null stats), and overall. */
  lagHour: { minutes: LagMinute[]; all: LagStats };
  /** The last `alertWindowMin` minutes, waiting updates at their age: what the alert reads. */
  lag15: LagStats;
  targetS: number;
  alertS: number;
  alertWindowMin: number;
}

/** What the last freshness pass did for linked users, and when that pass started (`at`). */
export type LinkedPassFigures = LinkedFigures & { at: number };

export interface LinkedSection {
  /** The connect routes answer (DISCORD_CLIENT_SECRET and SELF_URL set). */
  enabled: boolean;
  /** To paste in the developer portal (Linked Roles Verification URL), and the redirect to add. */
  verificationUrl: string | null;
  redirectUri: string | null;
  /** The metadata records registered from here (null: never), and whether they are this code's. */
  registered: { at: number; current: boolean } | null;
  linkedUsers: number;
  /**
   * The last pass's figures: null when no pass ran yet or it had none (linked roles off then, or
   * their stage failed); an error when the pass report could not be read.
   */
  lastPass: Section<LinkedPassFigures | null>;
}

export interface StatusData {
  generatedAt: number;
  version: string;
  sync: Section<SyncSection>;
  guilds: Section<GuildsSection>;
  commands: Section<CommandsSection>;
  backups: Section<BackupsSection>;
  rest: Section<RestSection>;
  fresh: Section<FreshSection>;
  linked: Section<LinkedSection>;
  alerts: Section<Alert[]>;
}

async function section<T>(work: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** A guild's sync progress, read once per page even when two sections show it. */
type SyncReader = (guildId: string) => Promise<JobProgress>;

function syncReader(app: App): SyncReader {
  const read = new Map<string, Promise<JobProgress>>();
  return (guildId) => {
    let p = read.get(guildId);
    if (!p) read.set(guildId, p = syncStatus(app.deps, guildId));
    return p;
  };
}

async function syncSection(app: App, syncOf: SyncReader): Promise<SyncSection> {
  const guildId = requestedGuild(app.deps) ?? null;
  if (!guildId) return { guildId, current: null, chunkSeconds: null, perMinute: [], runs: [] };
  const [current, runs] = await Promise.all([
    syncOf(guildId),
    listHistory(app.deps.kv, SYNC_KIND, guildId, 10),
  ]);
  const now = app.deps.clock.now();
  const chunkSeconds = current.chunkStartedAt && current.state === "running"
    ? (now - Date.parse(current.chunkStartedAt)) / 1000
    : runs[0] && runs[0].chunks
    ? runs[0].activeMs / runs[0].chunks / 1000
    : null;
  return {
    guildId,
    current: current.state === "idle" ? null : current,
    chunkSeconds,
    perMinute: current.runId
      ? (await perMinute(app.deps.kv, SYNC_KIND, guildId, current.runId)).slice(-60)
      : [],
    runs,
  };
}

function describeDrift(summary: { added: number; removed: number; changed: number }): string {
  return `${summary.added} only in code, ${summary.removed} only on Discord, ${summary.changed} changed`;
}

/** Every guild with a setup or the environment's, active or not, with its sync at a glance. */
async function guildsSection(app: App, syncOf: SyncReader): Promise<GuildsSection> {
  const { config, kv } = app.deps;
  const guilds = await Promise.all(
    (await knownGuilds(config, kv)).map(async (setup) => {
      const guildId = setup.guildId;
      const p = await syncOf(guildId);
      const levels = Object.entries(p.counters).filter(([k]) => k.startsWith("level."))
        .map(([k, members]) => ({ level: k.slice("level.".length), members }))
        .sort((a, b) => b.members - a.members);
      return {
        guildId,
        active: setup.active,
        configured: setup.configured,
        fromEnvironment: guildId === config.discord.guildId,
        schedule: setup.schedule,
        logChannelId: setup.logChannelId,
        state: p.state,
        processed: p.processed,
        total: p.total,
        changed: p.counters["changed"] ?? 0,
        lastRunAt: p.finishedAt ?? p.updatedAt,
        levels,
      };
    }),
  );
  return { guilds };
}

async function commandsSection(app: App): Promise<CommandsSection> {
  const s = await commandStatus(manifestEnv(app), 0);
  return {
    fingerprint: s.fingerprint,
    commands: s.commands,
    scope: String(s.scope),
    lastSyncAt: s.synced?.at ?? null,
    lastAttempt: s.lastAttempt
      ? { at: s.lastAttempt.at, result: String(s.lastAttempt.outcome) }
      : null,
    drift: s.lastCheck
      ? {
        at: s.lastCheck.at,
        inSync: s.lastCheck.inSync,
        summary: s.lastCheck.inSync ? "in sync" : describeDrift(s.lastCheck.summary),
      }
      : null,
    cooldownUntil: s.cooldown?.until ?? null,
  };
}

async function backupsSection(app: App): Promise<BackupsSection> {
  const guildIds = await backupGuilds(app.deps.kv);
  const configured = app.deps.config.discord.guildId;
  if (configured && !guildIds.includes(configured)) guildIds.push(configured);
  const guilds: BackupsSection["guilds"] = [];
  const restores: BackupsSection["restores"] = [];
  for (const guildId of guildIds) {
    const list = await listBackups(app.deps.kv, guildId);
    const latest = list.reduce<typeof list[number] | null>(
      (a, b) => (!a || b.createdAt > a.createdAt ? b : a),
      null,
    );
    guilds.push({
      guildId,
      count: list.length,
      pinned: list.filter((b) => b.pinned).length,
      bytes: list.reduce((n, b) => n + b.sizeCompressed, 0),
      latest: latest
        ? { id: latest.id, label: latest.label, at: latest.createdAt, bytes: latest.sizeCompressed }
        : null,
    });
    const restore = await jobStatus(app.deps, guildId, "restore");
    if (["running", "waiting", "stopping"].includes(restore.progress.state)) {
      restores.push({ guildId, progress: restore.progress, backupId: restore.backupId });
    }
  }
  return { guilds, restores };
}

type MetricJson = {
  name: string;
  values: { value: number; labels: Record<string, string | number> }[];
};

async function restSection(app: App): Promise<RestSection> {
  const globalBudget = app.deps.rest.stats().globalBudget
    ? await readGlobalBudget(app.deps.kv, app.deps.clock.now())
    : null;
  return { ...(await restFigures(app)), globalBudget };
}

async function restFigures(app: App): Promise<Omit<RestSection, "globalBudget">> {
  // Without metrics there is no snapshot to aggregate: this isolate's client is all there is.
  if (!app.deps.metrics) {
    const s = app.deps.rest.stats();
    return {
      scope: "this instance",
      requests: s.requests,
      rateLimited: s.rateLimited,
      invalid: { used: s.invalidRequests.used, limit: s.invalidRequests.limit },
      serverErrors: s.serverErrors,
      retries: s.retries,
    };
  }
  const metrics = await (await aggregate(app.deps.kv, app.deps.metrics))
    .getMetricsAsJSON() as unknown as MetricJson[];
  const values = (name: string) => metrics.find((m) => m.name === name)?.values ?? [];
  const sum = (name: string, pick: (l: Record<string, string | number>) => boolean = () => true) =>
    values(name).filter((v) => pick(v.labels)).reduce((n, v) => n + v.value, 0);
  return {
    scope: "all instances",
    requests: sum("discord_rest_requests_total"),
    rateLimited: {
      user: sum("discord_rest_rate_limited_total", (l) => l.scope === "user"),
      global: sum("discord_rest_rate_limited_total", (l) => l.scope === "global"),
      shared: sum("discord_rest_rate_limited_total", (l) => l.scope === "shared"),
    },
    invalid: {
      used: sum("discord_rest_invalid_requests"),
      limit: sum("discord_rest_invalid_requests_limit") ||
        app.deps.config.discord.invalidRequestLimit,
    },
    serverErrors: sum("discord_rest_requests_total", (l) => String(l.status).startsWith("5")),
    retries: sum("discord_rest_retries_total"),
  };
}

/** The freshness pass's report, without the hour's raw lag sample (the page and JSON need none). */
async function freshSection(app: App, report: Promise<FreshReport>): Promise<FreshSection> {
  const r = await report;
  const now = app.deps.clock.now();
  return {
    enabled: r.enabled,
    last: r.last,
    feed: r.cursor
      ? { at: r.cursor.at, ageS: Math.max(0, (now - r.cursor.at) / 1000), more: !!r.cursor.resume }
      : null,
    backlog: r.backlog,
    lagHour: { minutes: r.lagHour.minutes, all: r.lagHour.all },
    lag15: r.lag15,
    targetS: TARGET_P95_S,
    alertS: ALERT_P95_S,
    alertWindowMin: ALERT_WINDOW_MIN,
  };
}

/** Linked roles at a glance; the last pass's figures come from the freshness report. */
async function linkedSection(app: App, report: Promise<FreshReport>): Promise<LinkedSection> {
  const [s, lastPass] = await Promise.all([
    linkedRolesStatus(app.deps),
    section(async (): Promise<LinkedPassFigures | null> => {
      const last = (await report).last;
      // A summary written before linked roles existed has no `linked` at all.
      const l = last?.linked;
      return last && l
        ? {
          at: last.at,
          pushes: l.pushes,
          refreshes: l.refreshes,
          failures: l.failures,
          unlinked: l.unlinked,
          applied: l.applied,
          notLinked: l.notLinked,
          left: l.left,
        }
        : null;
    }),
  ]);
  return {
    enabled: s.enabled,
    verificationUrl: s.verificationUrl,
    redirectUri: s.redirectUri,
    registered: s.registered,
    linkedUsers: s.linkedUsers,
    lastPass,
  };
}

export async function collectStatus(app: App): Promise<StatusData> {
  // One report for both sections that read it (the freshness section and the linked roles').
  const report = freshReport(app.deps);
  const syncOf = syncReader(app);
  const [sync, guilds, commands, backups, rest, fresh, linked, alerts] = await Promise.all([
    section(() => syncSection(app, syncOf)),
    section(() => guildsSection(app, syncOf)),
    section(() => commandsSection(app)),
    section(() => backupsSection(app)),
    section(() => restSection(app)),
    section(() => freshSection(app, report)),
    section(() => linkedSection(app, report)),
    section(() => recentAlerts(app.deps.kv, 20)),
  ]);
  return {
    generatedAt: app.deps.clock.now(),
    version: app.deps.config.version,
    sync,
    guilds,
    commands,
    backups,
    rest,
    fresh,
    linked,
    alerts,
  };
}
