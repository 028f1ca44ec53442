/**
 * The run record of a job in KV: one value per job kind + key (well under 64 KiB), validated on
 * read, plus the derived public progress (lib/jobs/progress.ts). The stop request lives under its
 * own key so an operator can ask for a stop without holding the chunk's lease.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";
import { YIELDING } from "../kv/lease.ts";
import { isReason, type Reason } from "../i18n/reason.ts";
import { idleProgress, type JobProgress, type JobState } from "./progress.ts";

export const runRecordSchema = z.object({
  v: z.literal(1),
  kind: z.string(),
  key: z.string(),
  runId: z.string(),
  state: z.enum(["running", "waiting", "stopping", "stopped", "completed", "failed"]),
  mode: z.string(),
  dryRun: z.boolean(),
  processed: z.number().int().nonnegative(),
  /** Items passed over to honour a startIndex that did not match the checkpoint. */
  skippedByIndex: z.number().int().nonnegative(),
  total: z.number().int().nonnegative().nullable(),
  counters: z.record(z.string(), z.number()),
  chunk: z.number().int().nonnegative(),
  chunkSize: z.number().int().positive(),
  cursor: z.string().nullable(),
  startedAt: z.number(),
  updatedAt: z.number(),
  chunkStartedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  /** Milliseconds spent in finished chunks (waits between chunks excluded). */
  activeMs: z.number().nonnegative(),
  autoContinue: z.boolean(),
  lastError: z.string().nullable(),
  /** Why lastError happened, when the error said; one whose key left the catalogue reads as none. */
  lastErrorWhy: z.custom<Reason>(isReason).optional().catch(undefined),
  warnings: z.array(z.string()),
  sample: z.array(z.unknown()),
  /** Job-specific position (cursor, skip count, cached context); validated by the job. */
  checkpoint: z.unknown(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;
export type RunState = RunRecord["state"];

const UNFINISHED: ReadonlySet<RunState> = new Set([
  "running",
  "waiting",
  "stopping",
  "stopped",
  "failed",
]);

/** Whether a run in this state can still be continued (a completed one cannot). */
export function isUnfinished(state: RunState): boolean {
  return UNFINISHED.has(state);
}

const stopSchema = z.object({ runId: z.string(), at: z.number(), by: z.string() });
export type StopRequest = z.infer<typeof stopSchema>;

const leaseSchema = z.object({ owner: z.string(), expiresAt: z.number(), takenAt: z.number() });

export const leaseName = (kind: string, key: string): string => `job:${kind}:${key}`;

export interface Snapshot {
  run: { value: RunRecord; versionstamp: string } | null;
  stop: StopRequest | null;
  /** The chunk's lease (a yielding holder's, which is no chunk and gives way, counts as none). */
  lease: { expiresAt: number; owner: string } | null;
}

/** Run record, stop request and lease in one getMany. An unreadable record counts as none. */
export async function readSnapshot(kv: Deno.Kv, kind: string, key: string): Promise<Snapshot> {
  const [run, stop, lease] = await kv.getMany([
    keys.jobRun(kind, key),
    keys.jobStop(kind, key),
    keys.lease(leaseName(kind, key)),
  ]);
  const r = runRecordSchema.safeParse(run.value);
  const s = stopSchema.safeParse(stop.value);
  const l = leaseSchema.safeParse(lease.value);
  return {
    run: r.success && run.versionstamp ? { value: r.data, versionstamp: run.versionstamp } : null,
    stop: s.success ? s.data : null,
    lease: l.success && !l.data.owner.startsWith(YIELDING)
      ? { expiresAt: l.data.expiresAt, owner: l.data.owner }
      : null,
  };
}

const iso = (ms: number | null | undefined) =>
  (ms === null || ms === undefined) ? null : new Date(ms).toISOString();

/** The public progress of a run record (the one shape every reader gets). */
export function toProgress(
  kind: string,
  key: string,
  snap: Snapshot,
  now: number,
): JobProgress {
  const rec = snap.run?.value;
  if (!rec) return idleProgress(kind, key);
  const stopRequested = snap.stop?.runId === rec.runId &&
    (rec.state === "running" || rec.state === "stopping");
  const live = snap.lease !== null && snap.lease.expiresAt > now;
  let state: JobState = rec.state;
  if (state === "running" && stopRequested) state = "stopping";
  const active = rec.activeMs +
    ((rec.state === "running" || rec.state === "stopping") && rec.chunkStartedAt !== null && live
      ? Math.max(0, now - rec.chunkStartedAt)
      : 0);
  const done = rec.processed - rec.skippedByIndex;
  const rate = active >= 1000 && done > 0 ? done / (active / 1000) : null;
  const eta = rate && rec.total !== null && state !== "completed"
    ? Math.max(0, rec.total - rec.processed) / rate
    : state === "completed"
    ? 0
    : null;
  return {
    kind,
    key,
    runId: rec.runId,
    state,
    mode: rec.mode,
    dryRun: rec.dryRun,
    processed: rec.processed,
    total: rec.total,
    counters: { ...rec.counters },
    chunk: rec.chunk,
    chunkSize: rec.chunkSize,
    lastIndex: rec.processed > 0 ? rec.processed - 1 : null,
    nextIndex: rec.processed,
    cursor: rec.cursor,
    startedAt: iso(rec.startedAt),
    updatedAt: iso(rec.updatedAt),
    chunkStartedAt: iso(rec.chunkStartedAt),
    finishedAt: iso(rec.finishedAt),
    ratePerSecond: rate === null ? null : Math.round(rate * 100) / 100,
    etaSeconds: eta === null ? null : Math.round(eta),
    autoContinue: rec.autoContinue,
    stopRequested,
    lease: snap.lease ? { live, expiresAt: new Date(snap.lease.expiresAt).toISOString() } : null,
    lastError: rec.lastError,
    ...(rec.lastErrorWhy ? { lastErrorWhy: rec.lastErrorWhy } : {}),
    warnings: [...rec.warnings],
    sample: [...rec.sample],
  };
}

/** The public progress of the job as it is now. */
export async function readProgress(
  env: { kv: Deno.Kv; clock: Clock },
  kind: string,
  key: string,
): Promise<JobProgress> {
  return toProgress(kind, key, await readSnapshot(env.kv, kind, key), env.clock.now());
}

/** Every run record of a kind (for the watchdog). */
export async function listRuns(kv: Deno.Kv, kind: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for await (const e of kv.list({ prefix: keys.jobPrefix(kind) })) {
    if (e.key[e.key.length - 1] !== "run") continue;
    const parsed = runRecordSchema.safeParse(e.value);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
