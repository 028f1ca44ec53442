/**
 * A role sync run as the job runner stores it (lib/jobs/store.ts), and its progress view, for the
 * tests of the sync commands that only read or stop a run.
 */
import { leaseName, type RunRecord } from "../../lib/jobs/store.ts";
import { idleProgress, type JobProgress } from "../../lib/jobs/progress.ts";
import { keys } from "../../lib/kv/keys.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import { runRecord } from "../jobs/_run.ts";

/** Run "run-1" of the guild's role sync, running: 50 of 200 done in its first minute. */
export function syncRun(guildId: string, now: number, over: Partial<RunRecord> = {}): RunRecord {
  return runRecord({
    kind: SYNC_KIND,
    key: guildId,
    runId: "run-1",
    state: "running",
    processed: 50,
    total: 200,
    counters: { changed: 10, unchanged: 40 },
    chunk: 1,
    startedAt: now - 60_000,
    updatedAt: now,
    chunkStartedAt: now - 60_000,
    activeMs: 60_000,
    ...over,
  });
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
