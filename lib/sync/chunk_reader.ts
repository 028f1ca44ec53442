/**
 * The reading part of a sync chunk (engine.ts): members in user-id order with `after` paging (a
 * full run), or the Ethos updates feed then the flag-role holders (an incremental run), and the
 * guild's freshness backlog taken in between pages. Pages hold 1000 members, fewer when the global
 * limit binds so a page's writes go out while its read is fresh, and the next page is read only
 * when the lanes are about to run dry (so reads are fresh and memory stays flat).
 */
import type { APIGuildMember } from "discord-api-types/v10";
import { getMember, listMembers } from "../discord/api.ts";
import { isUnknownMember } from "../discord/errors.ts";
import type { ChunkContext } from "../jobs/runner.ts";
import { discordIdOf } from "../ethos/client.ts";
import { freshKeys, readBacklog } from "../jobs/fresh_backlog.ts";
import { getManyChunked } from "../kv/many.ts";
import { pool } from "../pool.ts";
import { holdersOf, listHolders } from "./holders.ts";
import type { DrainShare } from "./drain_share.ts";
import type { ChunkTracker } from "./chunk_tracker.ts";
import type { ChunkWriter } from "./chunk_writer.ts";
import type { ChunkDecider } from "./chunk_decider.ts";
import {
  type ChunkStats,
  doneItem,
  type EngineDeps,
  type EngineOptions,
  type Item,
  memberItem,
} from "./chunk_model.ts";

/** Cursor prefix of the incremental run's holders phase (after the feed). */
const HOLDERS_CURSOR = "h:";
const HOLDERS_PAGE = 100;
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

export class ChunkReader {
  #lastFetchMs = 200;
  #lastDrain = -Infinity;

  constructor(
    private readonly job: ChunkContext,
    private readonly deps: EngineDeps,
    private readonly o: EngineOptions,
    private readonly stats: ChunkStats,
    private readonly tracker: ChunkTracker,
    private readonly writer: ChunkWriter,
    private readonly decider: ChunkDecider,
    private readonly drainShare: DrainShare,
    /** Whether the rules have flag roles (an incremental run then re-reads their holders). */
    private readonly hasFlagRoles: boolean,
    /** The chunk stopping: read no more. */
    private readonly stop: AbortSignal,
  ) {}

  /** Reads and takes in pages until the chunk's budget or time is spent; true at the end. */
  read(): Promise<boolean> {
    return this.tracker.checkpoint.mode === "full" ? this.#readFull() : this.#readFeed();
  }

  get #stopping(): boolean {
    return this.stop.aborted;
  }

  async #readFull(): Promise<boolean> {
    const { rest } = this.deps;
    const guildId = this.o.guildId;
    let after = this.tracker.checkpoint.cursor;
    // A startIndex that matched no checkpoint: walk forward past that many members.
    while (this.tracker.checkpoint.skip > 0 && !this.#stopping) {
      const skip = this.tracker.checkpoint.skip;
      const n = Math.min(1000, skip);
      this.stats.listCalls++;
      const page = await listMembers(rest, guildId, { limit: n, after }, { signal: this.job.hard });
      if (page.length === 0) return true;
      after = page[page.length - 1].user.id;
      await this.tracker.passed(after, page.length, Math.max(0, skip - page.length));
      if (page.length < n) return true;
    }
    this.tracker.buildIndex(after);
    let budget = this.job.limit;
    while (budget > 0 && !this.#stopping) {
      await this.#waitForRoom();
      await this.#drainFresh();
      if (this.#stopping || !this.#timeForMore()) break;
      const limit = Math.min(this.#pageSize(), budget);
      const started = this.deps.clock.now();
      this.stats.listCalls++;
      this.tracker.count("calls.list");
      const page = await listMembers(rest, guildId, { limit, after }, { signal: this.job.hard });
      const readAt = this.deps.clock.now();
      if (page.length === 0) return true;
      budget -= page.length;
      after = page[page.length - 1].user.id;
      await this.decider.ingest(page.map((m) => memberItem(m, m.user.id, readAt)), false);
      if (this.decider.paused) return false;
      this.#lastFetchMs = this.deps.clock.now() - started;
      if (page.length < limit) return true;
    }
    return false;
  }

  async #readFeed(): Promise<boolean> {
    const cp = this.tracker.checkpoint;
    const inc = cp.inc!;
    const { ethos } = this.deps;
    // Past the feed: the holders phase, resumed after the last holder done.
    if (cp.cursor.startsWith(HOLDERS_CURSOR)) {
      return await this.#readHolders(cp.cursor.slice(HOLDERS_CURSOR.length) || null, null);
    }
    let offset = Number(cp.cursor) || 0;
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
        if (id && taken.has(id)) return doneItem(pos, id, "skipped.fresh_pass");
        if (!m) return doneItem(pos, id ?? "", "skipped.not_member");
        return memberItem(m, pos, readAt);
      });
      await this.decider.ingest(items, true);
      if (this.decider.paused) return false;
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
    await pool(ids, 4, async (id) => {
      this.stats.memberReads++;
      this.tracker.count("calls.member");
      try {
        members.set(
          id,
          await getMember(this.deps.rest, this.o.guildId, id, { signal: this.job.hard }),
        );
      } catch (error) {
        if (isUnknownMember(error)) members.set(id, null);
        else throw error;
      }
    });
    return members;
  }

  /**
   * The incremental run's last phase: members holding a validator or human role are re-read and
   * decided with fresh flags (those change with no score update). `feedTotal` is set when the
   * phase starts, to count the holders into the run's total.
   */
  async #readHolders(after: string | null, feedTotal: number | null): Promise<boolean> {
    if (!this.hasFlagRoles) return true;
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
        return m ? memberItem(m, pos, readAt) : doneItem(pos, id, "skipped.not_member");
      });
      await this.decider.ingest(items, true, true);
      if (this.decider.paused) return false;
      this.#lastFetchMs = this.deps.clock.now() - started;
      if (ids.length < HOLDERS_PAGE) return true;
    }
    return false;
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
      .filter((q) => !this.tracker.isPending(q.userId));
    if (queued.length === 0 || this.#stopping) return;
    const members = await this.#readMembers(queued.map((q) => q.userId));
    const readAt = this.deps.clock.now();
    const pos = this.tracker.lastPos;
    const items = queued.map((q) => {
      const m = members.get(q.userId);
      const it = m ? memberItem(m, pos, readAt) : doneItem(pos, q.userId, "skipped.not_member");
      it.side = q;
      return it;
    });
    await this.decider.ingest(items, true);
  }

  // --- pacing the reads ---------------------------------------------------------------------

  /** Waits until the lanes are about to run dry, so the next page is read just in time. */
  async #waitForRoom(): Promise<void> {
    const lead = this.#leadSeconds();
    while (!this.#stopping) {
      this.writer.learnLimits();
      const backlog = this.writer.backlogSeconds();
      if (backlog <= lead) return;
      try {
        await this.deps.clock.sleep(Math.min(250, (backlog - lead) * 1000), this.stop);
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
    if (this.writer.binding !== "global") return Math.max(0.5, cover);
    return Math.max(0.05, Math.min(cover, (0.3 * this.deps.config.sync.freshMs) / 1000));
  }

  /** Whether a new page's work can still finish inside the time box. */
  #timeForMore(): boolean {
    const left = this.job.deadline - this.deps.clock.now();
    return left > this.writer.backlogSeconds() * 1000 + 2 * this.#lastFetchMs + 500;
  }

  /**
   * Members per page. 1000 (fewest list calls) unless the global limit binds: then a page is
   * sized to drain in a share of the freshness window (drain_share.ts), so its PATCHes need no
   * re-read (each re-read would cost a global call; a list call per 20+ members costs less).
   */
  #pageSize(): number {
    if (this.decider.membersSeen === 0) return FIRST_PAGE;
    if (this.writer.binding !== "global") return 1000;
    const perMember = Math.max(0.02, this.writer.callsPlanned / this.decider.membersSeen);
    const seconds = Math.max(
      0.05,
      (this.drainShare.next() * this.deps.config.sync.freshMs) / 1000,
    );
    const size = Math.round(seconds * this.writer.rates.global / perMember);
    return Math.max(MIN_PAGE, Math.min(1000, size));
  }
}
