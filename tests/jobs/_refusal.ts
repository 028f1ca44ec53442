/**
 * What the runner's refusal tests share (start_decision_test.ts, runner_test.ts): a waiting run
 * to be refused against, and the check that a refusal carries its Reason (lib/i18n/reason.ts),
 * its English text, and the Spanish sentence a member reads (what the edges showed before
 * refusals carried their Reason).
 */
import assert from "node:assert/strict";
import { explain, type Reason, reasonText, type Refusal } from "../../lib/i18n/reason.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";

export const KEY = "200000000000000001";
export const NOW = 1_800_000_000_000;

/** A waiting run of kind "count", 40 of 100 done, chunk 2. */
export function waitingRun(o: Partial<RunRecord> = {}): RunRecord {
  return {
    v: 1,
    kind: "count",
    key: KEY,
    runId: "run-a",
    state: "waiting",
    mode: "full",
    dryRun: false,
    processed: 40,
    skippedByIndex: 0,
    total: 100,
    counters: {},
    chunk: 2,
    chunkSize: 20,
    cursor: null,
    startedAt: NOW - 60_000,
    updatedAt: NOW - 10_000,
    chunkStartedAt: null,
    finishedAt: null,
    activeMs: 0,
    autoContinue: false,
    lastError: null,
    warnings: [],
    sample: [],
    checkpoint: { pos: 40 },
    ...o,
  };
}

/** What a refusal must hold: its Reason, its English text, and its Spanish sentence. */
export function assertCarries(r: Refusal, want: Reason, spanish: string, name: string): void {
  assert.deepStrictEqual(r.why, want, name);
  assert.equal(r.reason, reasonText("en", want), name);
  assert.equal(explain("es", r), spanish, name);
  assert.equal(explain("en", r), r.reason, name);
}
