/**
 * Whether a chunk starts, and as what: refuse, continue the unfinished run, or start a new one.
 * Pure (the lease, the run record and the clock are read by the runner and passed in), so every
 * rule of StartRequest is tested as a table without KV.
 */
import { type Reason, reason, refusal } from "../i18n/reason.ts";
import type { StartRequest } from "./job.ts";
import { isUnfinished, type RunRecord } from "./store.ts";

/** Where the runner stands with the job's lease when it decides. */
export type LeaseState =
  /** This start holds the lease. */
  | "held"
  /** Another chunk holds it. */
  | "taken"
  /** This instance is shutting down and did not ask for it. */
  | "shutting_down";

/** What a start falls back to when the request does not say. */
export interface StartDefaults {
  autoContinue: boolean;
  defaultChunkSize: number;
}

export interface StartInput {
  lease: LeaseState;
  /** The job's run record (null when there is none, or it could not be read). */
  record: RunRecord | null;
  now: number;
  req: StartRequest;
  defaults: StartDefaults;
}

export type StartDecision =
  /** `reason` is `why` in English, for the logs and the HTTP API. */
  | { action: "refuse"; status: "conflict" | "noop"; reason: string; why: Reason }
  /** Continue the unfinished run: `run` is its record as its next chunk starts. */
  | { action: "continue"; run: RunRecord }
  /** Start a new run that first passes over `skip` items. */
  | { action: "new"; skip: number };

/** Decides a chunk start (see StartRequest for what each field asks). */
export function decideStart({ lease, record: rec, now, req, defaults }: StartInput): StartDecision {
  if (lease === "shutting_down") {
    // An evicted isolate takes no new chunk (it would stop at once and chain again).
    return refuse("conflict", reason("reason.shutting_down"));
  }
  if (lease === "taken") return refuse("conflict", reason("reason.chunk_running"));

  const unfinished = rec !== null && isUnfinished(rec.state);
  let cont: boolean;
  let skip = 0;
  if (req.runId !== undefined) {
    if (!rec || rec.runId !== req.runId) return refuse("noop", reason("reason.run_replaced"));
    if (!unfinished) return refuse("noop", reason("reason.run_already", { state: rec.state }));
    if (req.chunk !== undefined && rec.chunk >= req.chunk) {
      return refuse("noop", reason("reason.chunk_started", { chunk: req.chunk }));
    }
    if (req.startIndex !== undefined && req.startIndex !== rec.processed) {
      return refuse(
        "conflict",
        reason("reason.start_index", { index: req.startIndex, processed: rec.processed }),
      );
    }
    cont = true;
  } else if (req.onlyIfIdle && unfinished) {
    return refuse("noop", reason("reason.pending_mode", { mode: rec.mode }));
  } else if (req.startIndex === undefined) {
    if (unfinished && req.mode !== undefined && req.mode !== rec.mode) {
      return refuse("conflict", reason("reason.pending_mode_replace", { mode: rec.mode }));
    }
    cont = unfinished;
  } else if (req.startIndex === 0) {
    cont = false;
  } else if (unfinished && rec.processed === req.startIndex) {
    cont = true;
  } else {
    skip = req.startIndex;
    cont = false;
  }

  if (!cont || !rec) return { action: "new", skip };
  if (req.dryRun !== undefined && req.dryRun !== rec.dryRun) {
    return refuse("conflict", reason(rec.dryRun ? "reason.pending_dry" : "reason.pending_not_dry"));
  }
  // The next chunk starts with no last error, nor its Reason.
  const { lastErrorWhy: _, ...kept } = rec;
  return {
    action: "continue",
    run: {
      ...kept,
      state: "running",
      chunk: rec.chunk + 1,
      chunkSize: req.chunkSize ?? rec.chunkSize,
      chunkStartedAt: now,
      updatedAt: now,
      lastError: null,
      autoContinue: req.autoContinue ?? (rec.autoContinue || defaults.autoContinue),
    },
  };
}

/** The record of a new run's first chunk, from what the job's `newRun` returned. */
export function newRunRecord(o: {
  kind: string;
  runId: string;
  now: number;
  req: StartRequest;
  defaults: StartDefaults;
  fresh: { mode: string; checkpoint: unknown };
}): RunRecord {
  const { now, req, defaults } = o;
  return {
    v: 1,
    kind: o.kind,
    key: req.key,
    runId: o.runId,
    state: "running",
    mode: o.fresh.mode,
    dryRun: req.dryRun ?? false,
    processed: 0,
    skippedByIndex: 0,
    total: null,
    counters: {},
    chunk: 1,
    chunkSize: req.chunkSize ?? defaults.defaultChunkSize,
    cursor: null,
    startedAt: now,
    updatedAt: now,
    chunkStartedAt: now,
    finishedAt: null,
    activeMs: 0,
    autoContinue: req.autoContinue ?? defaults.autoContinue,
    lastError: null,
    warnings: [],
    sample: [],
    checkpoint: o.fresh.checkpoint,
  };
}

function refuse(status: "conflict" | "noop", why: Reason): StartDecision {
  return { action: "refuse", status, ...refusal(why) };
}
