/**
 * One scope's sync, and the removal of a copy the per-guild fallback left in a guild. Each returns
 * the scope's result (outcome, calls, timing) and never lets a Discord failure escape: a 429
 * becomes a KV cooldown, anything else a failed result. The order of the steps, and why, is in
 * sync.ts's module comment.
 */
import type {
  APIApplicationCommand,
  RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import { bulkOverwriteCommands } from "../discord/api.ts";
import { DiscordApiError, DiscordHttpError } from "../discord/errors.ts";
import { commandKey, shortFingerprint } from "./canonical.ts";
import { describeSummary, diffManifests, summarizeDiff } from "./diff.ts";
import { type CallCounter, discordCall, errorText, rateLimitedUntil } from "./discord_call.ts";
import type { ManifestEnv } from "./env.ts";
import { fetchRegistered, guildScope, scopeGuild } from "./scope.ts";
import { clearFallbackCopy, getCooldown, getSynced, setCooldown, setSynced } from "./store.ts";
import type { ScopeKey, ScopeOutcome, ScopeResult, SyncTrigger } from "./types.ts";

/** What every scope of one sync shares. */
export interface ScopeRun {
  fingerprint: string;
  forced: boolean;
  trigger: SyncTrigger;
}

const iso = (ms: number) => new Date(ms).toISOString();

type Done = (outcome: ScopeOutcome, calls: number, extra?: Partial<ScopeResult>) => ScopeResult;

/** Builds the scope's result, timed from now. */
function resultFor(env: ManifestEnv, scope: ScopeKey, run: ScopeRun): Done {
  const at = env.clock.now();
  return (outcome, calls, extra = {}) => ({
    scope,
    outcome,
    fingerprint: run.fingerprint,
    calls,
    at,
    durationMs: env.clock.now() - at,
    ...extra,
  });
}

/** The manifest with the ids of commands Discord already has under the same type and name. */
export function withIds(
  manifest: RESTPostAPIApplicationCommandsJSONBody[],
  registered: APIApplicationCommand[],
): RESTPostAPIApplicationCommandsJSONBody[] {
  const ids = new Map(registered.map((c) => [commandKey(c), c.id]));
  return manifest.map((c) => {
    const id = ids.get(commandKey(c));
    return id ? { ...c, id } : c;
  });
}

/** A Discord failure: a 429 becomes a cooldown, anything else a failed scope. KV errors throw. */
async function failure(
  env: ManifestEnv,
  scope: ScopeKey,
  error: unknown,
  done: Done,
  calls: number,
  what = "command sync",
): Promise<ScopeResult> {
  const { clock, kv, log } = env;
  const until = rateLimitedUntil(error, clock.now());
  if (until !== null) {
    await setCooldown(kv, scope, {
      until,
      retryAfterMs: until - clock.now(),
      setAt: clock.now(),
      error: errorText(error),
    }, clock);
    log.warn(`${what} rate limited: cooldown until ${iso(until)}`, {
      scope,
      until: iso(until),
      error: errorText(error),
    });
    return done("rate_limited", calls, { cooldownUntil: until, error: errorText(error) });
  }
  log.error(`${what} failed`, { scope, error: errorText(error) });
  const status = error instanceof DiscordApiError || error instanceof DiscordHttpError
    ? error.status
    : undefined;
  return done("failed", calls, { error: errorText(error), ...(status ? { status } : {}) });
}

/** Syncs one scope: cooldown, fingerprint, GET and compare, then the bulk overwrite. */
export async function syncScope(
  env: ManifestEnv,
  scope: ScopeKey,
  run: ScopeRun,
): Promise<ScopeResult> {
  const { clock, kv, log } = env;
  const done = resultFor(env, scope, run);

  const cooldown = await getCooldown(kv, scope, clock);
  if (cooldown) {
    log.info(`command sync skipped: Discord rate limit, cooldown until ${iso(cooldown.until)}`, {
      scope,
      until: iso(cooldown.until),
      reason: cooldown.error,
    });
    return done("cooldown", 0, { cooldownUntil: cooldown.until });
  }
  const synced = await getSynced(kv, scope);
  if (!run.forced && synced?.fingerprint === run.fingerprint) {
    log.debug("command sync: fingerprint unchanged, no Discord call", {
      scope,
      fingerprint: shortFingerprint(run.fingerprint),
    });
    return done("unchanged", 0);
  }

  const counter: CallCounter = { calls: 0 };
  const guild = scopeGuild(scope);
  const inGuild = guild !== undefined;

  let registered: APIApplicationCommand[];
  try {
    registered = await discordCall(env, counter, (o) => fetchRegistered(env, scope, o));
  } catch (error) {
    return await failure(env, scope, error, done, counter.calls);
  }
  const diff = diffManifests(env.manifest, registered, { guild: inGuild });
  const summary = summarizeDiff(diff);
  if (diff.inSync && !run.forced) {
    await setSynced(kv, scope, {
      fingerprint: run.fingerprint,
      at: clock.now(),
      commands: env.manifest.length,
      via: "in_sync",
    });
    log.info("command sync: Discord already matches the manifest; fingerprint stored", {
      scope,
      fingerprint: shortFingerprint(run.fingerprint),
    });
    return done("in_sync", counter.calls, { diff: summary });
  }

  const body = withIds(env.manifest, registered);
  let echoed: APIApplicationCommand[];
  try {
    echoed = await discordCall(
      env,
      counter,
      (o) => bulkOverwriteCommands(env.rest, env.applicationId, body, guild, o),
    );
  } catch (error) {
    return await failure(env, scope, error, done, counter.calls);
  }
  const after = diffManifests(env.manifest, echoed, { guild: inGuild });
  if (!after.inSync) {
    // Discord stored something the canonical form does not predict: worth a look, but the
    // overwrite succeeded, so the fingerprint is stored (sending it again would change nothing).
    log.warn("command sync: Discord's copy differs from the manifest after the overwrite", {
      scope,
      changes: after.changed.flatMap((c) => c.fields.map((f) => `${c.name}.${f.path}`)),
      added: after.added.map((c) => c.name),
      removed: after.removed.map((c) => c.name),
    });
  }
  await setSynced(kv, scope, {
    fingerprint: run.fingerprint,
    at: clock.now(),
    commands: env.manifest.length,
    via: "synced",
  });
  log.info("command sync: scope overwritten", {
    scope,
    fingerprint: shortFingerprint(run.fingerprint),
    diff: describeSummary(summary),
    calls: counter.calls,
  });
  return done("synced", counter.calls, { diff: summary });
}

/**
 * Removes the copy the per-guild fallback left in a guild: its scope is bulk-overwritten with an
 * empty list, then the record is cleared. Never throws: a failure is returned (and logged) and the
 * record kept, so the next sync retries.
 */
export async function clearGuildCopy(
  env: ManifestEnv,
  guildId: string,
  run: ScopeRun,
): Promise<ScopeResult> {
  const { clock, kv, log } = env;
  const scope = guildScope(guildId);
  const done = resultFor(env, scope, run);
  const counter: CallCounter = { calls: 0 };
  try {
    const cooldown = await getCooldown(kv, scope, clock);
    if (cooldown) {
      log.info("command sync: fallback copy kept for now, Discord rate-limit cooldown", {
        scope,
        until: iso(cooldown.until),
      });
      return done("cooldown", 0, { cooldownUntil: cooldown.until });
    }
    try {
      await discordCall(
        env,
        counter,
        (o) => bulkOverwriteCommands(env.rest, env.applicationId, [], guildId, o),
      );
    } catch (error) {
      return await failure(
        env,
        scope,
        error,
        done,
        counter.calls,
        "command sync: fallback cleanup",
      );
    }
    await clearFallbackCopy(kv, guildId);
    log.info("command sync: removed the per-guild fallback copy", { scope, calls: counter.calls });
    return done("cleared", counter.calls);
  } catch (error) {
    log.error("command sync: fallback cleanup failed; retried on the next sync", {
      scope,
      error: errorText(error),
    });
    return done("failed", counter.calls, { error: errorText(error) });
  }
}
