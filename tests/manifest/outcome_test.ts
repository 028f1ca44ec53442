/** lib/manifest/outcome.ts: a sync report's status and each scope's sentence, as tables. */
import assert from "node:assert/strict";
import { describeResult, holdsManifest, syncStatus } from "../../lib/manifest/outcome.ts";
import type { ScopeOutcome, ScopeResult } from "../../lib/manifest/types.ts";

const FP = "ab".repeat(32);
const AT = Date.UTC(2026, 10, 22, 12);

function result(outcome: ScopeOutcome, over: Partial<ScopeResult> = {}): ScopeResult {
  return { scope: "global", outcome, fingerprint: FP, calls: 0, at: AT, durationMs: 0, ...over };
}

Deno.test("outcome: a scope holds the manifest when synced, in sync or unchanged", () => {
  const holds: ScopeOutcome[] = ["synced", "in_sync", "unchanged"];
  const others: ScopeOutcome[] = [
    "cooldown",
    "busy",
    "rate_limited",
    "failed",
    "invalid",
    "cleared",
  ];
  for (const o of holds) assert.equal(holdsManifest(o), true, o);
  for (const o of others) assert.equal(holdsManifest(o), false, o);
});

Deno.test("outcome: the status follows the target scope's outcome", () => {
  const table: [ScopeOutcome, string][] = [
    ["synced", "ok"],
    ["in_sync", "ok"],
    ["unchanged", "skipped"],
    ["cooldown", "skipped"],
    ["busy", "skipped"],
    ["rate_limited", "failed"],
    ["failed", "failed"],
    ["invalid", "failed"],
  ];
  for (const [outcome, status] of table) {
    assert.equal(syncStatus([result(outcome)], false, 0), status, outcome);
  }
});

Deno.test("outcome: degraded only when the fallback reached every guild", () => {
  const g = (outcome: ScopeOutcome) => result(outcome, { scope: "guild:1" });
  const failed = result("failed");
  assert.equal(syncStatus([failed, g("synced"), g("unchanged")], true, 2), "degraded");
  assert.equal(syncStatus([failed, g("in_sync"), g("synced")], true, 2), "degraded");
  assert.equal(syncStatus([failed, g("synced")], true, 2), "failed", "a guild left out");
  assert.equal(syncStatus([failed, g("synced"), g("rate_limited")], true, 2), "failed");
  assert.equal(syncStatus([failed, g("synced"), g("synced")], false, 2), "failed", "no fallback");
  // Removing fallback copies after a good global sync does not change an ok status.
  assert.equal(syncStatus([result("synced"), g("failed")], false, 1), "ok");
});

Deno.test("outcome: each scope's result reads as one sentence", () => {
  const until = AT + 3_600_000;
  const names = { added: [], removed: [], changed: [] };
  const diff = { added: 1, removed: 0, changed: 2, unchanged: 3, names };
  const table: [ScopeResult, string][] = [
    [result("synced", { calls: 2, diff }), "global: synced (1 added, 2 changed) in 2 calls"],
    [result("synced", { calls: 1 }), "global: synced (?) in 1 call"],
    [
      result("in_sync", { calls: 1 }),
      "global: Discord already matched; fingerprint stored (1 call)",
    ],
    [
      result("unchanged"),
      `global: unchanged since the last sync (fingerprint ${FP.slice(0, 12)}), no Discord call`,
    ],
    [
      result("cooldown", { cooldownUntil: until }),
      "global: skipped, Discord rate-limit cooldown until 2026-11-22T13:00:00.000Z",
    ],
    [result("busy"), "global: skipped, another sync is running"],
    [
      result("rate_limited", { cooldownUntil: until }),
      "global: rate limited by Discord; cooldown until 2026-11-22T13:00:00.000Z",
    ],
    [result("failed", { error: "boom" }), "global: failed: boom"],
    [
      result("invalid", { error: "2 problems" }),
      "global: refused, the manifest is invalid: 2 problems",
    ],
    [
      result("cleared", { scope: "guild:9", calls: 1 }),
      "guild:9: per-guild fallback copy removed in 1 call",
    ],
  ];
  for (const [r, text] of table) assert.equal(describeResult(r), text);
});
