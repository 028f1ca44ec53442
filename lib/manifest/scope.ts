/**
 * Where commands are registered: a scope is "global" or "guild:<id>". The sync, the diff and the
 * status command all name scopes this way and read a scope's commands through one GET.
 */
import type { APIApplicationCommand } from "discord-api-types/v10";
import { type CallOptions, getCommands } from "../discord/api.ts";
import type { ManifestEnv } from "./env.ts";
import type { ScopeKey } from "./types.ts";

export function guildScope(guildId: string): ScopeKey {
  return `guild:${guildId}`;
}

/** The guild id of a guild scope, undefined for global. */
export function scopeGuild(scope: ScopeKey): string | undefined {
  return scope === "global" ? undefined : scope.slice("guild:".length);
}

/** Where the code's commands go: the dev guild when configured, else global. */
export function targetScope(env: Pick<ManifestEnv, "devGuildId">): ScopeKey {
  return env.devGuildId ? guildScope(env.devGuildId) : "global";
}

/** The scope's registered commands, localisations included (they are part of the manifest). */
export function fetchRegistered(
  env: Pick<ManifestEnv, "rest" | "applicationId">,
  scope: ScopeKey,
  opts: CallOptions = {},
): Promise<APIApplicationCommand[]> {
  return getCommands(env.rest, env.applicationId, scopeGuild(scope), opts);
}
