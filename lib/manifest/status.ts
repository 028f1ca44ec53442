/** What /commands_status shows: the code's fingerprint, the last sync, cooldown and drift. */
import { fingerprint } from "./canonical.ts";
import type { ManifestEnv } from "./env.ts";
import {
  type CooldownRecord,
  type DriftRecord,
  getCooldown,
  getDrift,
  getSynced,
  readLog,
  type SyncedRecord,
} from "./store.ts";
import { targetScope } from "./scope.ts";
import { diffCommands } from "./sync.ts";
import type { DiffReport, ScopeKey, SyncLogEntry } from "./types.ts";

export interface CommandStatus {
  scope: ScopeKey;
  fingerprint: string;
  commands: number;
  synced: SyncedRecord | null;
  /** The newest sync attempt of any outcome. */
  lastAttempt: SyncLogEntry | null;
  cooldown: CooldownRecord | null;
  /** A live comparison with Discord, when it answered in time. */
  live: DiffReport | null;
  liveError?: string;
  /** The last stored drift check (cron, diff, or this status), used when the live one failed. */
  lastCheck: DriftRecord | null;
}

/** Reads KV and, within `liveTimeoutMs`, asks Discord (one GET) for the current drift. */
export async function commandStatus(
  env: ManifestEnv,
  liveTimeoutMs = 2_000,
): Promise<CommandStatus> {
  const scope = targetScope(env);
  const [fp, synced, cooldown, log] = await Promise.all([
    fingerprint(env.manifest),
    getSynced(env.kv, scope),
    getCooldown(env.kv, scope, env.clock),
    readLog(env.kv, 1),
  ]);
  let live: DiffReport | null = null;
  let liveError: string | undefined;
  // liveTimeoutMs <= 0: KV only (the status page refreshes every few seconds; no Discord call).
  if (liveTimeoutMs > 0) {
    try {
      live = await diffCommands(
        { ...env, tuning: { ...env.tuning, callTimeoutMs: liveTimeoutMs, shortRateLimitMs: 0 } },
        scope,
      );
    } catch (error) {
      liveError = error instanceof Error ? error.message : String(error);
    }
  }
  return {
    scope,
    fingerprint: fp,
    commands: env.manifest.length,
    synced,
    lastAttempt: log[0] ?? null,
    cooldown,
    live,
    ...(liveError ? { liveError } : {}),
    lastCheck: await getDrift(env.kv, scope),
  };
}
