/**
 * What a job leaves behind for the status page: a summary of every finished run (newest first,
 * capped) and, per run, items processed by minute (the chart). Written by the runner alongside
 * its checkpoints; read-only everywhere else.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import type { RunRecord } from "./store.ts";

export const HISTORY_KEEP = 50;
const SERIES_TTL_MS = 7 * 24 * 60 * 60_000;
const MINUTE = 60_000;

const runSummarySchema = z.object({
  runId: z.string(),
  state: z.string(),
  mode: z.string(),
  dryRun: z.boolean(),
  processed: z.number(),
  total: z.number().nullable(),
  counters: z.record(z.string(), z.number()),
  chunks: z.number(),
  startedAt: z.number(),
  finishedAt: z.number(),
  activeMs: z.number(),
  lastError: z.string().nullable(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export function summarize(rec: RunRecord, finishedAt: number): RunSummary {
  return {
    runId: rec.runId,
    state: rec.state,
    mode: rec.mode,
    dryRun: rec.dryRun,
    processed: rec.processed,
    total: rec.total,
    counters: rec.counters,
    chunks: rec.chunk,
    startedAt: rec.startedAt,
    finishedAt,
    activeMs: rec.activeMs,
    lastError: rec.lastError,
  };
}

/** Mutations that record a finished run; add them to the runner's final commit. */
export function historyMutation(op: Deno.AtomicOperation, rec: RunRecord, finishedAt: number) {
  op.set(
    keys.jobHistory(rec.kind, rec.key, Number.MAX_SAFE_INTEGER - finishedAt, rec.runId),
    summarize(rec, finishedAt),
  );
}

/** The point of the per-minute series for `processed` at `now` (a set, overwritten within the minute). */
export function seriesMutation(op: Deno.AtomicOperation, rec: RunRecord, now: number) {
  const minute = Math.floor(now / MINUTE) * MINUTE;
  op.set(keys.jobSeries(rec.kind, rec.key, rec.runId, minute), rec.processed, {
    expireIn: SERIES_TTL_MS,
  });
}

export async function listHistory(
  kv: Deno.Kv,
  kind: string,
  key: string,
  limit = 10,
): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for await (const e of kv.list({ prefix: keys.jobHistoryPrefix(kind, key) }, { limit })) {
    const parsed = runSummarySchema.safeParse(e.value);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** Deletes summaries beyond the newest HISTORY_KEEP. */
export async function pruneHistory(kv: Deno.Kv, kind: string, key: string): Promise<void> {
  let n = 0;
  for await (const e of kv.list({ prefix: keys.jobHistoryPrefix(kind, key) })) {
    if (++n > HISTORY_KEEP) await kv.delete(e.key);
  }
}

/** Items processed in each minute of a run, oldest first. */
export async function perMinute(
  kv: Deno.Kv,
  kind: string,
  key: string,
  runId: string,
): Promise<{ minute: number; processed: number }[]> {
  const points: { minute: number; total: number }[] = [];
  for await (const e of kv.list<number>({ prefix: keys.jobSeriesPrefix(kind, key, runId) })) {
    points.push({ minute: Number(e.key[e.key.length - 1]), total: Number(e.value) });
  }
  return points.map((p, i) => ({
    minute: p.minute,
    processed: Math.max(0, p.total - (i ? points[i - 1].total : 0)),
  }));
}
