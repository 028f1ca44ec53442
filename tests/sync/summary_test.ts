import assert from "node:assert/strict";
import { runSummary } from "../../lib/sync/summary.ts";
import { idleProgress } from "../../lib/jobs/progress.ts";

const base = () => ({
  ...idleProgress("sync", "200000000000000001"),
  runId: "run-1",
  mode: "full" as const,
  processed: 1_234,
  startedAt: "2026-12-06T12:00:00.000Z",
});

Deno.test("run summary: counts, skipped by reason, levels, at most 20 members, no longer than 2000", () => {
  const changes = Array.from({ length: 25 }, (_, i) => ({
    userId: String(300000000000000000n + BigInt(i)),
    add: ["Known"],
    remove: ["Neutral"],
  }));
  const text = runSummary({
    ...base(),
    counters: {
      changed: 40,
      unchanged: 1_180,
      "skipped.bot": 10,
      "skipped.score_unavailable": 4,
      "level.Known": 300,
      "level.Reputable": 120,
    },
    sample: changes,
  }, Date.parse("2026-12-06T12:01:05.000Z"));
  assert.ok(text.includes("**Ethos role sync finished** · full run `run-1`"), text);
  assert.match(
    text,
    /Members processed 1,234 · changed 40 · unchanged 1,180 · skipped 14 \(bot 10, score unavailable 4\)/,
  );
  assert.match(text, /By level: Known 300 · Reputable 120/);
  assert.match(text, /Duration 65 s/);
  assert.deepStrictEqual(text.split("\n").filter((l) => l.startsWith("- <@")).length, 20);
  assert.match(text, /- <@300000000000000000> \+Known −Neutral/);
  assert.match(text, /…and 20 more/);
  const long = runSummary({
    ...base(),
    counters: { changed: 25 },
    sample: changes.map((c) => ({ ...c, add: ["x".repeat(100), "y".repeat(100)] })),
  }, Date.now());
  assert.ok(long.length <= 2000, String(long.length));
});
