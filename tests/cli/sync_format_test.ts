/** How the sync CLI shows a run (lib/cli/sync_format.ts): the progress line and `status`. */
import assert from "node:assert/strict";
import { describe, progressLine } from "../../lib/cli/sync_format.ts";
import { idleProgress, type JobProgress } from "../../lib/jobs/progress.ts";

const run = (over: Partial<JobProgress>): JobProgress => ({
  ...idleProgress("sync", "200000000000000001"),
  runId: "r1",
  state: "running",
  chunk: 2,
  chunkSize: 500,
  ...over,
});

Deno.test("sync format: the progress line has the bar, counts, rate and ETA", () => {
  const line = progressLine(
    run({
      processed: 1500,
      total: 6000,
      counters: { changed: 12, "skipped.bot": 3, "skipped.left": 1, "errors.missing": 2 },
      ratePerSecond: 25,
      etaSeconds: 180,
    }),
    8,
  );
  assert.equal(
    line,
    "[##......]   25%  1,500/6,000  changed 12  skipped 4  errors 2  25.0/s  ETA 3m 00s  chunk 2",
  );
  // A finished run shows its state and no ETA.
  assert.match(progressLine(run({ state: "completed", etaSeconds: 10 })), /chunk 2 {2}completed$/);
});

Deno.test("sync format: status names the run, its counters, its times and a dead chunk", () => {
  assert.equal(describe(idleProgress("sync", "g")), "No sync has run yet.");
  const text = describe(run({
    dryRun: true,
    processed: 10,
    total: 20,
    nextIndex: 10,
    counters: { changed: 1, "skipped.bot": 2 },
    startedAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:01:00Z",
    lease: null,
    lastError: "rate limited",
    warnings: ["slow"],
  }));
  const lines = text.split("\n");
  assert.equal(lines[0], "Run r1 (dry run): running");
  assert.match(text, /processed 10 of 20; next index 10; chunk 2 \(size 500\)/);
  assert.match(text, /skipped\.bot: 2/);
  assert.match(text, /started 2026-01-01T00:00:00Z; updated 2026-01-01T00:01:00Z/);
  assert.match(text, /its chunk died \(lease expired\)/);
  assert.match(text, /last error: rate limited\n {2}warning: slow$/);
});
