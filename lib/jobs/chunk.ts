/**
 * One chunk of a job, once the runner has started it under its lease: the job's preflight (unless
 * the starter ran it), the job's work under a time box, a heartbeat and the SIGINT grace, every
 * checkpoint committed with the lease, the run's state when the chunk ends, and the call for the
 * next chunk of an auto-continued run.
 */
import { isAbort } from "../abort.ts";
import { type Reason, reasonOf } from "../i18n/reason.ts";
import { keys } from "../kv/keys.ts";
import { commitWithLease, type Lease } from "../kv/lease.ts";
import { historyMutation, pruneHistory, seriesMutation } from "./history.ts";
import {
  type CheckpointUpdate,
  type ChunkResult,
  DEFAULT_LEASE_MS,
  type JobDefinition,
  type JobEnv,
  LeaseLostError,
  type StartRequest,
  type StopReason,
} from "./job.ts";
import { readProgress, type RunRecord, type RunState } from "./store.ts";

const DEFAULT_GRACE_MS = 2_500;
const MAX_WARNINGS = 20;
const MAX_SAMPLE = 25;

/** Starts the next chunk of a waiting run; `dying` when this instance is shutting down. */
export type ChainNext = (run: RunRecord, dying: boolean) => void;

/**
 * Runs the chunk `start` (already committed as running under `firstLease`) to its end and
 * returns how it ended. Never throws for the job's errors: a failing chunk fails the run.
 */
export async function executeChunk<P>(
  env: JobEnv,
  def: JobDefinition<P>,
  start: RunRecord,
  firstLease: Lease,
  req: StartRequest<P>,
  chainNext: ChainNext,
): Promise<ChunkResult> {
  const { kv, clock } = env;
  const log = env.log.child({
    job: def.kind,
    key: start.key,
    runId: start.runId,
    chunk: start.chunk,
  });
  const leaseMs = env.leaseMs ?? DEFAULT_LEASE_MS;
  const graceMs = env.graceMs ?? DEFAULT_GRACE_MS;
  const soft = new AbortController();
  const hard = new AbortController();
  const timers = new AbortController();
  const why: { reason: StopReason | null } = { reason: null };
  const stopWith = (r: StopReason) => {
    if (!soft.signal.aborted) {
      why.reason = r;
      soft.abort(new DOMException(`chunk stopping: ${r}`, "AbortError"));
    }
  };
  let lease: Lease | null = firstLease;
  let current: RunRecord = { ...start };
  let chain: Promise<void> = Promise.resolve();
  let processedInChunk = 0;
  let pausedBecause: string | null = null;
  const stopAsked = async () => {
    const stop = await kv.get(keys.jobStop(def.kind, start.key));
    return (stop.value as { runId?: string } | null)?.runId === start.runId;
  };

  // Checkpoints go out one after another, each checking and renewing the lease.
  const checkpoint = (u: CheckpointUpdate): Promise<void> => {
    const next = chain.then(async () => {
      if (!lease) throw new LeaseLostError();
      if (await stopAsked()) stopWith("stop");
      const rec = applyUpdate(current, u, clock.now());
      const renewed = await commitWithLease(kv, lease, leaseMs, clock, (op) => {
        op.set(keys.jobRun(def.kind, start.key), rec);
        seriesMutation(op, rec, clock.now());
      });
      if (!renewed) {
        lease = null;
        stopWith("lease_lost");
        hard.abort(new LeaseLostError());
        throw new LeaseLostError();
      }
      lease = renewed;
      current = rec;
      processedInChunk += (u.processed ?? 0) - (u.skippedByIndex ?? 0);
    });
    chain = next.catch(() => {});
    return next;
  };

  // Time box, heartbeat, SIGINT.
  const deadline = clock.now() + (req.maxChunkMs ?? env.maxChunkMs);
  clock.sleep(Math.max(0, deadline - clock.now()), timers.signal).then(
    () => stopWith("time_box"),
    () => {},
  );
  (async () => {
    while (!timers.signal.aborted) {
      await clock.sleep(leaseMs / 3, timers.signal);
      await checkpoint({}).catch(() => {});
    }
  })().catch(() => {});
  const onShutdown = () => {
    stopWith("shutdown");
    clock.sleep(graceMs, timers.signal).then(
      () => hard.abort(new DOMException("shutdown grace over", "AbortError")),
      () => {},
    );
  };
  if (env.shutdown?.aborted) onShutdown();
  else env.shutdown?.addEventListener("abort", onShutdown, { once: true });

  let outcome: { finished: boolean; result?: unknown } = { finished: false };
  let error: unknown = null;
  try {
    // The starter's preflight result, or this chunk's own run of it (once either way).
    const preflight = req.preflight !== undefined || !def.preflight
      ? req.preflight as P
      : await def.preflight(start.key);
    outcome = await def.runChunk({
      run: start,
      preflight,
      signal: soft.signal,
      hard: hard.signal,
      deadline,
      limit: start.chunkSize,
      log,
      checkpoint,
      stopReason: () => why.reason,
      pause: (message: string) => {
        pausedBecause = message;
        stopWith("paused");
      },
    });
  } catch (e) {
    error = e;
  }
  timers.abort();
  env.shutdown?.removeEventListener("abort", onShutdown);
  await chain;

  const now = clock.now();
  const aborted = error !== null &&
    (error instanceof LeaseLostError || (soft.signal.aborted && isAbort(error)));
  let state: RunState;
  let lastError: { text: string; why?: Reason } | null = null;
  let reason = why.reason;
  if (error !== null && !aborted) {
    state = "failed";
    // The text for the logs and the API; its Reason, when the error carries one, for members.
    lastError = error instanceof Error
      ? { text: error.message, why: reasonOf(error) }
      : { text: String(error) };
    reason = "failed";
    log.error("job: chunk failed", { error });
  } else if (outcome.finished && !error) {
    state = "completed";
  } else if (reason === "stop") {
    state = "stopped";
  } else {
    state = "waiting";
  }
  // A stop that arrived after the last checkpoint still counts.
  if (state === "waiting" && lease && await stopAsked().catch(() => false)) {
    state = "stopped";
    reason = "stop";
  }
  const final = endRecord(current, start, state, lastError, pausedBecause, now);
  if (lease) {
    const ok = await commitWithLease(kv, lease, leaseMs, clock, (op) => {
      op.set(keys.jobRun(def.kind, start.key), final);
      seriesMutation(op, final, now);
      if (state === "stopped" || state === "completed") {
        op.delete(keys.jobStop(def.kind, start.key));
      }
      // A run that ended (not one waiting for its next chunk) joins the status page's history.
      if (state !== "waiting") historyMutation(op, final, now);
    }, true);
    if (ok && state !== "waiting") {
      await pruneHistory(kv, def.kind, start.key).catch(() => {});
    }
    if (!ok) log.warn("job: lease lost before the final checkpoint");
    lease = null;
  } else {
    log.warn("job: chunk ended without its lease; its last progress stays as committed");
  }
  log.info("job: chunk ended", {
    state,
    reason,
    processed: final.processed,
    processedInChunk,
    ms: now - (start.chunkStartedAt ?? now),
  });
  try {
    env.onChunkEnd?.({
      kind: def.kind,
      key: start.key,
      before: start,
      after: final,
      durationMs: now - (start.chunkStartedAt ?? now),
    });
  } catch (error) {
    log.warn("job: onChunkEnd failed", { error });
  }

  // A paused run is not chained at once (that would hammer a failing dependency): the watchdog
  // resumes it after LOST_CONTINUATION_MS.
  if (state === "waiting" && final.autoContinue && reason !== "lease_lost" && reason !== "paused") {
    chainNext(final, reason === "shutdown");
  }
  return {
    runId: start.runId,
    chunk: start.chunk,
    state,
    processedInChunk,
    stopReason: reason,
    progress: await readProgress(env, def.kind, start.key),
    result: outcome.result,
  };
}

/** The run record after a checkpoint's update. */
function applyUpdate(rec: RunRecord, u: CheckpointUpdate, now: number): RunRecord {
  const counters = { ...rec.counters };
  for (const [k, v] of Object.entries(u.counters ?? {})) {
    if (v) counters[k] = (counters[k] ?? 0) + v;
  }
  const warnings = [...rec.warnings];
  for (const w of u.warnings ?? []) {
    if (!warnings.includes(w) && warnings.length < MAX_WARNINGS) warnings.push(w);
  }
  return {
    ...rec,
    processed: rec.processed + (u.processed ?? 0) + (u.skippedByIndex ?? 0),
    skippedByIndex: rec.skippedByIndex + (u.skippedByIndex ?? 0),
    counters,
    checkpoint: u.checkpoint === undefined ? rec.checkpoint : u.checkpoint,
    cursor: u.cursor === undefined ? rec.cursor : u.cursor,
    total: u.total === undefined ? rec.total : u.total,
    warnings,
    sample: [...rec.sample, ...(u.sample ?? [])].slice(0, MAX_SAMPLE),
    updatedAt: now,
  };
}

/** The run record as the chunk ends in `state`. */
function endRecord(
  current: RunRecord,
  start: RunRecord,
  state: RunState,
  lastError: { text: string; why?: Reason } | null,
  pausedBecause: string | null,
  now: number,
): RunRecord {
  // A new error replaces the last one, and its Reason (or the lack of one) replaces the last's.
  const { lastErrorWhy, ...kept } = current;
  const error = lastError ?? { text: current.lastError, why: lastErrorWhy };
  return {
    ...kept,
    state,
    updatedAt: now,
    finishedAt: state === "completed" ? now : current.finishedAt,
    chunkStartedAt: null,
    activeMs: current.activeMs + Math.max(0, now - (start.chunkStartedAt ?? now)),
    lastError: error.text,
    ...(error.why ? { lastErrorWhy: error.why } : {}),
    total: state === "completed" ? current.processed : current.total,
    warnings: pausedBecause
      ? [...current.warnings, `paused at ${new Date(now).toISOString()}: ${pausedBecause}`].slice(
        -10,
      )
      : current.warnings,
  };
}
