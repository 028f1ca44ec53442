/**
 * A role sync run as the job runner stores it (lib/jobs/store.ts), and its progress view, for the
 * tests of the sync commands that only read or stop a run.
 */
import type { RunRecord } from "../../lib/jobs/store.ts";
import { idleProgress, type JobProgress } from "../../lib/jobs/progress.ts";
import { keys } from "../../lib/kv/keys.ts";
import { leaseName } from "../../lib/jobs/store.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";

export function runRecord(guildId: string, now: number, over: Partial<RunRecord> = {}): RunRecord {
  return {
    v: 1,
    kind: SYNC_KIND,
    key: guildId,
    runId: "run-1",
    state: "running",
    mode: "full",
    dryRun: false,
    processed: 50,
    skippedByIndex: 0,
    total: 200,
    counters: { changed: 10, unchanged: 40 },
    chunk: 1,
    chunkSize: 1000,
    cursor: "300000000000000050",
    startedAt: now - 60_000,
    updatedAt: now,
    chunkStartedAt: now - 60_000,
    finishedAt: null,
    activeMs: 60_000,
    autoContinue: true,
    lastError: null,
    warnings: [],
    sample: [],
    checkpoint: null,
    ...over,
  };
}

/** Stores the run; `chunkRunning` also holds the guild's lease as a running chunk does. */
export async function storeRun(
  kv: Deno.Kv,
  record: RunRecord,
  chunkRunning = false,
): Promise<void> {
  await kv.set(keys.jobRun(SYNC_KIND, record.key), record);
  if (chunkRunning) {
    await kv.set(keys.lease(leaseName(SYNC_KIND, record.key)), {
      owner: "a-chunk",
      expiresAt: record.updatedAt + 60_000,
      takenAt: record.updatedAt,
    });
  }
}

/** A progress view with everything at rest, then `over`. */
export function progress(over: Partial<JobProgress> = {}): JobProgress {
  return { ...idleProgress(SYNC_KIND, "200000000000000001"), ...over };
}
