/**
 * The daily drift check (cron): compares the code's manifest with what Discord has, logs any
 * drift and, with AUTO_SYNC_COMMANDS, syncs it away.
 */
import { shortFingerprint } from "./canonical.ts";
import { describeSummary, summarizeDiff } from "./diff.ts";
import { errorText } from "./discord_call.ts";
import type { ManifestEnv } from "./env.ts";
import { targetScope } from "./scope.ts";
import { setSynced } from "./store.ts";
import { diffCommands, syncCommands } from "./sync.ts";
import type { DiffReport, SyncReport } from "./types.ts";

export interface DriftCheck {
  report?: DiffReport;
  sync?: SyncReport;
  error?: string;
}

/**
 * The daily check: logs drift between the code and Discord and, with AUTO_SYNC_COMMANDS, syncs
 * (forced: a command removed on Discord's side leaves the fingerprint unchanged). When Discord
 * matches, the fingerprint is recorded so the next sync costs nothing.
 */
export async function checkCommandDrift(env: ManifestEnv): Promise<DriftCheck> {
  const scope = targetScope(env);
  let report: DiffReport;
  try {
    report = await diffCommands(env, scope);
  } catch (error) {
    env.log.error("command drift check failed", { scope, error: errorText(error) });
    return { error: errorText(error) };
  }
  if (report.inSync) {
    env.log.info("command drift check: Discord matches the manifest", {
      scope,
      fingerprint: shortFingerprint(report.fingerprint),
    });
    if (report.syncedFingerprint !== report.fingerprint) {
      await setSynced(env.kv, scope, {
        fingerprint: report.fingerprint,
        at: env.clock.now(),
        commands: env.manifest.length,
        via: "in_sync",
      });
    }
    return { report };
  }
  const summary = summarizeDiff(report.diff);
  env.log.warn(`command drift in ${scope}: ${describeSummary(summary)}`, {
    scope,
    names: summary.names,
    autoSync: env.autoSync,
  });
  if (!env.autoSync) return { report };
  return { report, sync: await syncCommands(env, { force: true, trigger: "drift" }) };
}
