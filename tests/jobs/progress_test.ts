/** lib/jobs/progress.ts: the one progress shape and the pure helpers every view renders it with. */
import assert from "node:assert/strict";
import {
  breakdown,
  formatDuration,
  fraction,
  idleProgress,
  isStale,
  JOB_STATES,
  type JobProgress,
  progressBar,
  summaryLine,
  total,
} from "../../lib/jobs/progress.ts";

const G = "200000000000000001";
const p = (o: Partial<JobProgress> = {}): JobProgress => ({ ...idleProgress("sync", G), ...o });

Deno.test("idleProgress: nothing run yet, for this kind and key", () => {
  const idle = idleProgress("backup_capture", G);
  assert.equal(idle.kind, "backup_capture");
  assert.equal(idle.key, G);
  assert.equal(idle.state, "idle");
  assert.equal(idle.runId, null);
  assert.deepStrictEqual([idle.processed, idle.nextIndex, idle.chunk], [0, 0, 0]);
  assert.deepStrictEqual([idle.counters, idle.warnings, idle.sample], [{}, [], []]);
  assert.ok(JOB_STATES.includes(idle.state));
  // Each call is a fresh object: a caller filling one in never changes another.
  idle.counters.x = 1;
  assert.deepStrictEqual(idleProgress("backup_capture", G).counters, {});
});

Deno.test("total and breakdown: counters under a prefix, the prefix itself only in the total", () => {
  const c = { skipped: 1, "skipped.bot": 3, "skipped.left": 2, "skipped.zero": 0, skippedish: 9 };
  assert.equal(total(c, "skipped"), 6);
  assert.equal(total(c, "errors"), 0);
  assert.deepStrictEqual(breakdown(c, "skipped"), { bot: 3, left: 2 });
  assert.deepStrictEqual(breakdown(c, "errors"), {});
});

Deno.test("isStale: running or stopping with no live lease", () => {
  const live = { live: true, expiresAt: "2026-01-01T00:00:00.000Z" };
  const dead = { ...live, live: false };
  assert.equal(isStale(p({ state: "running", lease: null })), true);
  assert.equal(isStale(p({ state: "stopping", lease: dead })), true);
  assert.equal(isStale(p({ state: "running", lease: live })), false);
  for (const state of ["idle", "waiting", "stopped", "completed", "failed"] as const) {
    assert.equal(isStale(p({ state, lease: null })), false, state);
  }
});

Deno.test("fraction and progressBar: done over total, clamped; unknown totals are empty bars", () => {
  assert.equal(fraction(p({ state: "running", processed: 25, total: 100 })), 0.25);
  assert.equal(fraction(p({ state: "running", processed: 150, total: 100 })), 1);
  assert.equal(fraction(p({ state: "running", processed: 5, total: null })), null);
  assert.equal(fraction(p({ state: "running", processed: 5, total: 0 })), null);
  assert.equal(fraction(p({ state: "completed", processed: 5, total: null })), 1);
  assert.equal(progressBar(p({ state: "running", processed: 1, total: 4 }), 8), "██░░░░░░");
  assert.equal(progressBar(p({ state: "running", total: null }), 4), "░░░░");
  assert.equal(progressBar(p({ state: "completed" }), 3, "#", "-"), "###");
});

Deno.test("formatDuration: hours and minutes, minutes and seconds, seconds; unknown otherwise", () => {
  assert.equal(formatDuration(3_725), "1h 02m");
  assert.equal(formatDuration(245), "4m 05s");
  assert.equal(formatDuration(12.4), "12s");
  assert.equal(formatDuration(-3), "0s");
  assert.equal(formatDuration(null), "unknown");
  assert.equal(formatDuration(undefined), "unknown");
  assert.equal(formatDuration(Infinity), "unknown");
  assert.equal(formatDuration(NaN), "unknown");
});

Deno.test("summaryLine: state, progress, the outcome counters and chunk; rate, ETA and dry run when they apply", () => {
  const running = p({
    state: "running",
    processed: 150,
    total: 200,
    chunk: 2,
    counters: { changed: 4, unchanged: 140, "skipped.bot": 3, "skipped.left": 1, "errors.x": 2 },
    ratePerSecond: 12.345,
    etaSeconds: 65,
    dryRun: true,
  });
  assert.equal(
    summaryLine(running),
    "running · 150/200 (75%) · changed 4 · unchanged 140 · skipped 4 · errors 2 · chunk 2 · " +
      "12.3/s · ETA 1m 05s · dry run",
  );
  // No ETA once the run is not running; no percentage without a total.
  assert.equal(
    summaryLine(p({ state: "waiting", processed: 7, etaSeconds: 10 })),
    "waiting · 7 · changed 0 · unchanged 0 · skipped 0 · errors 0 · chunk 0",
  );
});
