/**
 * How a sync's per-scope results read: the report's overall status and one sentence per scope for
 * the operator and the log. Plain functions of the results, so each case is a table test.
 */
import { shortFingerprint } from "./canonical.ts";
import { describeSummary } from "./diff.ts";
import type { ScopeOutcome, ScopeResult, SyncStatus } from "./types.ts";

const OK: readonly ScopeOutcome[] = ["synced", "in_sync"];
const SKIPPED: readonly ScopeOutcome[] = ["unchanged", "cooldown", "busy"];

/** The scope holds the manifest now: just synced, found matching, or unchanged since it was. */
export function holdsManifest(outcome: ScopeOutcome): boolean {
  return OK.includes(outcome) || outcome === "unchanged";
}

/**
 * The report's status from the target scope's result (first) and, with the per-guild fallback,
 * the configured guilds' results after it.
 */
export function syncStatus(results: ScopeResult[], fallback: boolean, guilds: number): SyncStatus {
  const primary = results[0].outcome;
  if (OK.includes(primary)) return "ok";
  if (SKIPPED.includes(primary)) return "skipped";
  const rest = results.slice(1);
  if (fallback && rest.length === guilds && rest.every((r) => holdsManifest(r.outcome))) {
    return "degraded";
  }
  return "failed";
}

const iso = (ms: number) => new Date(ms).toISOString();

const calls = (n: number) => `${n} call${n === 1 ? "" : "s"}`;

/** One scope's result in a sentence. */
export function describeResult(r: ScopeResult): string {
  switch (r.outcome) {
    case "synced":
      return `${r.scope}: synced (${r.diff ? describeSummary(r.diff) : "?"}) in ${calls(r.calls)}`;
    case "in_sync":
      return `${r.scope}: Discord already matched; fingerprint stored (${calls(r.calls)})`;
    case "unchanged":
      return `${r.scope}: unchanged since the last sync (fingerprint ${
        shortFingerprint(r.fingerprint)
      }), no Discord call`;
    case "cooldown":
      return `${r.scope}: skipped, Discord rate-limit cooldown until ${iso(r.cooldownUntil!)}`;
    case "busy":
      return `${r.scope}: skipped, another sync is running`;
    case "rate_limited":
      return `${r.scope}: rate limited by Discord; cooldown until ${iso(r.cooldownUntil!)}`;
    case "failed":
      return `${r.scope}: failed: ${r.error}`;
    case "invalid":
      return `${r.scope}: refused, the manifest is invalid: ${r.error}`;
    case "cleared":
      return `${r.scope}: per-guild fallback copy removed in ${calls(r.calls)}`;
  }
}
