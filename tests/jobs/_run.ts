/**
 * A job's run record (lib/jobs/store.ts) for the tests that store, read, decide on or summarize
 * one: every field at rest, then what the test relies on. One builder, so a field added to the
 * record is added here once.
 */
import type { RunRecord } from "../../lib/jobs/store.ts";

/** A run of kind "count" that has just started its first chunk with nothing done, then `over`. */
export function runRecord(over: Partial<RunRecord> = {}): RunRecord {
  return {
    v: 1,
    kind: "count",
    key: "200000000000000001",
    runId: "run-a",
    state: "running",
    mode: "full",
    dryRun: false,
    processed: 0,
    skippedByIndex: 0,
    total: null,
    counters: {},
    chunk: 1,
    chunkSize: 20,
    cursor: null,
    startedAt: 0,
    updatedAt: 0,
    chunkStartedAt: null,
    finishedAt: null,
    activeMs: 0,
    autoContinue: false,
    lastError: null,
    warnings: [],
    sample: [],
    checkpoint: null,
    ...over,
  };
}
