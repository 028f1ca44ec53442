/**
 * The one progress shape every long job reports (role sync now, backup capture and restore
 * later), and pure helpers to render it. The HTTP status route returns it, the slash commands
 * and the status page render it, and sync-helper.ts imports these types and helpers (this module
 * has no I/O, so the CLI can share it without running anything of the bot).
 */
import type { Reason } from "../i18n/reason.ts";

export const JOB_STATES = [
  "idle",
  "running",
  "waiting",
  "stopping",
  "stopped",
  "completed",
  "failed",
] as const;
export type JobState = typeof JOB_STATES[number];

export interface JobProgress {
  kind: string;
  /** The job's key: the guild id for the role sync. */
  key: string;
  runId: string | null;
  state: JobState;
  /** Job-specific flavour, e.g. "full" or "incremental". */
  mode: string | null;
  dryRun: boolean;
  /** Items done so far in this run (members for the sync), in walk order. */
  processed: number;
  /** Expected items, when known (the guild's approximate member count). */
  total: number | null;
  /** Outcome counters, flat: "changed", "unchanged", "skipped.bot", "errors.missing_permissions". */
  counters: Record<string, number>;
  /** Number of the current (or last) chunk, from 1. */
  chunk: number;
  chunkSize: number;
  /** Index of the last item processed (processed - 1), null before the first. */
  lastIndex: number | null;
  /** The startIndex that continues this run: equal to processed. */
  nextIndex: number;
  /** Walk cursor (highest user id done), for the curious. */
  cursor: string | null;
  startedAt: string | null;
  updatedAt: string | null;
  chunkStartedAt: string | null;
  finishedAt: string | null;
  /** Items per second while chunks ran (waits between chunks excluded). */
  ratePerSecond: number | null;
  /** Seconds left at that rate, when the total is known. */
  etaSeconds: number | null;
  autoContinue: boolean;
  stopRequested: boolean;
  /** The chunk lease: live while a chunk runs; a dead lease on a running run means it died. */
  lease: { live: boolean; expiresAt: string } | null;
  lastError: string | null;
  /** Why the last error happened, when the error said (members read it in their language). */
  lastErrorWhy?: Reason;
  warnings: string[];
  /** Dry runs: a sample of what would change. */
  sample: unknown[];
}

export function idleProgress(kind: string, key: string): JobProgress {
  return {
    kind,
    key,
    runId: null,
    state: "idle",
    mode: null,
    dryRun: false,
    processed: 0,
    total: null,
    counters: {},
    chunk: 0,
    chunkSize: 0,
    lastIndex: null,
    nextIndex: 0,
    cursor: null,
    startedAt: null,
    updatedAt: null,
    chunkStartedAt: null,
    finishedAt: null,
    ratePerSecond: null,
    etaSeconds: null,
    autoContinue: false,
    stopRequested: false,
    lease: null,
    lastError: null,
    warnings: [],
    sample: [],
  };
}

/** Sum of the counters under a prefix: total("skipped") adds every "skipped.*". */
export function total(counters: Record<string, number>, prefix: string): number {
  let n = counters[prefix] ?? 0;
  for (const [k, v] of Object.entries(counters)) if (k.startsWith(prefix + ".")) n += v;
  return n;
}

/** The counters under a prefix without it: {bot: 3, score_unavailable: 2}. */
export function breakdown(
  counters: Record<string, number>,
  prefix: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) {
    if (k.startsWith(prefix + ".") && v > 0) out[k.slice(prefix.length + 1)] = v;
  }
  return out;
}

/** Whether a run has died: marked running but nobody holds its lease. */
export function isStale(p: JobProgress): boolean {
  return (p.state === "running" || p.state === "stopping") && !(p.lease?.live ?? false);
}

export function fraction(p: JobProgress): number | null {
  if (p.state === "completed") return 1;
  if (!p.total || p.total <= 0) return null;
  return Math.max(0, Math.min(1, p.processed / p.total));
}

/** `[██████░░░░]`-style bar; unknown totals render as an empty bar. */
export function progressBar(p: JobProgress, width = 20, full = "█", empty = "░"): string {
  const f = fraction(p) ?? 0;
  const filled = Math.round(f * width);
  return full.repeat(filled) + empty.repeat(width - filled);
}

/** "1h 02m", "4m 05s", "12s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "unknown";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

/** One line for logs, the CLI's plain output and short replies. */
export function summaryLine(p: JobProgress): string {
  const pct = fraction(p);
  const of = p.total !== null ? `/${p.total}` : "";
  const parts = [
    `${p.state}`,
    `${p.processed}${of}${pct !== null ? ` (${Math.floor(pct * 100)}%)` : ""}`,
    `changed ${p.counters["changed"] ?? 0}`,
    `unchanged ${p.counters["unchanged"] ?? 0}`,
    `skipped ${total(p.counters, "skipped")}`,
    `errors ${total(p.counters, "errors")}`,
    `chunk ${p.chunk}`,
  ];
  if (p.ratePerSecond !== null) parts.push(`${p.ratePerSecond.toFixed(1)}/s`);
  if (p.etaSeconds !== null && p.state === "running") {
    parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  }
  if (p.dryRun) parts.push("dry run");
  return parts.join(" · ");
}
