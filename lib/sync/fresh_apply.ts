/**
 * The freshness pass's second stage, for one guild: its backlog of members whose Ethos score
 * changed, written to Discord now, under the guild's sync lease.
 *
 * - The lease is the sync job's, taken as a yielding holder: while a sync chunk runs, the chunk
 *   takes the backlog itself (engine.ts) and this stage leaves the guild alone; a chunk starting
 *   meanwhile asks for the lease, and this stage finishes its in-flight members and gives it back.
 *   A freshness write and a chunk's write of the same guild never overlap.
 * - Who is a member, and their roles, come from the member index (member_index.ts): no Discord
 *   call for a changed user who is not in the guild, and none to read a member who is. Only an
 *   unknown one (no index yet, too old, rules changed) is read, once.
 * - Scores are read fresh from Ethos (and cached), and the rule and the diff are the full sync's.
 *   Writes are single-role PUT/DELETE: they touch only their role, so they need no fresh read of
 *   the member (a PATCH sends every role and would; see engine.ts), and the REST client paces them
 *   in the guild's role bucket and the bot's shared global budget like every other call.
 * - A member's entry leaves the backlog only after their roles are right (written, or found
 *   right), checked against the entry read, so an update queued meanwhile stays. What the pass
 *   cannot do in its time box stays for the next pass; a member whose score is unavailable or
 *   whose write Discord failed stays too.
 */
import type { AppDeps } from "../deps.ts";
import { addMemberRole, getMember, removeMemberRole } from "../discord/api.ts";
import { DiscordApiError, isUnknownMember } from "../discord/errors.ts";
import { isEnabled } from "../ops/flags.ts";
import { YieldingLease } from "../kv/lease.ts";
import { leaseName } from "../jobs/store.ts";
import { cachedGuildContext, rulesFor } from "./context.ts";
import type { EthosClient } from "./ethos.ts";
import type { ScoreCache } from "./score_cache.ts";
import { resolveScores } from "./scores.ts";
import { Pacer } from "./lanes.ts";
import {
  applyDiff,
  diff,
  managedHeld,
  managedRoles,
  needsFlags,
  needsScore,
  targetRoles,
} from "./rule.ts";
import {
  backlogTimes,
  completeQueued,
  freshKeys,
  type Queued,
  readBacklog,
} from "./fresh_backlog.ts";
import {
  indexedRoles,
  lookupMembers,
  type Noted,
  noteMembers,
  rolesKeyOf,
} from "./member_index.ts";

/** Members read from the backlog at a time. */
const BATCH = 50;
/** Members written side by side (the REST client queues their calls in the role bucket). */
const CONCURRENCY = 4;
const LEASE_TTL_MS = 15_000;
/** Any member or role id: a bucket lookup needs only the route's shape. */
const ANY = "100000000000000000";
/** Lease heartbeat. */
const RENEW_MS = 5_000;

export interface ApplyOptions {
  ethos: EthosClient;
  cache: ScoreCache;
  /** Stop starting members after this (epoch ms); in-flight ones finish. */
  deadline: number;
  /** Kind of the sync job whose lease guards the guild. */
  jobKind: string;
}

export interface ApplyResult {
  guildId: string;
  /** False: the guild was left alone (`reason`). */
  ran: boolean;
  reason?: string;
  /** Members whose roles are now right (written or found right). */
  applied: number;
  /** ...of which needed writes. */
  written: number;
  calls: number;
  /** Member reads (index unknown). */
  reads: number;
  notMember: number;
  /** Members left for a later pass (score unavailable, Discord failing, time box). */
  left: number;
  /** Writes Discord refused (4xx other than 429): given up, logged. */
  refused: number;
  /** Lag of each applied member, seconds from Ethos's `lastUpdatedAt`. */
  lags: number[];
}

export async function applyGuildBacklog(
  deps: AppDeps,
  guildId: string,
  o: ApplyOptions,
): Promise<ApplyResult> {
  const { kv, clock, rest } = deps;
  const log = deps.log.child({ component: "fresh", guild: guildId });
  const r: ApplyResult = {
    guildId,
    ran: false,
    applied: 0,
    written: 0,
    calls: 0,
    reads: 0,
    notMember: 0,
    left: 0,
    refused: 0,
    lags: [],
  };
  const rules = await rulesFor(deps, guildId);
  if (!(await isEnabled(kv, guildId, "role_sync"))) {
    return { ...r, reason: "role sync is turned off for this server" };
  }
  const hold = await YieldingLease.take(kv, leaseName(o.jobKind, guildId), LEASE_TTL_MS, clock);
  if (!hold) return { ...r, reason: "a sync chunk holds the guild (it takes the backlog)" };
  r.ran = true;
  const heartbeat = setInterval(() => void hold.renew(), RENEW_MS);
  try {
    const ctx = await cachedGuildContext(deps, deps.config, guildId, rules);
    if (!ctx.canManageRoles) return { ...r, reason: "the bot lacks Manage Roles in this server" };
    const managed = managedRoles(rules);
    const manageable = new Set(ctx.manageable);
    const relevant = indexedRoles(rules);
    const rolesKey = rolesKeyOf(relevant);
    const reason = "Ethos score changed (freshness pass)";
    // Role calls evenly paced at the role bucket's rate, as the sync's role lane does (PUT and
    // DELETE share Discord's bucket, which the REST client only learns from their answers).
    const limit =
      await deps.rest.learnedLimits("PUT", `/guilds/${guildId}/members/${ANY}/roles/${ANY}`)
        .catch(() => null) ?? deps.config.sync.roleLimit;
    const pacer = new Pacer(clock, limit.windowMs / limit.limit);
    const never = new AbortController().signal;
    const tried = new Set<string>();
    while (!hold.lost && clock.now() < o.deadline) {
      const queued = (await readBacklog(kv, guildId, BATCH + tried.size))
        .filter((q) => !tried.has(q.userId)).slice(0, BATCH);
      if (queued.length === 0) break;
      for (const q of queued) tried.add(q.userId);
      const notes = new Map<string, Noted>();

      // Who is a member, with which roles: the index, else one read.
      const known = await lookupMembers(
        kv,
        guildId,
        queued.map((q) => q.userId),
        rolesKey,
        clock.now(),
      );
      const members = new Map<string, { roles: string[]; bot: boolean }>();
      const absent: Queued[] = [];
      let discordFailed = false;
      await pool(queued, CONCURRENCY, async (q) => {
        const k = known.get(q.userId)!;
        if (k.state === "member") members.set(q.userId, { roles: k.roles, bot: false });
        else if (k.state === "absent") absent.push(q);
        else if (!discordFailed) {
          r.reads++;
          try {
            const m = await getMember(rest, guildId, q.userId);
            members.set(q.userId, { roles: m.roles, bot: m.user.bot === true });
            // A bot stays unknown in the index (it does not say who is a bot; a read does).
            notes.set(q.userId, m.user.bot ? null : m.roles.filter((x) => relevant.has(x)));
          } catch (error) {
            if (isUnknownMember(error)) {
              absent.push(q);
              notes.set(q.userId, "absent");
            } else {
              discordFailed = true;
              log.warn("fresh: member read failed; the guild's backlog waits", { error });
            }
          }
        }
      });
      for (const q of absent) {
        if ((await completeQueued(kv, guildId, q, [])) === "refused") break;
        r.notMember++;
      }
      if (discordFailed) break;

      const inGuild = queued.filter((q) => members.has(q.userId));
      const asking = inGuild.filter((q) => needsScore(members.get(q.userId)!, rules));
      const scores = await resolveScores(
        asking.map((q) => ({
          id: q.userId,
          holdsManaged: managedHeld(members.get(q.userId)!.roles, managed).length > 0,
        })),
        o,
        { fresh: true, flags: needsFlags(rules) },
      );
      await pool(inGuild, CONCURRENCY, async (q) => {
        if (hold.lost || discordFailed) return;
        const m = members.get(q.userId)!;
        const score = needsScore(m, rules) ? scores.get(q.userId) ?? "error" : undefined;
        const target = targetRoles(m, score, rules);
        if (target.kind === "skip" && target.reason === "score_unavailable") return;
        let roles = m.roles;
        if (target.kind === "target") {
          const d = diff(m.roles, target.roles, managed, manageable);
          try {
            for (const role of d.add) {
              await pacer.acquire(never);
              await addMemberRole(rest, guildId, q.userId, role, reason);
              r.calls++;
            }
            for (const role of d.remove) {
              await pacer.acquire(never);
              await removeMemberRole(rest, guildId, q.userId, role, reason);
              r.calls++;
            }
          } catch (error) {
            if (isUnknownMember(error)) {
              notes.set(q.userId, "absent");
              if ((await completeQueued(kv, guildId, q, [])) !== "refused") r.notMember++;
              return;
            }
            if (error instanceof DiscordApiError && error.status < 500 && error.status !== 429) {
              // Refused for good (a permission or role gone): settled by the next full sync.
              r.refused++;
              notes.set(q.userId, null);
              log.warn("fresh: write refused", { userId: q.userId, error: error.message });
              await completeQueued(kv, guildId, q, []);
              return;
            }
            discordFailed = true;
            notes.set(q.userId, null);
            log.warn("fresh: write failed; the guild's backlog waits", { error });
            return;
          }
          if (d.add.length + d.remove.length > 0) r.written++;
          roles = applyDiff(m.roles, d);
        }
        notes.set(q.userId, m.bot ? null : roles.filter((x) => relevant.has(x)));
        const key = freshKeys.backlog(guildId, q.userId);
        const done = await hold.commit((op) =>
          op.check({ key, versionstamp: q.versionstamp }).delete(key)
        );
        if (done.ok) {
          r.applied++;
          r.lags.push(Math.max(0, (clock.now() - q.entry.updatedAt) / 1000));
        }
      });
      await noteMembers(kv, guildId, notes, rolesKey);
      if (discordFailed || queued.length < BATCH) break;
    }
  } finally {
    clearInterval(heartbeat);
    await hold.release();
  }
  r.left = (await backlogTimes(kv, guildId)).length;
  return r;
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
