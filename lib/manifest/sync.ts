/**
 * The manifest sync: diff against Discord, sync only when the fingerprint changed, cooldown on
 * 429s, per-guild fallback, a log of every attempt.
 *
 * Per scope ("global" or "guild:<id>"), in this order:
 * 1. a cooldown from an earlier 429 is in force: skip, log until when (no call);
 * 2. the fingerprint equals the one last synced to the scope and the sync is not forced: skip
 *    (no call);
 * 3. GET the scope's commands; if Discord already matches and the sync is not forced, store the
 *    fingerprint (1 call, nothing written);
 * 4. PUT the manifest (bulk overwrite; existing commands are sent with their id so they keep it),
 *    then store the fingerprint. A 429 stores a cooldown until Discord's reset instead.
 *
 * The manifest is validated before anything else: an invalid one is never sent. The target scope is
 * the dev guild when DISCORD_DEV_GUILD_ID is set, else global; when the global sync fails for
 * another reason than a rate limit, the configured guilds are synced one by one, spaced through the
 * injected clock. Each guild the fallback synced is recorded in KV; once a global sync succeeds (or
 * is skipped as unchanged while such records remain) those guild copies are removed (each scope
 * bulk-overwritten with an empty list, spaced the same way) so the guilds do not show every command
 * twice. A failed removal is logged and retried on the next sync. One KV lease makes concurrent
 * syncs (operators, cron, new isolates) run one at a time.
 */
import type {
  APIApplicationCommand,
  RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import { validateManifest } from "./validate.ts";
import { bulkOverwriteCommands, type CallOptions } from "../discord/api.ts";
import {
  DiscordApiError,
  DiscordHttpError,
  DiscordRateLimitError,
  RestPausedError,
} from "../discord/errors.ts";
import { acquireLease, releaseLease, renewLease } from "../kv/lease.ts";
import { claimRecord } from "../kv/record.ts";
import { keys } from "../kv/keys.ts";
import { commandKey, fingerprint, shortFingerprint } from "./canonical.ts";
import { describeSummary, diffManifests, summarizeDiff } from "./diff.ts";
import type { ManifestEnv } from "./env.ts";
import {
  appendLog,
  clearFallbackCopy,
  getCooldown,
  getSynced,
  listFallbackCopies,
  setCooldown,
  setDrift,
  setFallbackCopy,
  setSynced,
} from "./store.ts";
import type {
  DiffReport,
  ScopeKey,
  ScopeOutcome,
  ScopeResult,
  SyncReport,
  SyncStatus,
  SyncTrigger,
} from "./types.ts";

export const SYNC_LEASE = "commands-sync";

export function guildScope(guildId: string): ScopeKey {
  return `guild:${guildId}`;
}

/** The guild id of a guild scope, undefined for global. */
export function scopeGuild(scope: ScopeKey): string | undefined {
  return scope === "global" ? undefined : scope.slice("guild:".length);
}

/** Where the code's commands go: the dev guild when configured, else global. */
export function targetScope(env: ManifestEnv): ScopeKey {
  return env.devGuildId ? guildScope(env.devGuildId) : "global";
}

const iso = (ms: number) => new Date(ms).toISOString();

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer from Discord within ${ms} ms (queued behind a rate limit, or unreachable)`);
    this.name = "DeadlineError";
  }
}

/** Runs `fn` with a signal aborted after `ms` of real time (a guard on I/O, not business time). */
async function withDeadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new DeadlineError(ms)), ms);
  try {
    return await fn(ctl.signal);
  } finally {
    clearTimeout(timer);
  }
}

interface Counter {
  calls: number;
}

/**
 * One Discord call: never waits for the invalid-request guard, times out, and waits out one short
 * 429 (the client holds the retry in its paused bucket until Discord's reset).
 */
async function discordCall<T>(
  env: ManifestEnv,
  counter: Counter,
  fn: (opts: CallOptions) => Promise<T>,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    counter.calls++;
    try {
      return await withDeadline(
        env.tuning.callTimeoutMs,
        (signal) => fn({ signal, maxPauseWaitMs: 0 }),
      );
    } catch (error) {
      const short = error instanceof DiscordRateLimitError &&
        error.retryAfterMs <= env.tuning.shortRateLimitMs;
      if (attempt > 0 || !short) throw error;
      env.log.info("command sync: short 429, waiting it out once", {
        route: error.route,
        retryAfterMs: error.retryAfterMs,
      });
    }
  }
}

/** When a failure is a rate limit: until when, per Discord. */
function rateLimitedUntil(error: unknown, now: number): number | null {
  if (error instanceof DiscordRateLimitError) return now + Math.max(1_000, error.retryAfterMs);
  if (error instanceof RestPausedError) return Math.max(error.until, now + 1_000);
  return null;
}

const commandsPath = (env: ManifestEnv, scope: ScopeKey) => {
  const guild = scopeGuild(scope);
  const app = encodeURIComponent(env.applicationId);
  return guild
    ? `/applications/${app}/guilds/${encodeURIComponent(guild)}/commands`
    : `/applications/${app}/commands`;
};

/** The scope's registered commands, localisations included (they are part of the manifest). */
export function fetchRegistered(
  env: ManifestEnv,
  scope: ScopeKey,
  opts: CallOptions = {},
): Promise<APIApplicationCommand[]> {
  return env.rest.get<APIApplicationCommand[]>(commandsPath(env, scope), {
    ...opts,
    query: { with_localizations: true },
  });
}

/** The manifest with the ids of commands Discord already has under the same type and name. */
function withIds(
  manifest: RESTPostAPIApplicationCommandsJSONBody[],
  registered: APIApplicationCommand[],
): RESTPostAPIApplicationCommandsJSONBody[] {
  const ids = new Map(registered.map((c) => [commandKey(c), c.id]));
  return manifest.map((c) => {
    const id = ids.get(commandKey(c));
    return id ? { ...c, id } : c;
  });
}

async function record(
  env: ManifestEnv,
  result: ScopeResult,
  trigger: SyncTrigger,
  forced: boolean,
): Promise<void> {
  try {
    await appendLog(env.kv, { ...result, trigger, forced }, env.tuning.logCap);
  } catch (error) {
    env.log.warn("command sync: could not append to the sync log", { error });
  }
}

interface ScopeRun {
  fingerprint: string;
  forced: boolean;
  trigger: SyncTrigger;
}

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
      error: message(error),
    }, clock);
    log.warn(`${what} rate limited: cooldown until ${iso(until)}`, {
      scope,
      until: iso(until),
      error: message(error),
    });
    return done("rate_limited", calls, { cooldownUntil: until, error: message(error) });
  }
  log.error(`${what} failed`, { scope, error: message(error) });
  const status = error instanceof DiscordApiError || error instanceof DiscordHttpError
    ? error.status
    : undefined;
  return done("failed", calls, { error: message(error), ...(status ? { status } : {}) });
}

async function syncScope(env: ManifestEnv, scope: ScopeKey, run: ScopeRun): Promise<ScopeResult> {
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

  const counter: Counter = { calls: 0 };
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
async function clearGuildCopy(
  env: ManifestEnv,
  guildId: string,
  run: ScopeRun,
): Promise<ScopeResult> {
  const { clock, kv, log } = env;
  const scope = guildScope(guildId);
  const done = resultFor(env, scope, run);
  const counter: Counter = { calls: 0 };
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
      error: message(error),
    });
    return done("failed", counter.calls, { error: message(error) });
  }
}

const OK: ScopeOutcome[] = ["synced", "in_sync"];
const SKIPPED: ScopeOutcome[] = ["unchanged", "cooldown", "busy"];

function statusOf(results: ScopeResult[], fallback: boolean, guilds: number): SyncStatus {
  const primary = results[0].outcome;
  if (OK.includes(primary)) return "ok";
  if (SKIPPED.includes(primary)) return "skipped";
  const rest = results.slice(1);
  if (
    fallback && rest.length === guilds &&
    rest.every((r) => OK.includes(r.outcome) || r.outcome === "unchanged")
  ) return "degraded";
  return "failed";
}

const calls = (n: number) => `${n} call${n === 1 ? "" : "s"}`;

function describeResult(r: ScopeResult): string {
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

export interface SyncOptions {
  /** Sync even when the fingerprint is unchanged or Discord already matches (FORCE_SYNC). */
  force?: boolean;
  trigger?: SyncTrigger;
}

/** Syncs the target scope (and the per-guild fallback when the global sync fails). */
export async function syncCommands(
  env: ManifestEnv,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  const { clock, kv, log } = env;
  const trigger = opts.trigger ?? "operator";
  const forced = opts.force === true || env.forceSync;
  const fp = await fingerprint(env.manifest);
  const target = targetScope(env);
  const report = (
    results: ScopeResult[],
    fallback = false,
    problems?: string[],
  ): SyncReport => ({
    status: problems ? "failed" : statusOf(results, fallback, env.guildIds.length),
    message: results.map(describeResult).join("; "),
    fingerprint: fp,
    forced,
    trigger,
    target,
    fallback,
    results,
    calls: results.reduce((n, r) => n + r.calls, 0),
    ...(problems ? { problems } : {}),
  });

  const problems = validateManifest(env.manifest);
  if (problems.length) {
    const result: ScopeResult = {
      scope: target,
      outcome: "invalid",
      fingerprint: fp,
      calls: 0,
      at: clock.now(),
      durationMs: 0,
      error: problems.length === 1 ? problems[0] : `${problems.length} problems`,
    };
    log.error("command sync refused: the manifest is invalid; nothing was sent", { problems });
    await record(env, result, trigger, forced);
    return report([result], false, problems);
  }

  const fallbackGuilds = target === "global" ? env.guildIds : [];
  // The TTL covers one scope (GET, PUT, one short-429 retry); the fallback renews it per guild.
  const ttl = env.tuning.leaseTtlMs;
  let lease = await acquireLease(kv, SYNC_LEASE, crypto.randomUUID(), ttl, clock);
  if (!lease) {
    const result: ScopeResult = {
      scope: target,
      outcome: "busy",
      fingerprint: fp,
      calls: 0,
      at: clock.now(),
      durationMs: 0,
    };
    log.info("command sync skipped: another sync holds the lease", { scope: target });
    await record(env, result, trigger, forced);
    return report([result]);
  }
  try {
    const run = { fingerprint: fp, forced, trigger };
    const primary = await syncScope(env, target, run);
    await record(env, primary, trigger, forced);
    const results = [primary];
    // A 401 means the token is wrong: every guild would refuse it too.
    const fallback = primary.outcome === "failed" && primary.status !== 401 &&
      fallbackGuilds.length > 0;
    if (fallback) {
      log.warn("command sync: global sync failed, falling back to the configured guilds", {
        guilds: fallbackGuilds.length,
      });
      for (const guildId of fallbackGuilds) {
        const previous = results[results.length - 1];
        if (results.length > 1 && previous.calls > 0) {
          await clock.sleep(env.tuning.guildSpacingMs);
        }
        const renewed = await renewLease(kv, lease, ttl, clock);
        if (!renewed) {
          log.warn("command sync: lost the sync lease during the fallback; stopping", {
            synced: results.length - 1,
            of: fallbackGuilds.length,
          });
          break;
        }
        lease = renewed;
        const r = await syncScope(env, guildScope(guildId), run);
        await record(env, r, trigger, forced);
        results.push(r);
        if (OK.includes(r.outcome) || r.outcome === "unchanged") {
          // The guild now holds a copy that duplicates the global commands once global works.
          await setFallbackCopy(kv, guildId, { at: clock.now(), fingerprint: fp });
        }
        if (r.outcome === "rate_limited") {
          // The guild command routes share a bucket: the next guild would wait for this reset.
          log.warn("command sync: rate limited during the per-guild fallback; stopping", {
            synced: results.length - 1,
            of: fallbackGuilds.length,
          });
          break;
        }
      }
    }
    // Global works again: remove the copies an earlier fallback left in guilds. Only for the
    // global target, never a dev guild's own scope.
    const globalOk = target === "global" &&
      (OK.includes(primary.outcome) || primary.outcome === "unchanged");
    const copies = globalOk
      ? (await listFallbackCopies(kv).catch((error) => {
        log.warn("command sync: could not read the fallback copies", { error: message(error) });
        return [];
      })).filter((c) => c.guildId !== env.devGuildId)
      : [];
    for (const [i, { guildId }] of copies.entries()) {
      const previous = results[results.length - 1];
      if (i > 0 && previous.calls > 0) await clock.sleep(env.tuning.guildSpacingMs);
      const renewed = await renewLease(kv, lease, ttl, clock);
      if (!renewed) {
        log.warn("command sync: lost the sync lease while removing fallback copies; stopping", {
          left: copies.length - i,
        });
        break;
      }
      lease = renewed;
      const r = await clearGuildCopy(env, guildId, run);
      await record(env, r, trigger, forced);
      results.push(r);
      if (r.outcome === "rate_limited" || r.outcome === "cooldown") {
        // The guild command routes share a bucket: the next guild would wait for this reset.
        log.warn("command sync: rate limited while removing fallback copies; retried next sync", {
          left: copies.length - i - 1,
        });
        break;
      }
    }
    const out = report(results, fallback);
    const level = out.status === "failed" ? "error" : out.status === "degraded" ? "warn" : "info";
    log[level](`command sync ${out.status}: ${out.message}`, { trigger, forced, calls: out.calls });
    return out;
  } finally {
    await releaseLease(kv, lease).catch(() => false);
  }
}

/** Compares the code's manifest with what Discord has in `scope` (one GET) and notes the result. */
export async function diffCommands(
  env: ManifestEnv,
  scope: ScopeKey = targetScope(env),
): Promise<DiffReport> {
  const counter: Counter = { calls: 0 };
  const fp = await fingerprint(env.manifest);
  const registered = await discordCall(env, counter, (o) => fetchRegistered(env, scope, o));
  const diff = diffManifests(env.manifest, registered, { guild: scope !== "global" });
  const discordFingerprint = await fingerprint(registered);
  const synced = await getSynced(env.kv, scope);
  const at = env.clock.now();
  await setDrift(env.kv, scope, {
    at,
    inSync: diff.inSync,
    fingerprint: fp,
    discordFingerprint,
    summary: summarizeDiff(diff),
  }).catch((error) => env.log.warn("could not store the drift check", { error }));
  return {
    scope,
    at,
    fingerprint: fp,
    discordFingerprint,
    syncedFingerprint: synced?.fingerprint ?? null,
    syncedAt: synced?.at ?? null,
    counts: { code: env.manifest.length, discord: registered.length },
    diff,
    inSync: diff.inSync,
    calls: counter.calls,
  };
}

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
    env.log.error("command drift check failed", { scope, error: message(error) });
    return { error: message(error) };
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
    env.log.error("command sync on start failed", { error: message(error) });
    return null;
  }
}
