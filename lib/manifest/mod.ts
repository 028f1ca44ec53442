/**
 * Command manifest: canonical form and fingerprint (canonical.ts), diff (diff.ts), sync (sync.ts),
 * drift check (drift.ts), sync on start (start.ts), KV state and sync log (store.ts). The entry
 * points call these one-liners.
 */
import type { AppDeps } from "../deps.ts";
import type { Registry } from "../interactions/registry.ts";
import { manifestEnv } from "./env.ts";
import { checkCommandDrift, type DriftCheck } from "./drift.ts";
import { syncCommandsOnStart } from "./start.ts";
import type { SyncReport } from "./types.ts";
import { summarizeDiff } from "./diff.ts";
import { raiseAlert } from "../ops/alerts.ts";

export * from "./types.ts";
export { canonicalCommand, canonicalManifest, fingerprint, stableStringify } from "./canonical.ts";
export { diffManifests, summarizeDiff } from "./diff.ts";
export {
  commandRest,
  DEFAULT_TUNING,
  type ManifestEnv,
  manifestEnv,
  type ManifestTuning,
  setCommandRest,
} from "./env.ts";
export { checkCommandDrift, type DriftCheck } from "./drift.ts";
export { guildScope, targetScope } from "./scope.ts";
export { syncCommandsOnStart } from "./start.ts";
export { diffCommands, syncCommands } from "./sync.ts";
export { LOG_CAP, readLog } from "./store.ts";

type AppLike = { deps: AppDeps; registry: Registry };

/** mod.ts: SYNC_COMMANDS_ON_START, at most one sync per fingerprint across new isolates. */
export function commandsOnStart(app: AppLike): Promise<SyncReport | null> {
  return syncCommandsOnStart(manifestEnv(app));
}

/** cron.ts: the daily drift check (syncs with AUTO_SYNC_COMMANDS); drift raises an alert. */
export async function commandsDriftCheck(app: AppLike): Promise<DriftCheck> {
  const check = await checkCommandDrift(manifestEnv(app));
  if (check.report && !check.report.inSync) {
    const { added, removed, changed } = summarizeDiff(check.report.diff).names;
    const parts = [
      added.length ? `added in code: ${added.join(", ")}` : "",
      removed.length ? `only on Discord: ${removed.join(", ")}` : "",
      changed.length ? `changed: ${changed.join(", ")}` : "",
    ].filter(Boolean).join("; ");
    await raiseAlert(app.deps, {
      cause: `command_drift:${check.report.scope}`,
      title: "Slash commands drifted from the code",
      detail: `${check.report.scope}: ${parts}. ` +
        (check.sync
          ? `Auto-sync: ${check.sync.status}.`
          : "Run `deno task commands sync --force` or set AUTO_SYNC_COMMANDS=true."),
    });
  }
  return check;
}
