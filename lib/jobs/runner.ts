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
 */
import { isAbort } from "../abort.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import { keys } from "../kv/keys.ts";
import {
  acquireOrAsk,
  type Lease,
  leaseCheck,
  type LeaseValue,
  releaseLease,
} from "../kv/lease.ts";
import type { JobProgress } from "./progress.ts";
import { historyMutation, pruneHistory, seriesMutation } from "./history.ts";
import {
  leaseName,
  listRuns,
  readSnapshot,
  type RunRecord,
  type RunState,
  toProgress,
} from "./store.ts";

export interface JobEnv {
  kv: Deno.Kv;
  clock: Clock;
  log: Logger;
  fetch: typeof fetch;
  waitUntil(work: Promise<unknown>): void;
  /** Aborted on SIGINT. */
  shutdown?: AbortSignal;
  selfUrl?: string;
  authToken?: string;
  autoContinue: boolean;
  maxChunkMs: number;
  defaultChunkSize: number;
  /** Lease time to live (default 30 s); heartbeats every third of it. */
  leaseMs?: number;
  /** After SIGINT, how long in-flight work may finish before it is aborted (default 2.5 s). */
  graceMs?: number;
  /** Minimum interval between progress commits (default 1 s). */
  checkpointMs?: number;
  /** Told about every chunk that ended (metrics); must not throw. */
  onChunkEnd?: (chunk: ChunkEnd) => void;
}

export interface ChunkEnd {
  kind: string;
  key: string;
  /** The run record as the chunk started, and as it ended. */
  before: RunRecord;
  after: RunRecord;
  durationMs: number;
}

export interface StartRequest {
  key: string;
  /** Items processed so far: equal to the checkpoint continues, 0 starts anew, else skips. */
  startIndex?: number;
  chunkSize?: number;
  dryRun?: boolean;
  /** Job-specific flavour of a new run ("full", "incremental"). */
  mode?: string;
  /** Continuation: only continue this run... */
  runId?: string;
  /** ...and only if this chunk has not started yet. */
  chunk?: number;
  /** Refuse to continue an unfinished run of another mode (the hourly incremental does). */
  onlyIfIdle?: boolean;
  /** Who asked: "http", "command", "cron", "watchdog", "continue" (logs). */
  source: string;
  /** Overrides the time box of this chunk (tests). */
  maxChunkMs?: number;
  /** Chain chunks of this run (default: the env's AUTO_CONTINUE_CHUNKS; kept for the run). */
  autoContinue?: boolean;
}

export interface CheckpointUpdate {
  /** Items newly done (added to processed). */
  processed?: number;
  /** Counter deltas. */
  counters?: Record<string, number>;
  /** Replaces the job-specific checkpoint. */
  checkpoint?: unknown;
  cursor?: string | null;
  total?: number | null;
  /** Added when not present yet (at most 20 kept). */
  warnings?: string[];
  /** Appended (at most 25 kept). */
  sample?: unknown[];
  /** Items passed over by a startIndex walk (added to processed and to skippedByIndex). */
  skippedByIndex?: number;
}

export interface ChunkContext {
  /** The run as it was when the chunk started. */
  run: Readonly<RunRecord>;
  /** Aborted when the chunk should stop taking work: stop request, time box, SIGINT, lost lease. */
  signal: AbortSignal;
  /** Aborted when in-flight I/O must end now (SIGINT grace over, lost lease). */
  hard: AbortSignal;
  deadline: number;
  /** Items this chunk may process. */
  limit: number;
  log: Logger;
  /** Commits progress (atomic with the lease). Throws LeaseLostError. */
  checkpoint(update: CheckpointUpdate): Promise<void>;
  /** Why the chunk is stopping, once it is. */
  stopReason(): StopReason | null;
  /**
   * Stops the chunk because a dependency is failing (the Ethos API): the run waits, is not
   * chained at once, and the watchdog resumes it after LOST_CONTINUATION_MS, a natural backoff.
   */
  pause(why: string): void;
}

export type StopReason = "stop" | "time_box" | "shutdown" | "lease_lost" | "failed" | "paused";

export interface JobDefinition {
  kind: string;
  /** Route that starts the next chunk, e.g. "/trigger-sync". */
  continuePath: string;
  /** First checkpoint of a new run; `skip` items are to be passed over (startIndex). */
  newRun(
    req: StartRequest,
    skip: number,
  ): Promise<{ mode: string; checkpoint: unknown }> | { mode: string; checkpoint: unknown };
  runChunk(ctx: ChunkContext): Promise<{ finished: boolean; result?: unknown }>;
}

export interface ChunkResult {
  runId: string;
  chunk: number;
  state: RunState;
  processedInChunk: number;
  stopReason: StopReason | null;
  progress: JobProgress;
  /** What the job returned (e.g. a dry run's planned changes). */
  result?: unknown;
}

export type StartResult =
  | { status: "started"; run: RunRecord; progress: JobProgress; done: Promise<ChunkResult> }
  | { status: "conflict"; reason: string; progress: JobProgress }
  | { status: "noop"; reason: string; progress: JobProgress };

export class LeaseLostError extends Error {
  constructor() {
    super("the chunk lost its lease; another chunk took over");
    this.name = "LeaseLostError";
  }
}

const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_GRACE_MS = 2_500;
/** How long a chunk start waits for a yielding lease holder to give the lease back. */
const YIELD_WAIT_MS = 15_000;
const MAX_WARNINGS = 20;
const MAX_SAMPLE = 25;
/** A waiting auto-continue run not updated for this long lost its continuation. */
export const LOST_CONTINUATION_MS = 90_000;

const UNFINISHED: ReadonlySet<RunState> = new Set([
  "running",
  "waiting",
  "stopping",
  "stopped",
  "failed",
]);

export function newRunId(now: number): string {
  return `${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function readProgress(env: JobEnv, kind: string, key: string): Promise<JobProgress> {
  return toProgress(kind, key, await readSnapshot(env.kv, kind, key), env.clock.now());
}

/**
 * Starts a chunk of the job: a new run or the continuation of the unfinished one (see
 * StartRequest). Returns at once with the run; `done` settles when the chunk ends.
 */
export async function startChunk(
  env: JobEnv,
  def: JobDefinition,
  req: StartRequest,
): Promise<StartResult> {
  const { kv, clock } = env;
  if (env.shutdown?.aborted) {
    // An evicted isolate takes no new chunk (it would stop at once and chain again).
    return {
      status: "conflict",
      reason: "this instance is shutting down; try again",
      progress: await readProgress(env, def.kind, req.key),
    };
  }
  const name = leaseName(def.kind, req.key);
  const leaseMs = env.leaseMs ?? DEFAULT_LEASE_MS;
  const owner = crypto.randomUUID();
  // A yielding holder (the freshness pass between chunks) gives the lease back when asked.
  const lease = await acquireOrAsk(kv, name, owner, leaseMs, clock, YIELD_WAIT_MS);
  const progressNow = async () => await readProgress(env, def.kind, req.key);
  if (!lease) {
    return {
      status: "conflict",
      reason: "a chunk is already running",
      progress: await progressNow(),
    };
  }
  const snap = await readSnapshot(kv, def.kind, req.key);
  const rec = snap.run?.value ?? null;
  const now = clock.now();
  const refuse = async (status: "conflict" | "noop", reason: string): Promise<StartResult> => {
    await releaseLease(kv, lease);
    return { status, reason, progress: await progressNow() };
  };

  // Decide: continue the unfinished run, or start a new one (skipping `skip` items).
  let cont = false;
  let skip = 0;
  const unfinished = rec !== null && UNFINISHED.has(rec.state);
  if (req.runId !== undefined) {
    if (!rec || rec.runId !== req.runId) return await refuse("noop", "that run was replaced");
    if (!unfinished) return await refuse("noop", `the run is already ${rec.state}`);
    if (req.chunk !== undefined && rec.chunk >= req.chunk) {
      return await refuse("noop", `chunk ${req.chunk} has already started`);
    }
    if (req.startIndex !== undefined && req.startIndex !== rec.processed) {
      return await refuse(
        "conflict",
        `startIndex ${req.startIndex} does not match the run's checkpoint (${rec.processed})`,
      );
    }
    cont = true;
  } else if (req.onlyIfIdle && unfinished) {
    return await refuse("noop", `an unfinished ${rec!.mode} run is pending`);
  } else if (req.startIndex === undefined) {
    if (unfinished && req.mode !== undefined && req.mode !== rec!.mode) {
      return await refuse(
        "conflict",
        `an unfinished ${
          rec!.mode
        } run is pending: continue it, or pass startIndex 0 to replace it`,
      );
    }
    cont = unfinished;
  } else if (req.startIndex === 0) {
    cont = false;
  } else if (unfinished && rec!.processed === req.startIndex) {
    cont = true;
  } else {
    skip = req.startIndex;
  }

  if (cont && rec && req.dryRun !== undefined && req.dryRun !== rec.dryRun) {
    return await refuse(
      "conflict",
      `the unfinished run is ${
        rec.dryRun ? "a dry run" : "not a dry run"
      }: continue it as it is, or pass startIndex 0 to start a new one`,
    );
  }
  let run: RunRecord;
  if (cont && rec) {
    run = {
      ...rec,
      state: "running",
      chunk: rec.chunk + 1,
      chunkSize: req.chunkSize ?? rec.chunkSize,
      chunkStartedAt: now,
      updatedAt: now,
      lastError: null,
      autoContinue: req.autoContinue ?? (rec.autoContinue || env.autoContinue),
    };
  } else {
    let fresh: { mode: string; checkpoint: unknown };
    try {
      fresh = await def.newRun(req, skip);
    } catch (error) {
      await releaseLease(kv, lease);
      throw error;
    }
    run = {
      v: 1,
      kind: def.kind,
      key: req.key,
      runId: newRunId(now),
      state: "running",
      mode: fresh.mode,
      dryRun: req.dryRun ?? false,
      processed: 0,
      skippedByIndex: 0,
      total: null,
      counters: {},
      chunk: 1,
      chunkSize: req.chunkSize ?? env.defaultChunkSize,
      cursor: null,
      startedAt: now,
      updatedAt: now,
      chunkStartedAt: now,
      finishedAt: null,
      activeMs: 0,
      autoContinue: req.autoContinue ?? env.autoContinue,
      lastError: null,
      warnings: [],
      sample: [],
      checkpoint: fresh.checkpoint,
    };
  }
  const held = await commitWithLease(kv, lease, leaseMs, clock, (op) => {
    op.set(keys.jobRun(def.kind, req.key), run);
    op.delete(keys.jobStop(def.kind, req.key));
  });
  if (!held) {
    return {
      status: "conflict",
      reason: "lost the lease while starting",
      progress: await progressNow(),
    };
  }
  env.log.info("job: chunk started", {
    job: def.kind,
    key: req.key,
    runId: run.runId,
    chunk: run.chunk,
    continued: cont,
    skip,
    source: req.source,
  });
  const done = executeChunk(env, def, run, held, req);
  return { status: "started", run, progress: await progressNow(), done };
}

/** Commits `build`'s mutations only while `lease` is held, renewing it in the same commit. */
async function commitWithLease(
  kv: Deno.Kv,
  lease: Lease,
  leaseMs: number,
  clock: Clock,
  build: (op: Deno.AtomicOperation) => void,
  release = false,
): Promise<Lease | null> {
  const op = kv.atomic().check(leaseCheck(lease));
  const value: LeaseValue = {
    owner: lease.owner,
    expiresAt: clock.now() + leaseMs,
    takenAt: lease.takenAt,
  };
  if (release) op.delete(keys.lease(lease.name));
  else op.set(keys.lease(lease.name), value);
  build(op);
  const res = await op.commit();
  if (!res.ok) return null;
  return { ...lease, ...value, versionstamp: res.versionstamp };
}

async function executeChunk(
  env: JobEnv,
  def: JobDefinition,
  start: RunRecord,
  firstLease: Lease,
  req: StartRequest,
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

  const checkpoint = (u: CheckpointUpdate): Promise<void> => {
    const next = chain.then(async () => {
      if (!lease) throw new LeaseLostError();
      const stop = await kv.get(keys.jobStop(def.kind, start.key));
      if ((stop.value as { runId?: string } | null)?.runId === start.runId) stopWith("stop");
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
    outcome = await def.runChunk({
      run: start,
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
  let lastError: string | null = null;
  let reason = why.reason;
  if (error !== null && !aborted) {
    state = "failed";
    lastError = error instanceof Error ? error.message : String(error);
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
  if (state === "waiting" && lease) {
    const stop = await kv.get(keys.jobStop(def.kind, start.key)).catch(() => null);
    if ((stop?.value as { runId?: string } | null)?.runId === start.runId) {
      state = "stopped";
      reason = "stop";
    }
  }
  const final: RunRecord = {
    ...current,
    state,
    updatedAt: now,
    finishedAt: state === "completed" ? now : current.finishedAt,
    chunkStartedAt: null,
    activeMs: current.activeMs + Math.max(0, now - (start.chunkStartedAt ?? now)),
    lastError: lastError ?? current.lastError,
    total: state === "completed" ? current.processed : current.total,
    warnings: pausedBecause
      ? [...current.warnings, `paused at ${new Date(now).toISOString()}: ${pausedBecause}`].slice(
        -10,
      )
      : current.warnings,
  };
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
    scheduleContinuation(env, def, final, reason === "shutdown");
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

/**
 * Starts the next chunk: over HTTP when SELF_URL and the token are set (a new request, so a new
 * time budget, on whichever instance Deploy picks), else in this isolate.
 */
export function scheduleContinuation(
  env: JobEnv,
  def: JobDefinition,
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

async function postContinuation(
  env: JobEnv,
  url: string,
  body: { runId: string; chunk: number },
  attempts: number,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await env.fetch(url, {
        method: "POST",
        headers: {
          "authorization": `Bearer ${env.authToken}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      if (res.status < 500) {
        env.log.info("job: continuation sent", { url, status: res.status, ...body });
        return;
      }
    } catch (error) {
      env.log.warn("job: continuation request failed", { url, error: String(error) });
    }
    await env.clock.sleep(500 * 2 ** i).catch(() => {});
  }
  env.log.warn("job: continuation not delivered; the watchdog will resume the run", body);
}

export type StopResult =
  | { status: "stopping" | "stopped"; progress: JobProgress }
  | { status: "noop"; reason: string; progress: JobProgress };

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
  if (!rec || !UNFINISHED.has(rec.state) || rec.state === "stopped") {
    return {
      status: "noop",
      reason: rec ? `the run is ${rec.state}` : "no run",
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
  if (cur && cur.runId === rec.runId && UNFINISHED.has(cur.state)) {
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

/**
 * Resumes what should be running and is not: runs marked running (or stopping) whose lease has
 * lapsed, and auto-continued runs left waiting longer than their continuation should take.
 * Returns the keys it acted on.
 */
export async function watchdog(env: JobEnv, def: JobDefinition): Promise<string[]> {
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
