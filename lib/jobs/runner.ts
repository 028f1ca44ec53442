/**
 * The one runner for long work on serverless. A job (kind + key, e.g. sync + guild id) runs as a
 * series of chunks; each chunk
 *
 * - holds the job's lease (a second chunk of the same job never runs meanwhile: 409),
 * - is time-boxed (`maxChunkMs`) and size-capped (`chunkSize` items),
 * - checkpoints after every batch in ONE atomic commit that checks the lease, renews it and
 *   writes the run record (so a chunk that lost its lease can never overwrite progress; 1 check,
 *   well within the self-hosted KV's 10),
 * - heartbeats (the same commit) while it waits on rate limits, and reads the stop request,
 * - on SIGINT (the app's shutdown signal) stops taking work, lets in-flight requests finish for
 *   `graceMs`, aborts the rest, and writes its last checkpoint and releases the lease in the same
 *   commit, well within Deploy's 5 s,
 * - ends as completed, stopped, failed or waiting; a waiting run continues itself over HTTP
 *   (`POST {SELF_URL}{continuePath}` with the bearer token, fire-and-forget through waitUntil)
 *   when auto-continue is on, or in-process when no SELF_URL is set.
 *
 * A watchdog resumes runs whose chunk died (marked running, lease lapsed) and auto-continued runs
 * whose continuation request got lost.
 *
 * Continuations carry `{runId, chunk}`, so a duplicate (watchdog + self-chain) is a no-op rather
 * than a second walk.
 *
 * This module is the runner's entry (start, stop, watchdog); its parts live beside it: the
 * contract with jobs (job.ts, re-exported here), the start decision (start_decision.ts, pure), one
 * chunk's execution (chunk.ts) and the HTTP continuation (continuation.ts); the lease-checked
 * commit is kv/lease.ts's commitWithLease.
 */
import { type Reason, reason, refusal } from "../i18n/reason.ts";
import { keys } from "../kv/keys.ts";
import { acquireOrAsk, commitWithLease, releaseLease } from "../kv/lease.ts";
import type { JobProgress } from "./progress.ts";
import { executeChunk } from "./chunk.ts";
import { postContinuation } from "./continuation.ts";
import {
  DEFAULT_LEASE_MS,
  type JobDefinition,
  type JobEnv,
  LOST_CONTINUATION_MS,
  type StartRequest,
  type StartResult,
  YIELD_WAIT_MS,
} from "./job.ts";
import { decideStart, type LeaseState, newRunRecord } from "./start_decision.ts";
import {
  isUnfinished,
  leaseName,
  listRuns,
  readProgress,
  readSnapshot,
  type RunRecord,
  type RunState,
  toProgress,
} from "./store.ts";

export type {
  CheckpointUpdate,
  ChunkContext,
  ChunkEnd,
  ChunkResult,
  JobDefinition,
  JobEnv,
  StartRequest,
  StartResult,
  StopReason,
} from "./job.ts";

function newRunId(now: number): string {
  return `${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Starts a chunk of the job: a new run or the continuation of the unfinished one (see
 * StartRequest; decideStart says which). Returns at once with the run; `done` settles when the
 * chunk ends.
 */
export async function startChunk<P>(
  env: JobEnv,
  def: JobDefinition<P>,
  req: StartRequest<P>,
): Promise<StartResult> {
  const { kv, clock } = env;
  const leaseMs = env.leaseMs ?? DEFAULT_LEASE_MS;
  const shuttingDown = env.shutdown?.aborted ?? false;
  // A yielding holder (the freshness pass between chunks) gives the lease back when asked.
  const lease = shuttingDown ? null : await acquireOrAsk(
    kv,
    leaseName(def.kind, req.key),
    crypto.randomUUID(),
    leaseMs,
    clock,
    YIELD_WAIT_MS,
  );
  const leaseState: LeaseState = shuttingDown ? "shutting_down" : lease ? "held" : "taken";
  const record = lease ? (await readSnapshot(kv, def.kind, req.key)).run?.value ?? null : null;
  const now = clock.now();
  const defaults = { autoContinue: env.autoContinue, defaultChunkSize: env.defaultChunkSize };
  const decision = decideStart({ lease: leaseState, record, now, req, defaults });
  const progressNow = async () => await readProgress(env, def.kind, req.key);
  if (decision.action === "refuse") {
    if (lease) await releaseLease(kv, lease);
    const { status, why } = decision;
    return { status, reason: decision.reason, why, progress: await progressNow() };
  }
  const owned = lease!; // decideStart starts nothing without the lease

  let run: RunRecord;
  if (decision.action === "continue") {
    run = decision.run;
  } else {
    let fresh: { mode: string; checkpoint: unknown };
    try {
      fresh = await def.newRun(req, decision.skip);
    } catch (error) {
      await releaseLease(kv, owned);
      throw error;
    }
    run = newRunRecord({ kind: def.kind, runId: newRunId(now), now, req, defaults, fresh });
  }
  const held = await commitWithLease(kv, owned, leaseMs, clock, (op) => {
    op.set(keys.jobRun(def.kind, req.key), run);
    op.delete(keys.jobStop(def.kind, req.key));
  });
  if (!held) {
    return {
      status: "conflict",
      ...refusal(reason("reason.lease_lost")),
      progress: await progressNow(),
    };
  }
  env.log.info("job: chunk started", {
    job: def.kind,
    key: req.key,
    runId: run.runId,
    chunk: run.chunk,
    continued: decision.action === "continue",
    skip: decision.action === "new" ? decision.skip : 0,
    source: req.source,
  });
  const done = executeChunk(
    env,
    def,
    run,
    held,
    req,
    (final, dying) => scheduleContinuation(env, def, final, dying),
  );
  return { status: "started", run, progress: await progressNow(), done };
}

/**
 * Starts the next chunk: over HTTP when SELF_URL and the token are set (a new request, so a new
 * time budget, on whichever instance Deploy picks), else in this isolate.
 */
function scheduleContinuation<P>(
  env: JobEnv,
  def: JobDefinition<P>,
  run: Pick<RunRecord, "key" | "runId" | "chunk">,
  dying = false,
): void {
  const body = { runId: run.runId, chunk: run.chunk + 1 };
  if (env.selfUrl && env.authToken) {
    const url = `${env.selfUrl}${def.continuePath}`;
    env.waitUntil(postContinuation(env, url, body, dying ? 1 : 3));
    return;
  }
  if (dying) return; // The watchdog (or the operator) picks it up.
  env.waitUntil(
    startChunk(env, def, { key: run.key, ...body, source: "continue" }).then((r) =>
      r.status === "started" ? r.done.then(() => {}) : undefined
    ),
  );
}

export type StopResult =
  | { status: "stopping" | "stopped"; progress: JobProgress }
  | { status: "noop"; reason: string; why: Reason; progress: JobProgress };

/**
 * Asks the run to stop. A running chunk stops after its current batch; a run with no chunk
 * running (waiting, failed, or one whose chunk died) is marked stopped at once.
 */
export async function requestStop(
  env: JobEnv,
  def: Pick<JobDefinition, "kind">,
  key: string,
  by = "operator",
): Promise<StopResult> {
  const { kv, clock } = env;
  const snap = await readSnapshot(kv, def.kind, key);
  const rec = snap.run?.value;
  if (!rec || !isUnfinished(rec.state) || rec.state === "stopped") {
    return {
      status: "noop",
      ...refusal(nothingToStop(rec?.state)),
      progress: toProgress(def.kind, key, snap, clock.now()),
    };
  }
  await kv.set(keys.jobStop(def.kind, key), { runId: rec.runId, at: clock.now(), by });
  const live = snap.lease !== null && snap.lease.expiresAt > clock.now();
  if (live) {
    return { status: "stopping", progress: await readProgress(env, def.kind, key) };
  }
  // Nobody runs it: mark it stopped ourselves, under the lease.
  const lease = await acquireOrAsk(
    kv,
    leaseName(def.kind, key),
    crypto.randomUUID(),
    10_000,
    clock,
    YIELD_WAIT_MS,
  );
  if (!lease) return { status: "stopping", progress: await readProgress(env, def.kind, key) };
  const again = await readSnapshot(kv, def.kind, key);
  const cur = again.run?.value;
  if (cur && cur.runId === rec.runId && isUnfinished(cur.state)) {
    await commitWithLease(kv, lease, 10_000, clock, (op) => {
      op.set(keys.jobRun(def.kind, key), {
        ...cur,
        state: "stopped",
        chunkStartedAt: null,
        updatedAt: clock.now(),
      });
      op.delete(keys.jobStop(def.kind, key));
    }, true);
  } else {
    await releaseLease(kv, lease);
  }
  return { status: "stopped", progress: await readProgress(env, def.kind, key) };
}

/** Why a stop has nothing to stop: no run, or the state of one that is not running. */
function nothingToStop(state: RunState | undefined): Reason {
  switch (state) {
    case undefined:
      return reason("reason.no_run");
    case "completed":
      return reason("reason.run_completed");
    case "failed":
      return reason("reason.run_failed");
    case "stopped":
      return reason("reason.run_stopped");
    default:
      return reason("reason.run_is", { state });
  }
}

/**
 * Resumes what should be running and is not: runs marked running (or stopping) whose lease has
 * lapsed, and auto-continued runs left waiting longer than their continuation should take.
 * Returns the keys it acted on.
 */
export async function watchdog<P>(env: JobEnv, def: JobDefinition<P>): Promise<string[]> {
  const now = env.clock.now();
  const acted: string[] = [];
  for (const rec of await listRuns(env.kv, def.kind)) {
    const snap = await readSnapshot(env.kv, def.kind, rec.key);
    const cur = snap.run?.value;
    if (!cur) continue;
    const live = snap.lease !== null && snap.lease.expiresAt > now;
    if (live) continue;
    const died = cur.state === "running" || cur.state === "stopping";
    const lost = cur.state === "waiting" && cur.autoContinue &&
      now - cur.updatedAt > LOST_CONTINUATION_MS;
    if (!died && !lost) continue;
    if (cur.state === "stopping" || snap.stop?.runId === cur.runId) {
      await requestStop(env, def, cur.key, "watchdog");
      acted.push(cur.key);
      continue;
    }
    env.log.warn("job: watchdog resumes a run", {
      job: def.kind,
      key: cur.key,
      runId: cur.runId,
      state: cur.state,
      chunk: cur.chunk,
    });
    scheduleContinuation(env, def, cur);
    acted.push(cur.key);
  }
  return acted;
}
