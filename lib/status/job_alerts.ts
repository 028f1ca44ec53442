/**
 * Watches every long job (role sync, backup capture, restore) from outside: a run that failed,
 * or one that made no progress for two chunk lengths (a broken chunk chain), raises an alert.
 * From outside because a dead isolate cannot report its own death.
 */
import type { AppDeps } from "../deps.ts";
import { listRuns, type RunRecord } from "../jobs/store.ts";
import { SYNC_KIND } from "../sync/service.ts";
import { CAPTURE_KIND } from "../backup/capture_job.ts";
import { RESTORE_KIND } from "../backup/restore_job.ts";
import { raiseAlert } from "../ops/alerts.ts";
import { claimRecord } from "../kv/record.ts";
import { keys } from "../kv/keys.ts";

const LABEL: Record<string, string> = {
  [SYNC_KIND]: "Role sync",
  [CAPTURE_KIND]: "Backup",
  [RESTORE_KIND]: "Restore",
};
const ONCE_PER_RUN_MS = 7 * 24 * 60 * 60_000;

export interface JobAlert {
  kind: string;
  key: string;
  runId: string;
  problem: "failed" | "stalled";
}

/** Pure: the problem a run record shows at `now`, if any. */
export function jobProblem(
  rec: RunRecord,
  now: number,
  maxChunkMs: number,
): JobAlert["problem"] | null {
  if (rec.state === "failed") return "failed";
  const active = rec.state === "running" || rec.state === "waiting" || rec.state === "stopping";
  if (active && now - rec.updatedAt > 2 * maxChunkMs) return "stalled";
  return null;
}

export async function checkJobs(deps: AppDeps): Promise<JobAlert[]> {
  const raised: JobAlert[] = [];
  const now = deps.clock.now();
  for (const kind of [SYNC_KIND, CAPTURE_KIND, RESTORE_KIND]) {
    for (const rec of await listRuns(deps.kv, kind)) {
      const problem = jobProblem(rec, now, deps.config.sync.maxChunkMs);
      if (!problem) continue;
      // Once per run and problem (a failed run stays failed), and once per hour per guild.
      const first = await claimRecord(
        deps.kv,
        keys.alertedRun(rec.runId, problem),
        true,
        ONCE_PER_RUN_MS,
        deps.clock,
      );
      if (!first) continue;
      const label = LABEL[kind] ?? kind;
      const since = new Date(rec.updatedAt).toISOString();
      await raiseAlert(deps, {
        cause: `${kind}_${problem}:${rec.key}`,
        title: problem === "failed"
          ? `${label} failed in guild ${rec.key}`
          : `${label} stalled in guild ${rec.key}`,
        detail: problem === "failed"
          ? `Run ${rec.runId} failed after ${rec.processed} items: ${
            rec.lastError ?? "no error recorded"
          }.`
          : `Run ${rec.runId} is ${rec.state} but has made no progress since ${since} (${rec.processed} items done). ` +
            `Its chunk chain broke; the watchdog resumes it, or run \`sync-helper.ts complete\`.`,
        severity: problem === "failed" ? "critical" : "warning",
      });
      raised.push({ kind, key: rec.key, runId: rec.runId, problem });
    }
  }
  return raised;
}
