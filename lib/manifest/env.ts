/**
 * Everything the manifest engine needs, gathered from the app once per call, so the engine itself
 * takes plain injected values (tests and the bench build a `ManifestEnv` directly).
 *
 * The engine talks to Discord through its own `RestClient` (same token, base URL and fetch as the
 * app's) built with `maxRateLimitRetries: 0`: the shared client waits out every 429 and retries,
 * which for the daily command-create limit (30034, retry_after up to a day) would hold a sync for
 * hours. With no 429 retries the engine sees each 429 as a `DiscordRateLimitError` carrying
 * Discord's retry_after, waits out short ones once itself and turns long ones into a KV cooldown.
 */
import type { RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import type { Registry } from "../interactions/registry.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import { RestClient } from "../discord/rest.ts";

export interface ManifestTuning {
  /** Pause between guilds in the per-guild fallback (injected clock). */
  guildSpacingMs: number;
  /** A 429 at most this long is waited out once; a longer one becomes a cooldown. */
  shortRateLimitMs: number;
  /** Longest wait for one Discord call, queueing included (real time: it guards I/O). */
  callTimeoutMs: number;
  /** Sync log entries kept. */
  logCap: number;
  /** Lease held while a sync runs (extended by the fallback's spacing). */
  leaseTtlMs: number;
  /** After an on-start sync of a fingerprint, other isolates starting skip it this long. */
  startClaimMs: number;
}

export const DEFAULT_TUNING: ManifestTuning = {
  guildSpacingMs: 2_000,
  shortRateLimitMs: 5_000,
  callTimeoutMs: 30_000,
  logCap: 200,
  leaseTtlMs: 120_000,
  startClaimMs: 10 * 60_000,
};

export interface ManifestEnv {
  kv: Deno.Kv;
  clock: Clock;
  log: Logger;
  /** A client that does not retry 429s (see the module comment). */
  rest: RestClient;
  applicationId: string;
  /** The code's manifest, as sent to Discord. */
  manifest: RESTPostAPIApplicationCommandsJSONBody[];
  /** Sync to this guild only (DISCORD_DEV_GUILD_ID). */
  devGuildId?: string;
  /** The per-guild fallback's guilds (COMMAND_GUILD_IDS, else DISCORD_GUILD_ID). */
  guildIds: string[];
  /** FORCE_SYNC. */
  forceSync: boolean;
  /** AUTO_SYNC_COMMANDS. */
  autoSync: boolean;
  /** SYNC_COMMANDS_ON_START. */
  syncOnStart: boolean;
  tuning: ManifestTuning;
}

/** Keyed by the app's own client, which survives copies of the deps object. */
const clients = new WeakMap<RestClient, RestClient>();

/** The engine's REST client for this app, built on first use. */
export function commandRest(deps: AppDeps): RestClient {
  let rest = clients.get(deps.rest);
  if (!rest) {
    rest = new RestClient({
      token: deps.config.discord.token,
      apiBase: deps.config.discord.apiBase,
      fetch: deps.fetch,
      log: deps.log.child({ component: "rest", client: "commands" }),
      globalLimit: deps.config.discord.globalRateLimit,
      invalidRequestLimit: deps.config.discord.invalidRequestLimit,
      maxRateLimitRetries: 0,
    });
    clients.set(deps.rest, rest);
  }
  return rest;
}

/** Replaces the engine's client for this app (tests point it at the emulator). */
export function setCommandRest(deps: AppDeps, rest: RestClient): void {
  clients.set(deps.rest, rest);
}

/** The engine's environment for an app (or a handler context: both have deps and registry). */
export function manifestEnv(
  source: { deps: AppDeps; registry: Registry },
  tuning: Partial<ManifestTuning> = {},
): ManifestEnv {
  const { deps, registry } = source;
  const c = deps.config;
  return {
    kv: deps.kv,
    clock: deps.clock,
    log: deps.log.child({ component: "commands" }),
    rest: commandRest(deps),
    applicationId: c.discord.applicationId,
    manifest: registry.manifest(),
    devGuildId: c.discord.devGuildId,
    guildIds: c.commands.guildIds,
    forceSync: c.commands.forceSync,
    autoSync: c.commands.autoSync,
    syncOnStart: c.commands.syncOnStart,
    tuning: { ...DEFAULT_TUNING, ...tuning },
  };
}
