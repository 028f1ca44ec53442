/**
 * Status page sections built by hand, each with every part filled (and the `ok` wrapper), so the
 * renderers' tests reach each branch without a running bot. Times are fixed: 2026-11-22 12:00 UTC.
 */
import type { JobProgress } from "../../lib/jobs/progress.ts";
import type {
  BackupsSection,
  CommandsSection,
  FreshSection,
  GuildsSection,
  LinkedSection,
  RestSection,
  Section,
  StatusData,
  SyncSection,
} from "../../lib/status/data.ts";
import type { Alert } from "../../lib/ops/alerts.ts";

export const NOW = Date.UTC(2026, 10, 22, 12);
export const GUILD = "200000000000000001";
const MIN = 60_000;

export const ok = <T>(value: T): Section<T> => ({ ok: true, value });
export const failed = <T>(error: string): Section<T> => ({ ok: false, error });

export function progress(over: Partial<JobProgress> = {}): JobProgress {
  return {
    kind: "sync",
    key: GUILD,
    runId: "run-1",
    state: "running",
    mode: "full",
    dryRun: false,
    processed: 1_500,
    total: 2_000,
    counters: { changed: 40, unchanged: 1_400, "skipped.bot": 30, "skipped.left": 20, errors: 10 },
    chunk: 3,
    chunkSize: 500,
    lastIndex: 1_499,
    nextIndex: 1_500,
    cursor: null,
    startedAt: new Date(NOW - 10 * MIN).toISOString(),
    updatedAt: new Date(NOW).toISOString(),
    chunkStartedAt: new Date(NOW - MIN).toISOString(),
    finishedAt: null,
    ratePerSecond: 12.34,
    etaSeconds: 125,
    autoContinue: true,
    stopRequested: false,
    lease: null,
    lastError: null,
    warnings: [],
    sample: [],
    ...over,
  };
}

export function syncSection(over: Partial<SyncSection> = {}): SyncSection {
  return {
    guildId: GUILD,
    current: progress(),
    chunkSeconds: 42,
    perMinute: [{ minute: NOW - 2 * MIN, processed: 300 }, { minute: NOW - MIN, processed: 600 }],
    runs: [{
      runId: "run-0",
      state: "completed",
      mode: "incremental",
      dryRun: true,
      processed: 2_000,
      total: 2_000,
      counters: { changed: 3, "skipped.bot": 2, "skipped.left": 1 },
      chunks: 4,
      startedAt: NOW - 60 * MIN,
      finishedAt: NOW - 50 * MIN,
      activeMs: 95_000,
      lastError: null,
    }],
    ...over,
  };
}

export function guildsSection(): GuildsSection {
  return {
    guilds: [{
      guildId: GUILD,
      active: true,
      configured: true,
      fromEnvironment: true,
      schedule: "every 6 h",
      logChannelId: null,
      state: "completed",
      processed: 2_000,
      total: 2_000,
      changed: 40,
      lastRunAt: new Date(NOW - 50 * MIN).toISOString(),
      levels: [{ level: "Exemplary", members: 10 }, { level: "Neutral", members: 5 }],
    }, {
      guildId: "200000000000000002",
      active: false,
      configured: false,
      fromEnvironment: false,
      schedule: "off",
      logChannelId: "300000000000000009",
      state: "idle",
      processed: 0,
      total: null,
      changed: 0,
      lastRunAt: null,
      levels: [],
    }],
  };
}

export function commandsSection(): CommandsSection {
  return {
    fingerprint: "0123456789abcdef0123",
    commands: 14,
    scope: "global",
    lastSyncAt: NOW - MIN,
    lastAttempt: { at: NOW - MIN, result: "synced" },
    drift: { at: NOW - 2 * MIN, inSync: false, summary: "1 added" },
    cooldownUntil: NOW + 30 * MIN,
  };
}

export function backupsSection(): BackupsSection {
  return {
    guilds: [{
      guildId: GUILD,
      count: 3,
      pinned: 1,
      bytes: 2_500_000,
      latest: { id: "ab12cd34", label: "<before> cleanup", at: NOW - MIN, bytes: 800_000 },
    }],
    restores: [{ guildId: GUILD, progress: progress({ kind: "restore" }), backupId: null }],
  };
}

export function restSection(): RestSection {
  return {
    scope: "all instances",
    requests: 12_345,
    rateLimited: { user: 2, global: 0, shared: 1 },
    invalid: { used: 80, limit: 8_000 },
    serverErrors: 3,
    retries: 4,
    globalBudget: { clients: 2, bookedAheadMs: 120 },
  };
}

export function freshSection(over: Partial<FreshSection> = {}): FreshSection {
  return {
    enabled: true,
    last: {
      at: NOW - MIN,
      durationMs: 2_400,
      intake: {
        ran: true,
        pages: 2,
        read: 1_200,
        queued: 30,
        repeated: 4,
        otherService: 7,
        badTime: 1,
        cursorReset: false,
        more: false,
        gap: true,
      },
      guilds: [{
        guildId: GUILD,
        ran: true,
        applied: 12,
        written: 5,
        calls: 6,
        reads: 2,
        notMember: 1,
        left: 3,
        refused: 1,
      }, {
        guildId: "200000000000000002",
        ran: false,
        reason: "role sync is turned off for this server",
        applied: 0,
        written: 0,
        calls: 0,
        reads: 0,
        notMember: 0,
        left: 0,
        refused: 0,
      }],
      linked: null,
      lastApplied: { lagS: 4.25, at: NOW - MIN },
    },
    feed: { at: NOW - MIN, ageS: 60, more: true },
    backlog: [{ guildId: GUILD, count: 3, oldestAgeS: 75.5 }],
    lagHour: {
      minutes: [
        { at: NOW - 3 * MIN, n: 0, p50: null, p95: null, max: null },
        { at: NOW - 2 * MIN, n: 4, p50: 2.5, p95: 8.125, max: 20 },
        { at: NOW - MIN, n: 2, p50: 3, p95: 3, max: 3 },
      ],
      all: { n: 6, p50: 3, p95: 8.125, max: 20 },
    },
    lag15: { n: 9, p50: 3, p95: 35, max: 50 },
    targetS: 15,
    alertS: 30,
    alertWindowMin: 15,
    ...over,
  };
}

export function linkedSection(over: Partial<LinkedSection> = {}): LinkedSection {
  return {
    enabled: true,
    verificationUrl: "https://bot.example/linked-role",
    redirectUri: "https://bot.example/linked-role/callback",
    registered: { at: NOW - 60 * MIN, current: false },
    linkedUsers: 1_234,
    lastPass: ok({
      at: NOW - MIN,
      pushes: 3,
      refreshes: 1,
      failures: 2,
      unlinked: 1,
      applied: 3,
      notLinked: 4,
      left: 0,
    }),
    ...over,
  };
}

export function alerts(): Alert[] {
  return [
    {
      cause: "sync_failed:1",
      title: "Sync <failed>",
      detail: "see the log",
      severity: "critical",
      at: NOW - MIN,
      delivered: false,
    },
    {
      cause: "x",
      title: "Warning",
      detail: "minor",
      severity: "warning",
      at: NOW - 2 * MIN,
      delivered: true,
    },
  ];
}

/** A page with every section filled. */
export function statusData(): StatusData {
  return {
    generatedAt: NOW,
    version: "1.2.3",
    sync: ok(syncSection()),
    guilds: ok(guildsSection()),
    commands: ok(commandsSection()),
    backups: ok(backupsSection()),
    rest: ok(restSection()),
    fresh: ok(freshSection()),
    linked: ok(linkedSection()),
    alerts: ok(alerts()),
  };
}

/** The text of the element with this id (tags stripped, spaces collapsed). */
export function textOf(html: string, id: string): string {
  const m = html.match(new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`));
  if (!m) throw new Error(`#${id} is not in the HTML`);
  return m[2].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}
