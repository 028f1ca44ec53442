/**
 * The command sync a new isolate runs as it starts: deploys and scale-outs start isolates in
 * bursts, and only one of them should spend Discord calls on the same manifest.
 */
import { claimRecord } from "../kv/record.ts";
import { keys } from "../kv/keys.ts";
import { fingerprint, shortFingerprint } from "./canonical.ts";
import { errorText } from "./discord_call.ts";
import type { ManifestEnv } from "./env.ts";
import { syncCommands } from "./sync.ts";
import type { SyncReport } from "./types.ts";

/**
 * SYNC_COMMANDS_ON_START: one sync per fingerprint across a burst of new isolates (a KV claim per
 * fingerprint, then the sync lease). Never throws.
 */
export async function syncCommandsOnStart(env: ManifestEnv): Promise<SyncReport | null> {
  if (!env.syncOnStart) return null;
  try {
    const fp = await fingerprint(env.manifest);
    const claimed = await claimRecord(
      env.kv,
      keys.commandsStartClaim(fp),
      { at: env.clock.now() },
      env.tuning.startClaimMs,
      env.clock,
    );
    if (!claimed) {
      env.log.debug("command sync on start: another isolate already ran it", {
        fingerprint: shortFingerprint(fp),
      });
      return null;
    }
    return await syncCommands(env, { trigger: "start" });
  } catch (error) {
    env.log.error("command sync on start failed", { error: errorText(error) });
    return null;
  }
}
