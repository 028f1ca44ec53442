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
 *   Writes are single-role PUT/DELETE through the member-role writer (discord/member_roles.ts):
 *   they touch only their role, so they need no fresh read of the member (a PATCH sends every
 *   role and would; see chunk_writer.ts), and the REST client paces them in the guild's role
 *   bucket and the bot's shared global budget like every other call.
 * - A member's entry leaves the backlog only after their roles are right (written, or found
 *   right), checked against the entry read, so an update queued meanwhile stays. What the pass
 *   cannot do in its time box stays for the next pass; a member whose score is unavailable or
 *   whose write Discord failed stays too.
 */
import type { AppDeps } from "../deps.ts";
import { getMember } from "../discord/api.ts";
import { isUnknownMember } from "../discord/errors.ts";
import {
  rolesAfter,
  sendRoleCall,
  singleRoleCalls,
  type WriteOutcome,
} from "../discord/member_roles.ts";
import { isEnabled } from "../ops/flags.ts";
import { YieldingLease } from "../kv/lease.ts";
import { leaseName } from "../jobs/store.ts";
import { cachedGuildContext, rulesFor } from "./context.ts";
import type { EthosClient } from "../ethos/client.ts";
import type { ScoreCache } from "./score_cache.ts";
import { resolveScores } from "./scores.ts";
import { Pacer } from "./lanes.ts";
import { pool } from "../pool.ts";
import {
  diff,
  managedHeld,
  managedRoles,
  needsFlags,
  needsScore,
  type ScoreInput,
  type SyncRules,
  targetRoles,
} from "./rule.ts";
import {
  completeQueued,
  freshKeys,
  hasBacklog,
  type Queued,
  readBacklog,
} from "../jobs/fresh_backlog.ts";
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
const REASON = "Ethos score changed (freshness pass)";
/** The pacer's waits are bounded by the bucket's rate; nothing aborts them. */
const NEVER = new AbortController().signal;
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
  /** Members left for a later pass (score unavailable, Discord failing, time box); the pass
   * fills it from the backlog it reads for its report. */
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
  const { kv, clock } = deps;
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
  // Most minutes most guilds have nothing queued: no lease, no Discord call.
  if (!(await hasBacklog(kv, guildId))) return { ...r, reason: "nothing queued" };
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
    // Role calls evenly paced at the role bucket's rate, as the sync's role lane does (PUT and
    // DELETE share Discord's bucket, which the REST client only learns from their answers).
    const limit =
      await deps.rest.learnedLimits("PUT", `/guilds/${guildId}/members/${ANY}/roles/${ANY}`)
        .catch(() => null) ?? deps.config.sync.roleLimit;
    const run = new GuildApply(deps, guildId, o, r, hold, rules, new Set(ctx.manageable), limit);
    await run.run();
  } finally {
    clearInterval(heartbeat);
    await hold.release();
  }
  return r;
}

interface Member {
  roles: string[];
  bot: boolean;
}

/** One guild's backlog, batch by batch, while the pass holds the guild. */
class GuildApply {
  readonly #managed: Set<string>;
  readonly #relevant: Set<string>;
  readonly #rolesKey: string;
  readonly #pacer: Pacer;
  readonly #log;
  /** Discord failed (5xx, 429 after retries): the rest waits for the next pass. */
  #failed = false;
  /** Each queued member once per pass (one left queued is retried by the next). */
  #tried = new Set<string>();
  /** What this batch leaves in the index. */
  #notes = new Map<string, Noted>();

  constructor(
    private readonly deps: AppDeps,
    private readonly guildId: string,
    private readonly o: ApplyOptions,
    private readonly r: ApplyResult,
    private readonly hold: YieldingLease,
    private readonly rules: SyncRules,
    private readonly manageable: ReadonlySet<string>,
    limit: { limit: number; windowMs: number },
  ) {
    this.#managed = managedRoles(rules);
    this.#relevant = indexedRoles(rules);
    this.#rolesKey = rolesKeyOf(this.#relevant);
    this.#pacer = new Pacer(deps.clock, limit.windowMs / limit.limit);
    this.#log = deps.log.child({ component: "fresh", guild: guildId });
  }

  #open(): boolean {
    return !this.hold.lost && !this.#failed && this.deps.clock.now() < this.o.deadline;
  }

  async run(): Promise<void> {
    const { kv } = this.deps;
    while (this.#open()) {
      const queued = (await readBacklog(kv, this.guildId, BATCH + this.#tried.size))
        .filter((q) => !this.#tried.has(q.userId)).slice(0, BATCH);
      if (queued.length === 0) return;
      for (const q of queued) this.#tried.add(q.userId);
      this.#notes = new Map();
      const members = await this.#members(queued);
      const inGuild = queued.filter((q) => members.has(q.userId));
      const asking = inGuild.filter((q) => needsScore(members.get(q.userId)!, this.rules));
      const scores = await resolveScores(
        asking.map((q) => ({
          id: q.userId,
          holdsManaged: managedHeld(members.get(q.userId)!.roles, this.#managed).length > 0,
        })),
        this.o,
        { fresh: true, flags: needsFlags(this.rules) },
      );
      await pool(inGuild, CONCURRENCY, async (q) => {
        // The time box: a member not started stays queued for the next pass.
        if (!this.#open()) return;
        const m = members.get(q.userId)!;
        const score = needsScore(m, this.rules) ? scores.get(q.userId) ?? "error" : undefined;
        await this.#write(q, m, score);
      });
      await noteMembers(kv, this.guildId, this.#notes, this.#rolesKey);
      if (queued.length < BATCH) return;
    }
  }

  /**
   * Who of `queued` is in the guild, with which roles: the index, else one read. Members not in
   * the guild leave the backlog here.
   */
  async #members(queued: Queued[]): Promise<Map<string, Member>> {
    const { kv, clock, rest } = this.deps;
    const ids = queued.map((q) => q.userId);
    const known = await lookupMembers(kv, this.guildId, ids, this.#rolesKey, clock.now());
    const members = new Map<string, Member>();
    const absent: Queued[] = [];
    await pool(queued, CONCURRENCY, async (q) => {
      const k = known.get(q.userId)!;
      if (k.state === "member") members.set(q.userId, { roles: k.roles, bot: false });
      else if (k.state === "absent") absent.push(q);
      else if (!this.#failed) {
        this.r.reads++;
        try {
          const m = await getMember(rest, this.guildId, q.userId);
          members.set(q.userId, { roles: m.roles, bot: m.user.bot === true });
          this.#note(q.userId, m.user.bot === true, m.roles);
        } catch (error) {
          if (!isUnknownMember(error)) return this.#fail("member read", error);
          absent.push(q);
          this.#notes.set(q.userId, "absent");
        }
      }
    });
    for (const q of absent) {
      if ((await completeQueued(kv, this.guildId, q)) === "done") this.r.notMember++;
    }
    return members;
  }

  /** One member: the rule, the diff, single-role writes; settled when the roles are right. */
  async #write(q: Queued, m: Member, score: ScoreInput): Promise<void> {
    const { rest, clock } = this.deps;
    const target = targetRoles(m, score, this.rules);
    // Ethos could not say: the member stays queued (never stripped for an unknown score).
    if (target.kind === "skip" && target.reason === "score_unavailable") return;
    let roles = m.roles;
    if (target.kind === "target") {
      const d = diff(m.roles, target.roles, this.#managed, this.manageable);
      const calls = singleRoleCalls(d);
      const to = { rest, guildId: this.guildId, userId: q.userId, reason: REASON };
      for (const call of calls) {
        await this.#pacer.acquire(NEVER);
        const outcome = await sendRoleCall(to, call, m.roles, d);
        if (outcome.kind !== "done") return await this.#writeError(q, outcome);
        this.r.calls++;
      }
      if (calls.length) this.r.written++;
      roles = rolesAfter(m.roles, d);
    }
    this.#note(q.userId, m.bot, roles);
    const key = freshKeys.backlog(this.guildId, q.userId);
    const done = await this.hold.commit((op) =>
      op.check({ key, versionstamp: q.versionstamp }).delete(key)
    );
    if (done.ok) {
      this.r.applied++;
      this.r.lags.push(Math.max(0, (clock.now() - q.entry.updatedAt) / 1000));
    }
  }

  async #writeError(q: Queued, outcome: Exclude<WriteOutcome, { kind: "done" }>): Promise<void> {
    const { kv } = this.deps;
    this.#notes.set(q.userId, null);
    if (outcome.kind === "gone") {
      this.#notes.set(q.userId, "absent");
      if ((await completeQueued(kv, this.guildId, q)) === "done") this.r.notMember++;
    } else if (outcome.kind === "refused") {
      // Refused for good (a permission, a role gone): the next full sync settles the member.
      this.r.refused++;
      this.#log.warn("fresh: write refused", { userId: q.userId, error: outcome.error.message });
      await completeQueued(kv, this.guildId, q);
    } else {
      // Failing (5xx, 429 after retries), or cut short (the client closed): the backlog waits.
      this.#fail("write", outcome.error);
    }
  }

  /** The index keeps a member's relevant roles; a bot stays unknown (a read says who is one). */
  #note(userId: string, bot: boolean, roles: readonly string[]): void {
    this.#notes.set(userId, bot ? null : roles.filter((x) => this.#relevant.has(x)));
  }

  #fail(what: string, error: unknown): void {
    if (!this.#failed) {
      this.#log.warn(`fresh: ${what} failed; the guild's backlog waits for the next pass`, {
        error,
      });
    }
    this.#failed = true;
  }
}
