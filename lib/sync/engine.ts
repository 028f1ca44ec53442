/**
 * The role sync engine: one chunk of a run, as a pipeline.
 *
 *   reader ──► scores + rule + diff ──► scheduler split ──► PATCH lane ─┐
 *     (members in user-id order,              (per page,    role lane ─┴─► tracker ──► checkpoint
 *      `after` paging, or the Ethos            totals-aware)
 *      updates feed in incremental mode)
 *
 * - Reader: lists members after the cursor (1000 a page, fewer when the global limit binds so
 *   a page's writes go out while its read is fresh), and reads the next page only when the lanes
 *   are about to run dry (so reads are fresh and memory stays flat). Scores per page come from
 *   the cache, Ethos in bulk, and the confirming single lookup (scores.ts).
 * - Rule + diff (rule.ts): members whose managed roles already match get no write.
 * - Scheduler (scheduler.ts): splits each page's writers between the two buckets the way the
 *   optimum over every writer seen so far in the chunk would, so both lanes end together and the
 *   run makes the whole-guild optimum's calls.
 * - Lanes (lanes.ts): evenly paced at the bucket rate, few in flight. The rates are the write
 *   buckets' real limits as the REST client learned them (from Discord's headers, by this chunk
 *   or, kept in KV for a day, an earlier one); SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT only when nothing
 *   was learned yet, and then the first writers go alone to learn them before the rest is split.
 * - Tracker: writes complete out of order across the lanes; the checkpoint cursor is the highest
 *   user id such that every member up to it is done, and the counters advance with it, so a
 *   resumed chunk re-lists from the cursor, recomputes every diff from fresh data and never
 *   repeats a write that landed (a landed write makes its diff empty).
 *
 * Moderator safety. A single-role PUT/DELETE touches only its role, so it never undoes a
 * moderator's change to another role. A PATCH sends the whole role list, so it is computed from
 * roles read at most `freshMs` (SYNC_FRESH_MS, default 5 s) before it is handed to the REST
 * client; an older read is refreshed with GET member first (its bucket is separate from the
 * write buckets). If that fresh read shows the verified role or a managed role changed since the
 * page read, someone else is handling this member right now: it is skipped
 * ("changed_during_sync") rather than overwritten, and the next run settles it.
 */
import { isAbort } from "../abort.ts";
import { z } from "zod";
import type { APIGuildMember } from "discord-api-types/v10";
import type { Config } from "../config.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import type { RestClient } from "../discord/rest.ts";
import {
  addMemberRole,
  getMember,
  listMembers,
  modifyMemberRoles,
  removeMemberRole,
} from "../discord/api.ts";
import { DiscordApiError, isUnknownMember, RESTJSONErrorCodes } from "../discord/errors.ts";
import type { ChunkContext } from "../jobs/runner.ts";
import { discordIdOf, type EthosClient } from "../ethos/client.ts";
import type { ScoreCache } from "./score_cache.ts";
import { emptyScoreStats, resolveScores, type ScoreStats } from "./scores.ts";
import { flagRoles, type HolderChange, holdersOf, listHolders, recordHolders } from "./holders.ts";
import {
  applyDiff,
  changeCount,
  diff,
  managedHeld,
  managedRoles,
  needsFlags,
  needsScore,
  type RoleDiff,
  type ScoreInput,
  type SyncRules,
  targetRoles,
} from "./rule.ts";
import { type Binding, type LaneRates, makespanOf, PagedSplit } from "./scheduler.ts";
import { DrainShare } from "./drain_share.ts";
import { Lane, Pacer } from "./lanes.ts";
import { type GuildContext, guildContextSchema } from "./context.ts";
import { IndexBuilder, indexedRoles, type Noted, noteMembers, rolesKeyOf } from "./member_index.ts";
import { completeQueued, freshKeys, type Queued, readBacklog } from "../jobs/fresh_backlog.ts";
import { recordLags } from "./fresh_lag.ts";
import { getManyChunked } from "../kv/many.ts";

export const syncCheckpointSchema = z.object({
  mode: z.enum(["full", "incremental"]),
  /** Full: the highest user id done ("0" before the first). Incremental: the feed offset. */
  cursor: z.string(),
  /** Members still to pass over (a startIndex that did not match a checkpoint). */
  skip: z.number().int().nonnegative(),
  ctx: guildContextSchema.nullable(),
  /** Incremental runs: the Ethos updates window. */
  inc: z.object({ after: z.string(), until: z.number() }).nullable(),
});
export type SyncCheckpoint = z.infer<typeof syncCheckpointSchema>;

/** Cursor prefix of the incremental run's holders phase (after the feed). */
const HOLDERS_CURSOR = "h:";
const HOLDERS_PAGE = 100;
/** Changed members a chunk records for the run summary (the runner keeps 25 per run). */
const MAX_SUMMARY = 25;

export interface EngineDeps {
  config: Config;
  kv: Deno.Kv;
  rest: RestClient;
  ethos: EthosClient;
  cache: ScoreCache;
  clock: Clock;
  log: Logger;
}

export interface EngineOptions {
  rules: SyncRules;
  ctx: GuildContext;
  guildId: string;
  dryRun: boolean;
  reason: string;
  /** Checkpoint at most this often (default 1 s) or every `checkpointItems` members. */
  checkpointMs?: number;
  checkpointItems?: number;
}

/** What a dry run would change, per member. */
export interface PlannedChange {
  userId: string;
  username?: string;
  add: string[];
  remove: string[];
  blocked?: string[];
}

/** Figures of one chunk, for logs and the benchmark. */
export interface ChunkStats {
  listCalls: number;
  memberReads: number;
  rereads: number;
  patches: number;
  roleCalls: number;
  /** Oldest role read a PATCH was computed from, at the time it was handed to the client. */
  maxPatchReadAgeMs: number;
  scores: ScoreStats;
}

interface Item {
  pos: string;
  id: string;
  username?: string;
  roles: string[];
  bot: boolean;
  readAt: number;
  diff: RoleDiff | null;
  callsLeft: number;
  done: boolean;
  outcome: string | null;
  error: string | null;
  extra: string[];
  /** A freshness backlog entry this chunk takes in between its pages (see #drainFresh). */
  side?: Queued;
}

interface RoleCall {
  item: Item;
  op: "add" | "remove";
  roleId: string;
}

const MAX_PLANNED = 1000;
/** Any member/role id: bucket lookups only need the route's shape. */
const SAMPLE_ID = "100000000000000000";
/** The REST client spreads the global limit over 1020 ms per second (its default slack). */
const GLOBAL_HEADROOM = 1000 / 1020;
/**
 * The smallest page when the global limit binds. With several guilds sharing the limit a guild's
 * part can be 5/s, and a page's PATCHes must drain inside SYNC_FRESH_MS: a list call per 20+
 * members costs less than the re-reads (one call per PATCH) a bigger page would need.
 */
const MIN_PAGE = 20;
/** The first page, before the chunk knows how many calls a member needs and its global share. */
const FIRST_PAGE = 50;

/** How often a chunk takes in its guild's freshness backlog, and how much at a time. */
const DRAIN_EVERY_MS = 5_000;
const DRAIN_BATCH = 50;
/** Side outcomes that settle a backlog entry (the others leave it for a later try). */
const SETTLED = /^(changed|unchanged|skipped\.(bot|role_above_bot|not_member|left_guild)|errors\.)/;

/** Tasks a lane keeps in flight at `rate` per second. */
const inFlightFor = (rate: number) => Math.max(2, Math.min(10, Math.ceil(rate * 0.25)));

export class SyncChunk {
  readonly stats: ChunkStats = {
    listCalls: 0,
    memberReads: 0,
    rereads: 0,
    patches: 0,
    roleCalls: 0,
    maxPatchReadAgeMs: 0,
    scores: emptyScoreStats(),
  };
  readonly planned: PlannedChange[] = [];
  #items: (Item | undefined)[] = [];
  #head = 0;
  #cursor: string;
  #pending = { processed: 0, counters: {} as Record<string, number>, samples: [] as unknown[] };
  #lastCheckpoint: number;
  #failure: unknown = null;
  #fail = new AbortController();
  #stop: AbortSignal;
  #managed: Set<string>;
  #manageable: Set<string>;
  /** Validator, human and variant roles: their holders are indexed for the hourly re-check. */
  #flagRoles: Set<string>;
  /** The tier each tier role (or variant) stands for: the run's level counts. */
  #tierOfRole = new Map<string, string>();
  #sampled = 0;
  #rates: LaneRates;
  #binding: Binding = "none";
  #callsPlanned = 0;
  /** Splits each page's writers between the lanes as the whole-chunk optimum would. */
  #split: PagedSplit;
  #drainShare: DrainShare;
  #membersSeen = 0;
  #lastFetchMs = 200;
  #patchLane!: Lane<Item>;
  #roleLane!: Lane<RoleCall>;
  #globalPacer!: Pacer;
  #cp: SyncCheckpoint;
  #flushing: Promise<void> = Promise.resolve();
  #learnedAt = -Infinity;
  /** Write buckets whose limits nobody has learned yet (see #probeLimits). */
  #unknown = { patch: true, role: true };
  /** Called whenever a member is done (wakes #probeLimits). */
  #onFinish: (() => void) | null = null;
  /** The member index a full run builds (member_index.ts); null in other modes and dry runs. */
  #index: IndexBuilder | null = null;
  #indexed: Set<string>;
  /** Roles this chunk left, noted into the index by modes that do not build it. */
  #notes = new Map<string, Noted>();
  /** Members with writes pending in this chunk: a backlog entry for them waits. */
  #pendingUsers = new Set<string>();
  #lastPos: string;
  #lastDrain = -Infinity;
  /** Backlog entries taken in and settled since the last checkpoint, with their lag (s). */
  #settled: { q: Queued; lagS: number | null }[] = [];

  constructor(
    private readonly job: ChunkContext,
    private readonly deps: EngineDeps,
    private readonly o: EngineOptions,
    checkpoint: SyncCheckpoint,
  ) {
    this.#cp = checkpoint;
    this.#cursor = checkpoint.cursor;
    this.#lastPos = checkpoint.cursor;
    this.#indexed = indexedRoles(o.rules);
    this.#lastCheckpoint = deps.clock.now();
    this.#stop = AbortSignal.any([job.signal, this.#fail.signal]);
    this.#managed = managedRoles(o.rules);
    this.#flagRoles = flagRoles(o.rules);
    for (const t of o.rules.tiers) {
      for (const r of [t.roleId, t.validatorRoleId, t.humanRoleId, t.humanValidatorRoleId]) {
        if (r) this.#tierOfRole.set(r, t.name);
      }
    }
    this.#manageable = new Set(o.ctx.manageable);
    const s = deps.config.sync;
    this.#rates = {
      patch: s.patchLimit.limit * 1000 / s.patchLimit.windowMs,
      role: s.roleLimit.limit * 1000 / s.roleLimit.windowMs,
      global: deps.config.discord.globalRateLimit,
    };
    this.#split = new PagedSplit(this.#rates);
    this.#drainShare = new DrainShare(s.freshMs);
  }

  /** A member PATCH and a member role PUT of this guild: the two write buckets' routes. */
  #writeRoutes(): Record<"patch" | "role", [string, string]> {
    const g = this.o.guildId;
    return {
      patch: ["PATCH", `/guilds/${g}/members/${SAMPLE_ID}`],
      role: ["PUT", `/guilds/${g}/members/${SAMPLE_ID}/roles/${SAMPLE_ID}`],
    };
  }

  /**
   * Starts from the write buckets' limits learned before (by this REST client, or by an earlier
   * chunk or isolate: the client keeps them in KV for a day) instead of SYNC_PATCH_LIMIT /
   * SYNC_ROLE_LIMIT, so even the first page is split by the real rates.
   */
  async #loadLimits(): Promise<void> {
    const rest = this.deps.rest as { learnedLimits?: RestClient["learnedLimits"] };
    if (typeof rest.learnedLimits !== "function") return;
    const routes = this.#writeRoutes();
    const lanes = ["patch", "role"] as const;
    const found = await Promise.all(
      lanes.map((lane) =>
        rest.learnedLimits!.call(this.deps.rest, ...routes[lane]).catch(() => null)
      ),
    );
    lanes.forEach((lane, i) => {
      const info = found[i];
      if (!info) return;
      this.#unknown[lane] = false;
      this.#rates[lane] = info.limit * 1000 / info.windowMs;
      this.deps.log.info("sync: planning with the bucket limit learned before", {
        lane,
        limit: info.limit,
        windowMs: info.windowMs,
      });
    });
    this.#split.setRates(this.#rates);
  }

  /**
   * Adopts the write buckets' real limits once the REST client has learned them from Discord's
   * headers (SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT are only the starting point).
   */
  #learnLimits(force = false): void {
    const now = this.deps.clock.now();
    if (!force && now - this.#learnedAt < 200) return;
    this.#learnedAt = now;
    this.#adoptGlobalShare();
    const rest = this.deps.rest as { bucketInfo?: RestClient["bucketInfo"] };
    if (typeof rest.bucketInfo !== "function") return;
    const routes = this.#writeRoutes();
    for (const lane of ["patch", "role"] as const) {
      const info = rest.bucketInfo.call(this.deps.rest, ...routes[lane]);
      if (!info) continue;
      this.#unknown[lane] = false;
      const interval = info.windowMs / info.limit;
      const l = lane === "patch" ? this.#patchLane : this.#roleLane;
      if (Math.abs(interval - l.intervalMs) / l.intervalMs < 0.01) continue;
      this.deps.log.info("sync: adopting the bucket limit Discord reported", {
        lane,
        limit: info.limit,
        windowMs: info.windowMs,
      });
      l.setIntervalMs(interval);
      this.#rates[lane] = 1000 / interval;
      l.setMaxInFlight(inFlightFor(this.#rates[lane]));
      this.#split.setRates(this.#rates);
    }
  }

  /**
   * Nothing has taught this chunk a write bucket's limit yet (a first run, or nothing learned in
   * the last day): a split by SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT could cost extra calls when they
   * are wrong. So the first writers go alone, each by a route that costs it one call, which is
   * what the split would make of them: the one with the most changes by PATCH, one with a single
   * change by role call. Their answers teach the limits; the rest of the page is split after.
   */
  async #probeLimits(writers: Item[]): Promise<void> {
    const probes: Item[] = [];
    if (this.#unknown.patch) {
      let most = 0;
      writers.forEach((w, i) => {
        if (changeCount(w.diff!) > changeCount(writers[most].diff!)) most = i;
      });
      const [it] = writers.splice(most, 1);
      it.callsLeft = 1;
      this.#split.record(changeCount(it.diff!), false);
      this.#patchLane.push(it);
      probes.push(it);
    }
    const single = this.#unknown.role ? writers.findIndex((w) => changeCount(w.diff!) === 1) : -1;
    if (single >= 0) {
      const [it] = writers.splice(single, 1);
      const d = it.diff!;
      it.callsLeft = 1;
      this.#split.record(1, true);
      this.#roleLane.push(
        d.add.length
          ? { item: it, op: "add", roleId: d.add[0] }
          : { item: it, op: "remove", roleId: d.remove[0] },
      );
      probes.push(it);
    }
    this.#unknown = { patch: false, role: false };
    this.#callsPlanned += probes.length;
    while (!this.#stopping && probes.some((p) => !p.done)) {
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.#onFinish = () => {
          this.#stop.removeEventListener("abort", onAbort);
          resolve();
        };
        this.#stop.addEventListener("abort", onAbort, { once: true });
      });
      this.#onFinish = null;
    }
    this.#learnLimits(true);
  }

  /**
   * Several guilds syncing at once share the bot's one global limit (the REST client claims it
   * through KV): plan pages and pace both lanes at this chunk's part of it, not the whole.
   */
  #adoptGlobalShare(): void {
    const rest = this.deps.rest as { globalShare?: RestClient["globalShare"] };
    if (typeof rest.globalShare !== "function") return;
    const share = Math.min(
      this.deps.config.discord.globalRateLimit,
      rest.globalShare.call(this.deps.rest),
    );
    if (!(share > 0) || Math.abs(share - this.#rates.global) / this.#rates.global < 0.1) return;
    this.#rates.global = share;
    this.#split.setRates(this.#rates);
    if (this.#globalPacer) this.#globalPacer.intervalMs = 1000 / (share * GLOBAL_HEADROOM);
  }

  async run(): Promise<{ finished: boolean }> {
    const { clock } = this.deps;
    if (!this.o.dryRun) await this.#loadLimits();
    // Both lanes draw from one pacer at the global limit (less the REST client's own headroom),
    // so when the global limit binds they share it evenly instead of piling up in the client.
    const global = new Pacer(clock, 1000 / (this.#rates.global * GLOBAL_HEADROOM));
    this.#globalPacer = global;
    this.#patchLane = new Lane<Item>({
      name: "patch",
      global,
      intervalMs: 1000 / this.#rates.patch,
      maxInFlight: inFlightFor(this.#rates.patch),
      clock,
      signal: this.#stop,
      exec: (item) => this.#execPatch(item),
    });
    this.#roleLane = new Lane<RoleCall>({
      name: "role",
      global,
      intervalMs: 1000 / this.#rates.role,
      maxInFlight: inFlightFor(this.#rates.role),
      clock,
      signal: this.#stop,
      exec: (call) => this.#execRole(call),
    });
    const lanes = this.o.dryRun
      ? Promise.resolve()
      : Promise.all([this.#patchLane.run(), this.#roleLane.run()]).then(() => {});
    let endOfInput = false;
    try {
      endOfInput = this.#cp.mode === "full" ? await this.#readFull() : await this.#readFeed();
    } catch (error) {
      this.#failWith(error);
    }
    this.#patchLane.close();
    this.#roleLane.close();
    await lanes;
    await this.#flush();
    const allDone = this.#head === this.#items.length;
    const finished = endOfInput && allDone && !this.#failure;
    await this.#index?.end(finished, this.deps.clock.now());
    if (this.#failure) throw this.#failure;
    return { finished };
  }

  // --- reading ---------------------------------------------------------------------------

  /** Set when the run paused because the Ethos API is failing (see #ingest). */
  #paused = false;

  get #stopping(): boolean {
    return this.#stop.aborted;
  }

  async #readFull(): Promise<boolean> {
    const { rest } = this.deps;
    const guildId = this.o.guildId;
    let after = this.#cp.cursor;
    // A startIndex that matched no checkpoint: walk forward past that many members.
    while (this.#cp.skip > 0 && !this.#stopping) {
      const n = Math.min(1000, this.#cp.skip);
      this.stats.listCalls++;
      const page = await listMembers(rest, guildId, { limit: n, after }, { signal: this.job.hard });
      if (page.length === 0) return true;
      after = page[page.length - 1].user.id;
      this.#cursor = after;
      this.#cp = { ...this.#cp, cursor: after, skip: Math.max(0, this.#cp.skip - page.length) };
      await this.job.checkpoint({
        skippedByIndex: page.length,
        cursor: after,
        checkpoint: this.#cp,
        counters: { "calls.list": 1 },
      });
      if (page.length < n) return true;
    }
    if (!this.o.dryRun) {
      this.#index = new IndexBuilder(
        this.deps.kv,
        guildId,
        this.job.run.runId,
        this.#indexed,
        after,
      );
    }
    let budget = this.job.limit;
    while (budget > 0 && !this.#stopping) {
      await this.#waitForRoom();
      await this.#drainFresh();
      if (this.#stopping || !this.#timeForMore()) break;
      const limit = Math.min(this.#pageSize(), budget);
      const started = this.deps.clock.now();
      this.stats.listCalls++;
      this.#count("calls.list");
      const page = await listMembers(rest, guildId, { limit, after }, { signal: this.job.hard });
      const readAt = this.deps.clock.now();
      if (page.length === 0) return true;
      budget -= page.length;
      after = page[page.length - 1].user.id;
      await this.#ingest(page.map((m) => this.#item(m, m.user.id, readAt)), false);
      if (this.#paused) return false;
      this.#lastFetchMs = this.deps.clock.now() - started;
      if (page.length < limit) return true;
    }
    return false;
  }

  async #readFeed(): Promise<boolean> {
    const inc = this.#cp.inc!;
    const { ethos } = this.deps;
    // Past the feed: the holders phase, resumed after the last holder done.
    if (this.#cp.cursor.startsWith(HOLDERS_CURSOR)) {
      return await this.#readHolders(this.#cp.cursor.slice(HOLDERS_CURSOR.length) || null, null);
    }
    let offset = Number(this.#cp.cursor) || 0;
    let budget = this.job.limit;
    let first = true;
    while (budget > 0 && !this.#stopping) {
      await this.#waitForRoom();
      await this.#drainFresh();
      if (this.#stopping || !this.#timeForMore()) break;
      const started = this.deps.clock.now();
      const limit = Math.min(1000, budget);
      const page = await ethos.updates(inc.after, { limit, offset }, this.job.hard);
      if (first) {
        first = false;
        await this.job.checkpoint({ total: offset + page.total });
      }
      if (page.values.length === 0) return await this.#readHolders(null, offset);
      const base = offset;
      offset += page.values.length;
      budget -= page.values.length;
      const ids = page.values.map((v) => {
        const id = discordIdOf(v.userkey);
        const at = Date.parse(v.lastUpdatedAt);
        return id && !(at > inc.until) ? id : undefined;
      });
      const taken = await this.#takenByFreshness(page.values, ids);
      const wanted = [...new Set(ids.filter((x): x is string => !!x && !taken.has(x)))];
      const members = await this.#readMembers(wanted);
      await this.deps.cache.forget(wanted);
      const readAt = this.deps.clock.now();
      const items: Item[] = page.values.map((_, i) => {
        const id = ids[i];
        const m = id ? members.get(id) : null;
        const pos = String(base + i + 1);
        if (id && taken.has(id)) return this.#doneItem(pos, id, "skipped.fresh_pass");
        if (!m) {
          return this.#doneItem(pos, id ?? "", "skipped.not_member");
        }
        return this.#item(m, pos, readAt);
      });
      await this.#ingest(items, true);
      if (this.#paused) return false;
      this.#lastFetchMs = this.deps.clock.now() - started;
      if (page.values.length < limit) return await this.#readHolders(null, offset);
    }
    return false;
  }

  /**
   * Updates the freshness pass already took in (its seen time is at least the update's): it
   * queued them for every guild and writes them through the member index, so this run reads no
   * member for them. The feed phase is left with what the pass missed (a span it could not read).
   */
  async #takenByFreshness(
    values: readonly { lastUpdatedAt: string }[],
    ids: readonly (string | undefined)[],
  ): Promise<Set<string>> {
    const taken = new Set<string>();
    if (!this.deps.config.sync.freshness) return taken;
    const at = new Map<string, number>();
    ids.forEach((id, i) => {
      const t = Date.parse(values[i].lastUpdatedAt);
      if (id && Number.isFinite(t)) at.set(id, Math.max(at.get(id) ?? 0, t));
    });
    const list = [...at.keys()];
    const seen = await getManyChunked(this.deps.kv, list.map((id) => freshKeys.seen(id)));
    list.forEach((id, j) => {
      const v = seen[j].value;
      if (typeof v === "number" && v >= at.get(id)!) taken.add(id);
    });
    return taken;
  }

  /** Members by id (null: not in the guild), four reads at a time. */
  async #readMembers(ids: readonly string[]): Promise<Map<string, APIGuildMember | null>> {
    const members = new Map<string, APIGuildMember | null>();
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        this.stats.memberReads++;
        this.#count("calls.member");
        try {
          members.set(
            id,
            await getMember(this.deps.rest, this.o.guildId, id, { signal: this.job.hard }),
          );
        } catch (error) {
          if (isUnknownMember(error)) members.set(id, null);
          else throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, ids.length) }, worker));
    return members;
  }

  /**
   * The incremental run's last phase: members holding a validator or human role are re-read and
   * decided with fresh flags (those change with no score update). `feedTotal` is set when the
   * phase starts, to count the holders into the run's total.
   */
  async #readHolders(after: string | null, feedTotal: number | null): Promise<boolean> {
    if (this.#flagRoles.size === 0) return true;
    const { kv } = this.deps;
    const guildId = this.o.guildId;
    if (feedTotal !== null) {
      let holders = 0;
      for await (const _ of kv.list({ prefix: holdersOf(guildId) })) holders++;
      await this.job.checkpoint({ total: feedTotal + holders });
    }
    let last = after;
    let budget = this.job.limit;
    while (budget > 0 && !this.#stopping) {
      await this.#waitForRoom();
      await this.#drainFresh();
      if (this.#stopping || !this.#timeForMore()) break;
      const started = this.deps.clock.now();
      const ids = await listHolders(kv, guildId, last, Math.min(HOLDERS_PAGE, budget));
      if (ids.length === 0) return true;
      budget -= ids.length;
      last = ids[ids.length - 1];
      const members = await this.#readMembers(ids);
      const readAt = this.deps.clock.now();
      const items = ids.map((id) => {
        const m = members.get(id);
        const pos = `${HOLDERS_CURSOR}${id}`;
        return m ? this.#item(m, pos, readAt) : this.#doneItem(pos, id, "skipped.not_member");
      });
      await this.#ingest(items, true, true);
      if (this.#paused) return false;
      this.#lastFetchMs = this.deps.clock.now() - started;
      if (ids.length < HOLDERS_PAGE) return true;
    }
    return false;
  }

  #item(m: APIGuildMember, pos: string, readAt: number): Item {
    return {
      pos,
      id: m.user.id,
      username: m.user.username,
      roles: [...m.roles],
      bot: m.user.bot === true,
      readAt,
      diff: null,
      callsLeft: 0,
      done: false,
      outcome: null,
      error: null,
      extra: [],
    };
  }

  #doneItem(pos: string, id: string, outcome: string): Item {
    return {
      pos,
      id,
      roles: [],
      bot: false,
      readAt: 0,
      diff: null,
      callsLeft: 0,
      done: true,
      outcome,
      error: null,
      extra: [],
    };
  }

  /**
   * The guild's freshness backlog, taken in between pages (at most every DRAIN_EVERY_MS) while
   * this chunk holds the guild: the freshness pass leaves a guild with a running chunk alone, so
   * its score changes still reach Discord within the pass's bounds, through this chunk's rule,
   * split and lanes. A member with writes pending in the chunk waits for them (two diffs of one
   * member in flight could undo each other). Members are read fresh: the index is being rebuilt.
   */
  async #drainFresh(): Promise<void> {
    const now = this.deps.clock.now();
    if (this.o.dryRun || !this.deps.config.sync.freshness) return;
    if (now - this.#lastDrain < DRAIN_EVERY_MS) return;
    this.#lastDrain = now;
    const queued = (await readBacklog(this.deps.kv, this.o.guildId, DRAIN_BATCH))
      .filter((q) => !this.#pendingUsers.has(q.userId));
    if (queued.length === 0 || this.#stopping) return;
    const members = await this.#readMembers(queued.map((q) => q.userId));
    const readAt = this.deps.clock.now();
    const items = queued.map((q) => {
      const m = members.get(q.userId);
      const it = m
        ? this.#item(m, this.#lastPos, readAt)
        : this.#doneItem(this.#lastPos, q.userId, "skipped.not_member");
      it.side = q;
      return it;
    });
    await this.#ingest(items, true);
  }

  /** Scores, rule, diff and the split for one page of items (in walk order). */
  async #ingest(items: Item[], fresh: boolean, holdersPhase = false): Promise<void> {
    const rules = this.o.rules;
    const asking = items.filter((it) => !it.done && needsScore(it, rules));
    const scores = await resolveScores(
      asking.map((it) => ({
        id: it.id,
        holdsManaged: managedHeld(it.roles, this.#managed).length > 0,
      })),
      this.deps,
      { fresh, signal: this.job.hard, stats: this.stats.scores, flags: needsFlags(rules) },
    );
    // Ethos failing for a whole page: pause the run rather than walk on skipping everyone. The
    // page is not taken in, so the checkpoint stays before it and a resumed chunk reads it again.
    // (A confirmed "no score" is null: an answer, not a failure.)
    const failed = (id: string) => !scores.has(id) || scores.get(id) === "error";
    const side = items.every((it) => it.side);
    if (!side && asking.length > 0 && asking.every((it) => failed(it.id))) {
      this.#paused = true;
      this.job.pause(
        `the Ethos API failed for all ${asking.length} members of a page; nothing was changed`,
      );
      return;
    }
    const writers: Item[] = [];
    const holders: HolderChange[] = [];
    const holdsFlag = (roles: Iterable<string>) => {
      for (const r of roles) if (this.#flagRoles.has(r)) return true;
      return false;
    };
    for (const it of items) {
      this.#items.push(it);
      if (!it.side) this.#lastPos = it.pos;
      if (!it.done) this.#pendingUsers.add(it.id);
      if (it.done) {
        if (holdersPhase) holders.push({ userId: it.id, holds: false });
        continue;
      }
      this.#membersSeen++;
      const score: ScoreInput = !needsScore(it, rules)
        ? undefined
        : scores.has(it.id)
        ? scores.get(it.id)!
        : "error";
      const target = targetRoles(it, score, rules);
      if (target.kind === "target") {
        for (const r of target.roles) {
          const tier = this.#tierOfRole.get(r);
          if (tier) this.#count(`level.${tier}`);
        }
      }
      if (this.#flagRoles.size) {
        // After this page the member holds what the rule wants, or (skipped) what they hold.
        const holds = holdsFlag(target.kind === "target" ? target.roles : it.roles);
        if (holds || holdersPhase || holdsFlag(it.roles)) holders.push({ userId: it.id, holds });
      }
      if (target.kind === "skip") {
        this.#finish(it, `skipped.${target.reason}`);
        continue;
      }
      const d = diff(it.roles, target.roles, this.#managed, this.#manageable);
      it.diff = d;
      if (d.blocked.length) it.extra.push("blocked.role_above_bot");
      const k = changeCount(d);
      if (k === 0) {
        this.#finish(it, d.blocked.length ? "skipped.role_above_bot" : "unchanged");
      } else if (this.o.dryRun) {
        this.#plan(it, d);
        this.#finish(it, "changed");
      } else {
        writers.push(it);
      }
    }
    if (holders.length && !this.o.dryRun) {
      await recordHolders(this.deps.kv, this.o.guildId, holders);
    }
    if (writers.length && (this.#unknown.patch || this.#unknown.role)) {
      await this.#probeLimits(writers);
    }
    if (writers.length) {
      const split = this.#split.split(writers.map((w) => changeCount(w.diff!)));
      this.#binding = split.binding;
      this.#callsPlanned += split.patchCalls + split.roleCalls;
      writers.forEach((it, i) => {
        if (split.toRole[i]) {
          it.callsLeft = changeCount(it.diff!);
          for (const r of it.diff!.add) this.#roleLane.push({ item: it, op: "add", roleId: r });
          for (const r of it.diff!.remove) {
            this.#roleLane.push({ item: it, op: "remove", roleId: r });
          }
        } else {
          it.callsLeft = 1;
          this.#patchLane.push(it);
        }
      });
    }
    this.#advance();
  }

  #plan(it: Item, d: RoleDiff): void {
    const names = this.o.ctx.roleNames;
    const change: PlannedChange = {
      userId: it.id,
      username: it.username,
      add: d.add.map((r) => names[r] ?? r),
      remove: d.remove.map((r) => names[r] ?? r),
      ...(d.blocked.length ? { blocked: d.blocked.map((b) => names[b.roleId] ?? b.roleId) } : {}),
    };
    if (this.planned.length < MAX_PLANNED) this.planned.push(change);
    this.#pending.samples.push(change);
    this.deps.log.info("sync: dry run would change", { ...change });
  }

  /** Seconds of write work queued in the lanes at their rates. */
  #backlogSeconds(): number {
    return makespanOf(0, 0, this.#rates, {
      patch: this.#patchLane.queued + this.#patchLane.inFlight,
      role: this.#roleLane.queued + this.#roleLane.inFlight,
      global: 0,
    }).makespan;
  }

  /** Waits until the lanes are about to run dry, so the next page is read just in time. */
  async #waitForRoom(): Promise<void> {
    const lead = this.#leadSeconds();
    while (!this.#stopping) {
      this.#learnLimits();
      const backlog = this.#backlogSeconds();
      if (backlog <= lead) return;
      try {
        await this.deps.clock.sleep(Math.min(250, (backlog - lead) * 1000), this.#stop);
      } catch {
        return;
      }
    }
  }

  /**
   * How much queued work (seconds) the reader keeps ahead of the lanes: enough to cover a page
   * fetch twice over, so the lanes never run dry. When the global limit binds, PATCHes wait in
   * that queue, so it is also kept under a third of the freshness window (else they would need
   * a re-read, costing a global call each).
   */
  #leadSeconds(): number {
    const cover = Math.max(0.25, (2 * this.#lastFetchMs + 50) / 1000);
    if (this.#binding !== "global") return Math.max(0.5, cover);
    return Math.max(0.05, Math.min(cover, (0.3 * this.deps.config.sync.freshMs) / 1000));
  }

  /** Whether a new page's work can still finish inside the time box. */
  #timeForMore(): boolean {
    const left = this.job.deadline - this.deps.clock.now();
    return left > this.#backlogSeconds() * 1000 + 2 * this.#lastFetchMs + 500;
  }

  /**
   * Members per page. 1000 (fewest list calls) unless the global limit binds: then a page is
   * sized to drain in a share of the freshness window (DRAIN_SHARE), so its PATCHes need no re-read
   * (each re-read would cost a global call; a list call per 20+ members costs less).
   */
  #pageSize(): number {
    if (this.#membersSeen === 0) return FIRST_PAGE;
    if (this.#binding !== "global") return 1000;
    const perMember = Math.max(0.02, this.#callsPlanned / this.#membersSeen);
    const seconds = Math.max(
      0.05,
      (this.#drainShare.next() * this.deps.config.sync.freshMs) / 1000,
    );
    const size = Math.round(seconds * this.#rates.global / perMember);
    return Math.max(MIN_PAGE, Math.min(1000, size));
  }

  // --- writing ---------------------------------------------------------------------------

  async #execPatch(it: Item): Promise<void> {
    const { rest, clock } = this.deps;
    const d = it.diff!;
    let roles = it.roles;
    try {
      if (clock.now() - it.readAt > this.deps.config.sync.freshMs) {
        this.stats.rereads++;
        this.#count("calls.reread");
        this.#drainShare.reread();
        const fresh = await getMember(rest, this.o.guildId, it.id, { signal: this.job.hard });
        if (!this.#sameRelevant(it.roles, fresh.roles)) {
          this.#finish(it, "skipped.changed_during_sync");
          return;
        }
        roles = fresh.roles;
        it.readAt = clock.now();
      }
      const age = clock.now() - it.readAt;
      this.stats.maxPatchReadAgeMs = Math.max(this.stats.maxPatchReadAgeMs, age);
      this.#drainShare.observe(age);
      await modifyMemberRoles(rest, this.o.guildId, it.id, applyDiff(roles, d), this.o.reason, {
        signal: this.job.hard,
      });
      this.stats.patches++;
      this.#count("calls.patch");
      this.#learnLimits();
      this.#finish(it, "changed");
    } catch (error) {
      this.#writeError(it, error);
      if (it.error) this.#finish(it, it.error);
    }
  }

  async #execRole(call: RoleCall): Promise<void> {
    const it = call.item;
    if (it.done) return;
    const { rest } = this.deps;
    try {
      if (it.outcome !== "skipped.left_guild") {
        const fn = call.op === "add" ? addMemberRole : removeMemberRole;
        await fn(rest, this.o.guildId, it.id, call.roleId, this.o.reason, {
          signal: this.job.hard,
        });
        this.stats.roleCalls++;
        this.#count("calls.role");
        this.#learnLimits();
      }
    } catch (error) {
      this.#writeError(it, error);
      if (!it.error) return; // transient: the member stays pending
    }
    if (--it.callsLeft === 0) this.#finish(it, it.error ?? it.outcome ?? "changed");
  }

  /** Verified role and managed roles as read now vs at the page read. */
  #sameRelevant(before: readonly string[], after: readonly string[]): boolean {
    const v = this.o.rules.verifiedRoleId;
    if (v && before.includes(v) !== after.includes(v)) return false;
    const a = managedHeld(before, this.#managed);
    const b = managedHeld(after, this.#managed);
    return a.length === b.length && a.every((r, i) => r === b[i]);
  }

  /** Sorts an error into "member done with this outcome" or "chunk fails" (transient). */
  #writeError(it: Item, error: unknown): void {
    if (this.job.hard.aborted) return;
    if (isUnknownMember(error)) {
      it.error = "skipped.left_guild";
      it.outcome = "skipped.left_guild";
      return;
    }
    if (error instanceof DiscordApiError && error.status < 500 && error.status !== 429) {
      const code = error.code === RESTJSONErrorCodes.MissingPermissions
        ? "missing_permissions"
        : error.code === RESTJSONErrorCodes.UnknownRole
        ? "unknown_role"
        : `http_${error.status}`;
      it.error ??= `errors.${code}`;
      this.deps.log.warn("sync: write refused", { userId: it.id, code, error: error.message });
      return;
    }
    this.#failWith(error);
  }

  #failWith(error: unknown): void {
    if (this.job.hard.aborted || this.job.signal.aborted && isAbort(error)) return;
    if (this.#failure === null) {
      this.#failure = error;
      this.deps.log.error("sync: chunk failing", { error });
      this.#fail.abort(error);
    }
  }

  // --- tracking --------------------------------------------------------------------------

  #finish(it: Item, outcome: string): void {
    if (it.done) return;
    it.done = true;
    it.outcome = outcome;
    this.#pendingUsers.delete(it.id);
    this.#advance();
    this.#onFinish?.();
  }

  #count(key: string, n = 1): void {
    this.#pending.counters[key] = (this.#pending.counters[key] ?? 0) + n;
  }

  /** Moves the done prefix into the committed counters and cursor. */
  #advance(): void {
    let moved = false;
    while (this.#head < this.#items.length) {
      const it = this.#items[this.#head];
      if (!it || !it.done) break;
      this.#items[this.#head++] = undefined;
      const outcome = it.outcome ?? "unchanged";
      this.#noteRoles(it, outcome);
      if (it.side) {
        // Not one of the run's members: counted apart, settled at the next checkpoint.
        this.#count(`fresh.${outcome}`);
        if (SETTLED.test(outcome)) {
          const right = outcome === "changed" || outcome === "unchanged" ||
            outcome === "skipped.bot" || outcome === "skipped.role_above_bot";
          const lagS = right
            ? Math.max(0, (this.deps.clock.now() - it.side.entry.updatedAt) / 1000)
            : null;
          this.#settled.push({ q: it.side, lagS });
        }
        moved = true;
        continue;
      }
      this.#pending.processed++;
      this.#count(outcome);
      for (const e of it.extra) this.#count(e);
      // The first changes of a run, for its summary (dry runs record theirs in #plan).
      if (it.outcome === "changed" && it.diff && !this.o.dryRun && this.#sampled < MAX_SUMMARY) {
        this.#sampled++;
        const names = this.o.ctx.roleNames;
        this.#pending.samples.push({
          userId: it.id,
          username: it.username,
          add: it.diff.add.map((r) => names[r] ?? r),
          remove: it.diff.remove.map((r) => names[r] ?? r),
        });
      }
      this.#cursor = it.pos;
      moved = true;
    }
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (!moved) return;
    const now = this.deps.clock.now();
    if (
      now - this.#lastCheckpoint >= (this.o.checkpointMs ?? 1000) ||
      this.#pending.processed >= (this.o.checkpointItems ?? 500)
    ) {
      this.#flush().catch((e) => this.#failWith(e));
    }
  }

  /**
   * What the member index learns from a done member: a full run builds its ranges from every
   * member in walk order; the other modes (and backlog entries) note the members they touched.
   */
  #noteRoles(it: Item, outcome: string): void {
    // (An update the freshness pass took in is its to note.)
    if (this.o.dryRun || outcome === "skipped.fresh_pass") return;
    const gone = outcome === "skipped.not_member" || outcome === "skipped.left_guild";
    let roles: string[] | null = null;
    if (outcome === "changed" && it.diff) roles = applyDiff(it.roles, it.diff);
    // (A bot is kept with unknown roles: the index does not say who is a bot, a read does.)
    else if (/^(unchanged|skipped\.(score_unavailable|role_above_bot))$/.test(outcome)) {
      roles = it.roles;
    }
    if (this.#index && !it.side) {
      if (!gone) this.#index.add(it.id, roles);
      return;
    }
    if (!it.id) return;
    this.#notes.set(it.id, gone ? "absent" : roles && roles.filter((r) => this.#indexed.has(r)));
  }

  /** Commits what advanced since the last checkpoint (serialised; the runner checks the lease). */
  #flush(): Promise<void> {
    const now = this.deps.clock.now();
    this.#lastCheckpoint = now;
    const p = this.#pending;
    this.#pending = { processed: 0, counters: {}, samples: [] };
    this.#cp = { ...this.#cp, cursor: this.#cursor };
    const cp = this.#cp;
    const cursor = this.#cursor;
    const settled = this.#settled;
    this.#settled = [];
    const notes = this.#notes;
    this.#notes = new Map();
    const { kv } = this.deps;
    const guildId = this.o.guildId;
    this.#flushing = this.#flushing.then(async () => {
      await this.job.checkpoint({
        processed: p.processed,
        counters: p.counters,
        cursor: cp.mode === "full" ? cursor : null,
        checkpoint: cp,
        sample: p.samples,
      });
      await this.#index?.flush(now);
      await noteMembers(kv, guildId, notes, rolesKeyOf(this.#indexed));
      const lags: number[] = [];
      for (const { q, lagS } of settled) {
        if ((await completeQueued(kv, guildId, q)) === "done" && lagS !== null) lags.push(lagS);
      }
      await recordLags(kv, now, lags);
    });
    return this.#flushing;
  }
}
