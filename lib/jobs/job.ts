/**
 * What a long job and the runner agree on: the job's definition and the context each chunk gets,
 * what a start asks for and gets back, and the environment the runner runs in. Kept apart from the
 * runner's code so its parts (the start decision, the chunk, the continuation) share these types
 * without importing one another.
 */
import type { Clock } from "../clock.ts";
import type { Reason } from "../i18n/reason.ts";
import type { Logger } from "../log/log.ts";
import type { JobProgress } from "./progress.ts";
import type { RunRecord, RunState } from "./store.ts";

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

export interface StartRequest<P = unknown> {
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
  /**
   * What `JobDefinition.preflight` returned when the starter ran it itself (so that a refusal
   * reaches its caller): the chunk then does not run it again. Absent: the chunk runs it.
   */
  preflight?: P;
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

export interface ChunkContext<P = unknown> {
  /** The run as it was when the chunk started. */
  run: Readonly<RunRecord>;
  /** What the job's preflight returned for this chunk (undefined for a job without one). */
  preflight: P;
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

export interface JobDefinition<P = unknown> {
  kind: string;
  /** Route that starts the next chunk, e.g. "/trigger-sync". */
  continuePath: string;
  /** First checkpoint of a new run; `skip` items are to be passed over (startIndex). */
  newRun(
    req: StartRequest<P>,
    skip: number,
  ): Promise<{ mode: string; checkpoint: unknown }> | { mode: string; checkpoint: unknown };
  /**
   * The checks every chunk must pass before it works (the sync: the guild's rules and feature
   * flag): throws to refuse, else returns what the chunk needs from them (ChunkContext.preflight).
   * Run once per chunk: by the starter (see StartRequest.preflight), else as the chunk begins,
   * where a throw fails the run like any error of the chunk.
   */
  preflight?(key: string): Promise<P>;
  runChunk(ctx: ChunkContext<P>): Promise<{ finished: boolean; result?: unknown }>;
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

/** A refusal's `reason` is its `why` in English (the logs and the HTTP API keep the sentence). */
export type StartResult =
  | { status: "started"; run: RunRecord; progress: JobProgress; done: Promise<ChunkResult> }
  | { status: "conflict"; reason: string; why: Reason; progress: JobProgress }
  | { status: "noop"; reason: string; why: Reason; progress: JobProgress };

export class LeaseLostError extends Error {
  constructor() {
    super("the chunk lost its lease; another chunk took over");
    this.name = "LeaseLostError";
  }
}

/** Lease time to live when the env sets none. */
export const DEFAULT_LEASE_MS = 30_000;
/** How long a chunk start (or a stop) waits for a yielding lease holder to give the lease back. */
export const YIELD_WAIT_MS = 15_000;
/** A waiting auto-continue run not updated for this long lost its continuation. */
export const LOST_CONTINUATION_MS = 90_000;
