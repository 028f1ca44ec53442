/**
 * Keeping linked users' metadata true after they connect:
 *
 * - `pushLinked`: new metadata for a linked user, pushed with their token only when it differs
 *   from what Discord has. The access token is refreshed first when it expires within a day
 *   (tokens live 7 days), or after Discord refuses it (401).
 * - One user's refresh and push happen under a per-user lease, so two isolates never race a
 *   refresh (Discord rotates refresh tokens: the loser's old one would read as a revoked grant)
 *   nor push stale metadata over fresh. A refused grant (`invalid_grant`: revoked, or the app
 *   removed from the user's authorised apps) deletes the stored tokens: no more tries.
 * - `refreshExpiring`: the daily cron refreshes every token that expires within two days, so a
 *   user whose score never changes stays linked.
 * - `disconnect`: /privacy delete. Discord's metadata for the user is cleared, the grant revoked
 *   and the record deleted.
 */
import type { AppDeps } from "../deps.ts";
import type { LinkedFigures } from "../jobs/fresh_backlog.ts";
import { acquireLease, releaseLease } from "../kv/lease.ts";
import { type Metadata, metadataOf, type Standing } from "./metadata.ts";
import {
  DiscordOAuthError,
  InvalidGrantError,
  pushRoleConnection,
  refreshTokens,
  revokeToken,
  roleConnection,
  UnauthorizedError,
} from "./oauth.ts";
import { open, seal, type TokenKeys } from "./token_box.ts";
import { deleteLinked, getLinked, linkedKeys, type LinkedUser, linkedUserSchema } from "./store.ts";

const DAY_MS = 86_400_000;
/** Refresh when the access token expires within this. */
const REFRESH_AHEAD_MS = DAY_MS;
const LOCK_TTL_MS = 30_000;

export type PushOutcome =
  | "pushed"
  | "unchanged"
  | "not_linked"
  /** The grant is gone; the stored tokens were deleted. */
  | "unlinked"
  /** Another isolate is pushing for the user right now: try again later. */
  | "busy"
  /** Discord failed (5xx, rate limited past the wait): try again later. */
  | "failed";

/** The keeper's share of the linked figures. */
export type KeeperCounters = Pick<LinkedFigures, "pushes" | "refreshes" | "failures" | "unlinked">;

export function emptyCounters(): KeeperCounters {
  return { pushes: 0, refreshes: 0, failures: 0, unlinked: 0 };
}

interface Ctx {
  deps: AppDeps;
  keys: TokenKeys;
  counters: KeeperCounters;
}

/** Runs `fn` with the user's lease; "busy" when another holder has it. */
async function locked<T>(
  deps: AppDeps,
  userId: string,
  fn: () => Promise<T>,
): Promise<T | "busy"> {
  const lease = await acquireLease(
    deps.kv,
    `linked:${userId}`,
    crypto.randomUUID(),
    LOCK_TTL_MS,
    deps.clock,
  );
  if (!lease) return "busy";
  try {
    return await fn();
  } finally {
    await releaseLease(deps.kv, lease).catch(() => {});
  }
}

/** The record with a usable access token (refreshed when due, or when `force`). */
async function withAccess(
  c: Ctx,
  userId: string,
  rec: { value: LinkedUser; versionstamp: string },
  force = false,
): Promise<{ value: LinkedUser; versionstamp: string; access: string } | "unlinked"> {
  const { deps, keys } = c;
  const now = deps.clock.now();
  const access = await open(keys, userId, rec.value.access);
  if (access && !force && rec.value.expiresAt - now > REFRESH_AHEAD_MS) {
    return { ...rec, access };
  }
  const refresh = await open(keys, userId, rec.value.refresh);
  if (!refresh) {
    return await unlink(c, userId, "its tokens no longer open (SIGNING_SECRET changed)");
  }
  let tokens;
  try {
    tokens = await refreshTokens(deps, refresh, now);
  } catch (error) {
    if (error instanceof InvalidGrantError) return await unlink(c, userId, error.message);
    throw error;
  }
  c.counters.refreshes++;
  const value: LinkedUser = {
    ...rec.value,
    refresh: await seal(keys, userId, tokens.refreshToken),
    access: await seal(keys, userId, tokens.accessToken),
    expiresAt: tokens.expiresAt,
  };
  // Under the user's lease nobody else writes the record but a /privacy delete: keep that.
  const ok = await deps.kv.atomic().check({
    key: linkedKeys.user(userId),
    versionstamp: rec.versionstamp,
  })
    .set(linkedKeys.user(userId), value).commit();
  if (!ok.ok) return "unlinked";
  return { value, versionstamp: ok.versionstamp, access: tokens.accessToken };
}

async function unlink(c: Ctx, userId: string, why: string): Promise<"unlinked"> {
  c.counters.unlinked++;
  c.deps.log.info("linked roles: grant gone; the user's tokens are deleted", { userId, why });
  await deleteLinked(c.deps.kv, userId);
  return "unlinked";
}

/**
 * Pushes `standing` (null: no Ethos profile) for a linked user when it changes what Discord has.
 */
export async function pushLinked(
  deps: AppDeps,
  keys: TokenKeys,
  userId: string,
  standing: Standing | null,
  counters: KeeperCounters = emptyCounters(),
  displayName?: string | null,
): Promise<PushOutcome> {
  const c: Ctx = { deps, keys, counters };
  const r = await locked(deps, userId, async (): Promise<PushOutcome> => {
    const rec = await getLinked(deps.kv, userId);
    if (!rec) return "not_linked";
    const metadata = metadataOf(standing);
    const platformUsername = displayName === undefined ? rec.value.platformUsername : displayName;
    if (same(rec.value.metadata, metadata) && platformUsername === rec.value.platformUsername) {
      return "unchanged";
    }
    const body = roleConnection(platformUsername, metadata);
    try {
      let cur = await withAccess(c, userId, rec);
      if (cur === "unlinked") return "unlinked";
      try {
        await pushRoleConnection(deps, cur.access, body);
      } catch (error) {
        if (!(error instanceof UnauthorizedError)) throw error;
        // Revoked early or expired: one refresh, one more try.
        const again = await getLinked(deps.kv, userId);
        if (!again) return "not_linked";
        cur = await withAccess(c, userId, again, true);
        if (cur === "unlinked") return "unlinked";
        await pushRoleConnection(deps, cur.access, body);
      }
      // The record as this lease last wrote or read it: a /privacy delete meanwhile stays done.
      const key = linkedKeys.user(userId);
      const pushedAt = deps.clock.now();
      const pushed: LinkedUser = { ...cur.value, metadata, platformUsername, pushedAt };
      await deps.kv.atomic().check({ key, versionstamp: cur.versionstamp }).set(key, pushed)
        .commit();
      counters.pushes++;
      return "pushed";
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        return await unlink(c, userId, "access refused after a refresh");
      }
      if (!(error instanceof DiscordOAuthError)) throw error;
      counters.failures++;
      deps.log.warn("linked roles: push failed; tried again next pass", { userId, error });
      return "failed";
    }
  });
  return r;
}

function same(a: Record<string, string>, b: Metadata): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k as keyof Metadata]);
}

/** The daily refresh of tokens expiring within two days; returns the counters. */
export async function refreshExpiring(deps: AppDeps, keys: TokenKeys): Promise<KeeperCounters> {
  const counters = emptyCounters();
  const c: Ctx = { deps, keys, counters };
  const soon = deps.clock.now() + 2 * DAY_MS;
  for await (const e of deps.kv.list({ prefix: linkedKeys.users() })) {
    const userId = e.key[2];
    const parsed = linkedUserSchema.safeParse(e.value);
    if (typeof userId !== "string" || !parsed.success || parsed.data.expiresAt > soon) continue;
    await locked(deps, userId, async () => {
      const rec = await getLinked(deps.kv, userId);
      if (!rec || rec.value.expiresAt > soon) return;
      try {
        await withAccess(c, userId, rec, true);
      } catch (error) {
        counters.failures++;
        deps.log.warn("linked roles: token refresh failed; tried again tomorrow", {
          userId,
          error,
        });
      }
    });
  }
  return counters;
}

/**
 * Clears what Discord knows of the user for this app, revokes the grant and deletes the record.
 * Returns whether there was a connection.
 */
export async function disconnect(deps: AppDeps, keys: TokenKeys, userId: string): Promise<boolean> {
  const rec = await getLinked(deps.kv, userId);
  if (!rec) return false;
  const c: Ctx = { deps, keys, counters: emptyCounters() };
  try {
    const cur = await withAccess(c, userId, rec);
    if (cur !== "unlinked") {
      await pushRoleConnection(deps, cur.access, roleConnection(null, {} as Metadata));
      const refresh = await open(keys, userId, cur.value.refresh);
      if (refresh) await revokeToken(deps, refresh);
    }
  } catch (error) {
    // The record goes anyway: the user asked; Discord drops an app's data when its grant goes.
    deps.log.warn("linked roles: clearing the metadata on Discord failed", { userId, error });
  }
  await deleteLinked(deps.kv, userId);
  return true;
}
