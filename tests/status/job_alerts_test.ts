/** lib/status/job_alerts.ts: which runs are failed or stalled, and each alerted once per run. */
import assert from "node:assert/strict";
import { createTestApp, GUILD_ID } from "../_harness.ts";
import { checkJobs, jobProblem } from "../../lib/status/job_alerts.ts";
import { recentAlerts } from "../../lib/ops/alerts.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { runRecord } from "../jobs/_run.ts";

/** The role sync's run "run-1" in the configured guild, then `over`. */
function record(over: Partial<RunRecord>): RunRecord {
  return runRecord({ kind: "sync", key: GUILD_ID, runId: "run-1", ...over });
}

Deno.test("jobProblem: failed, stalled after two chunk lengths, otherwise fine", () => {
  const chunk = 60_000;
  assert.deepStrictEqual(jobProblem(record({ state: "failed" }), 0, chunk), "failed");
  assert.deepStrictEqual(
    jobProblem(record({ state: "running", updatedAt: 0 }), 2 * chunk + 1, chunk),
    "stalled",
  );
  assert.deepStrictEqual(
    jobProblem(record({ state: "waiting", updatedAt: 0 }), 2 * chunk + 1, chunk),
    "stalled",
  );
  assert.deepStrictEqual(
    jobProblem(record({ state: "running", updatedAt: 0 }), 2 * chunk, chunk),
    null,
  );
  assert.deepStrictEqual(
    jobProblem(record({ state: "completed", updatedAt: 0 }), 10 * chunk, chunk),
    null,
  );
  assert.deepStrictEqual(
    jobProblem(record({ state: "stopped", updatedAt: 0 }), 10 * chunk, chunk),
    null,
  );
});

Deno.test("checkJobs: a failed sync and a stalled restore alert once each, not on every check", async () => {
  const t = await createTestApp({ env: { SYNC_MAX_CHUNK_MS: "60000" } });
  try {
    const now = t.clock.now();
    await t.deps.kv.set(
      keys.jobRun("sync", GUILD_ID),
      record({ state: "failed", lastError: "Missing Access", updatedAt: now }),
    );
    await t.deps.kv.set(
      keys.jobRun("backup_restore", GUILD_ID),
      record({
        kind: "backup_restore",
        runId: "run-2",
        state: "running",
        updatedAt: now - 121_000,
      }),
    );
    const first = await checkJobs(t.deps);
    assert.deepStrictEqual(first.map((a) => `${a.kind}:${a.problem}`).sort(), [
      "backup_restore:stalled",
      "sync:failed",
    ]);
    assert.deepStrictEqual((await checkJobs(t.deps)).length, 0);
    t.clock.advance(2 * 60 * 60_000);
    assert.deepStrictEqual(
      (await checkJobs(t.deps)).length,
      0,
      "the same run is not alerted again",
    );
    const alerts = await recentAlerts(t.deps.kv);
    assert.deepStrictEqual(alerts.length, 2);
    assert.deepStrictEqual(
      alerts.find((a) => a.cause.startsWith("sync"))?.title,
      `Role sync failed in guild ${GUILD_ID}`,
    );
  } finally {
    await t.close();
  }
});
