/** Everything built once per isolate from the dependencies: registry, signers, verifier. */
import { validateManifest } from "./manifest/validate.ts";
import type { AppDeps } from "./deps.ts";
import { createRegistry, type Registry } from "./interactions/registry.ts";
import type { Command } from "./interactions/define.ts";
import { commands as allCommands } from "./commands/mod.ts";
import { createCustomIds, type CustomIds } from "./interactions/custom_id.ts";
import { loadSigningKeys, SIGNING_SECRET_WARNING, type SigningKeys } from "./signing_keys.ts";
import { createVerifier, type Verifier } from "./discord/verify.ts";
import type { InteractionApp } from "./interactions/dispatch.ts";
import { ResponseRecorder } from "./interactions/idempotency.ts";

export interface App {
  deps: AppDeps;
  registry: Registry;
  customIds: CustomIds;
  /** One key per purpose (custom IDs, status links, sessions, exports). */
  keys: SigningKeys;
  verifier: Verifier;
  interactions: InteractionApp;
  /** Aborted on SIGINT (Deploy's eviction notice): long work checkpoints and stops. */
  shutdown: AbortController;
}

export async function createApp(
  baseDeps: AppDeps,
  commands: Command[] = allCommands,
): Promise<App> {
  const shutdown = new AbortController();
  // Long work (role sync chunks) started from routes, commands or crons sees the SIGINT signal.
  const deps: AppDeps = baseDeps.shutdown ? baseDeps : { ...baseDeps, shutdown: shutdown.signal };
  const registry = createRegistry(commands, validateManifest);
  const keys = await loadSigningKeys(deps.config, deps.kv);
  if (keys.source === "derived") deps.log.warn(SIGNING_SECRET_WARNING);
  const customIds = createCustomIds(keys.customId);
  const verifier = await createVerifier(deps.config.discord.publicKey);
  return {
    deps,
    registry,
    customIds,
    keys,
    verifier,
    interactions: {
      deps,
      registry,
      customIds,
      keys,
      recorder: new ResponseRecorder(deps.kv, deps.clock),
    },
    shutdown,
  };
}
