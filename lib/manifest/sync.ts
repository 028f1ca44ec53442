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
 *
 * This module runs the sync and the diff; one scope's steps are in scope_sync.ts, how the results
 * read in outcome.ts, the daily drift check in drift.ts and the sync on start in start.ts.
 */
import { validateManifest } from "./validate.ts";
import { acquireLease, releaseLease, renewLease } from "../kv/lease.ts";
import { fingerprint } from "./canonical.ts";
import { diffManifests, summarizeDiff } from "./diff.ts";
import { type CallCounter, discordCall, errorText } from "./discord_call.ts";
import type { ManifestEnv } from "./env.ts";
import { describeResult, holdsManifest, syncStatus } from "./outcome.ts";
import { fetchRegistered, guildScope, targetScope } from "./scope.ts";
import { clearGuildCopy, syncScope } from "./scope_sync.ts";
import { appendLog, getSynced, listFallbackCopies, setDrift, setFallbackCopy } from "./store.ts";
import type { DiffReport, ScopeKey, ScopeResult, SyncReport, SyncTrigger } from "./types.ts";

const SYNC_LEASE = "commands-sync";

/** Appends the result to the sync log; a KV failure there is logged, never fatal. */
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
    status: problems ? "failed" : syncStatus(results, fallback, env.guildIds.length),
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
        if (holdsManifest(r.outcome)) {
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
    const globalOk = target === "global" && holdsManifest(primary.outcome);
    const copies = globalOk
      ? (await listFallbackCopies(kv).catch((error) => {
        log.warn("command sync: could not read the fallback copies", { error: errorText(error) });
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
  const counter: CallCounter = { calls: 0 };
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
