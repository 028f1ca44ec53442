/**
 * The tracking part of a sync chunk (engine.ts). Writes complete out of order across the lanes;
 * the checkpoint cursor is the highest walk position such that every member up to it is done, and
 * the counters, the run summary's samples and the member index advance with it, so a resumed chunk
 * re-lists from the cursor, recomputes every diff from fresh data and never repeats a write that
 * landed (a landed write makes its diff empty). Freshness backlog entries the chunk took in ride
 * along in the same order and are settled at the next checkpoint.
 */
import type { ChunkContext } from "../jobs/runner.ts";
import { CheckpointTracker } from "../jobs/checkpoint.ts";
import { completeQueued, type Queued } from "../jobs/fresh_backlog.ts";
import { rolesAfter } from "../discord/member_roles.ts";
import { IndexBuilder, type Noted, noteMembers, rolesKeyOf } from "./member_index.ts";
import { recordLags } from "./fresh_lag.ts";
import type { EngineDeps, EngineOptions, Item, SyncCheckpoint } from "./chunk_model.ts";

/** Changed members a chunk records for the run summary (the runner keeps 25 per run). */
const MAX_SUMMARY = 25;
/** Side outcomes that settle a backlog entry (the others leave it for a later try). */
const SETTLED = /^(changed|unchanged|skipped\.(bot|role_above_bot|not_member|left_guild)|errors\.)/;

export class ChunkTracker {
  #prefix: CheckpointTracker<Item>;
  #cursor: string;
  #cp: SyncCheckpoint;
  #pending = { processed: 0, counters: {} as Record<string, number>, samples: [] as unknown[] };
  #sampled = 0;
  /** The member index a full run builds (member_index.ts); null in other modes and dry runs. */
  #index: IndexBuilder | null = null;
  /** Roles this chunk left, noted into the index by modes that do not build it. */
  #notes = new Map<string, Noted>();
  /** Members with writes pending in this chunk: a backlog entry for them waits. */
  #pendingUsers = new Set<string>();
  #lastPos: string;
  /** Backlog entries taken in and settled since the last checkpoint, with their lag (s). */
  #settled: { q: Queued; lagS: number | null }[] = [];
  /** Called whenever a member is done (the writer waits on it while probing limits). */
  onFinish: (() => void) | null = null;

  constructor(
    private readonly job: ChunkContext,
    private readonly deps: Pick<EngineDeps, "kv" | "clock">,
    private readonly o: EngineOptions,
    checkpoint: SyncCheckpoint,
    /** The roles the member index keeps. */
    private readonly indexed: Set<string>,
    /** Fails the chunk (a checkpoint that could not be committed). */
    private readonly fail: (error: unknown) => void,
  ) {
    this.#cp = checkpoint;
    this.#cursor = checkpoint.cursor;
    this.#lastPos = checkpoint.cursor;
    this.#prefix = new CheckpointTracker<Item>({
      clock: deps.clock,
      isDone: (it) => it.done,
      everyMs: o.checkpointMs ?? 1000,
      everyItems: o.checkpointItems ?? 500,
    });
  }

  get checkpoint(): SyncCheckpoint {
    return this.#cp;
  }

  /** The walk position of the last member taken in (backlog entries ride along at it). */
  get lastPos(): string {
    return this.#lastPos;
  }

  /** Whether every member taken in is done and counted. */
  get allDone(): boolean {
    return this.#prefix.open === 0;
  }

  /** Whether the member has writes pending in this chunk. */
  isPending(userId: string): boolean {
    return this.#pendingUsers.has(userId);
  }

  /** A full run's walk rebuilds the member index from `after` on (not in a dry run). */
  buildIndex(after: string): void {
    if (this.o.dryRun) return;
    this.#index = new IndexBuilder(
      this.deps.kv,
      this.o.guildId,
      this.job.run.runId,
      this.indexed,
      after,
    );
  }

  /** Ends the index build: complete only when the run is. */
  async endIndex(finished: boolean): Promise<void> {
    await this.#index?.end(finished, this.deps.clock.now());
  }

  /** Records members passed over by a startIndex walk, up to `after`. */
  async passed(after: string, count: number, skipLeft: number): Promise<void> {
    this.#cursor = after;
    this.#cp = { ...this.#cp, cursor: after, skip: skipLeft };
    await this.job.checkpoint({
      skippedByIndex: count,
      cursor: after,
      checkpoint: this.#cp,
      counters: { "calls.list": 1 },
    });
  }

  /** Takes an item in, in walk order. */
  add(it: Item): void {
    this.#prefix.push(it);
    if (!it.side) this.#lastPos = it.pos;
    if (!it.done) this.#pendingUsers.add(it.id);
  }

  finish(it: Item, outcome: string): void {
    if (it.done) return;
    it.done = true;
    it.outcome = outcome;
    this.#pendingUsers.delete(it.id);
    this.advance();
    this.onFinish?.();
  }

  count(key: string, n = 1): void {
    this.#pending.counters[key] = (this.#pending.counters[key] ?? 0) + n;
  }

  /** Adds to the run's sample (what a dry run would change). */
  sample(change: unknown): void {
    this.#pending.samples.push(change);
  }

  /** Moves the done prefix into the committed counters and cursor. */
  advance(): void {
    const moved = this.#prefix.take();
    for (const it of moved) {
      const outcome = it.outcome ?? "unchanged";
      this.#noteRoles(it, outcome);
      if (it.side) {
        // Not one of the run's members: counted apart, settled at the next checkpoint.
        this.count(`fresh.${outcome}`);
        if (SETTLED.test(outcome)) {
          const right = outcome === "changed" || outcome === "unchanged" ||
            outcome === "skipped.bot" || outcome === "skipped.role_above_bot";
          const lagS = right
            ? Math.max(0, (this.deps.clock.now() - it.side.entry.updatedAt) / 1000)
            : null;
          this.#settled.push({ q: it.side, lagS });
        }
        continue;
      }
      this.#pending.processed++;
      this.count(outcome);
      for (const e of it.extra) this.count(e);
      // The first changes of a run, for its summary (dry runs record theirs as planned).
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
    }
    if (moved.length === 0) return;
    if (this.#prefix.due(this.#pending.processed)) this.flush().catch((e) => this.fail(e));
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
    if (outcome === "changed" && it.diff) roles = rolesAfter(it.roles, it.diff);
    // (A bot is kept with unknown roles: the index does not say who is a bot, a read does.)
    else if (/^(unchanged|skipped\.(score_unavailable|role_above_bot))$/.test(outcome)) {
      roles = it.roles;
    }
    if (this.#index && !it.side) {
      if (!gone) this.#index.add(it.id, roles);
      return;
    }
    if (!it.id) return;
    this.#notes.set(it.id, gone ? "absent" : roles && roles.filter((r) => this.indexed.has(r)));
  }

  /** Commits what advanced since the last checkpoint (serialised; the runner checks the lease). */
  flush(): Promise<void> {
    const now = this.deps.clock.now();
    this.#prefix.mark(now);
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
    return this.#prefix.commit(async () => {
      await this.job.checkpoint({
        processed: p.processed,
        counters: p.counters,
        cursor: cp.mode === "full" ? cursor : null,
        checkpoint: cp,
        sample: p.samples,
      });
      await this.#index?.flush(now);
      await noteMembers(kv, guildId, notes, rolesKeyOf(this.indexed));
      const lags: number[] = [];
      for (const { q, lagS } of settled) {
        if ((await completeQueued(kv, guildId, q)) === "done" && lagS !== null) lags.push(lagS);
      }
      await recordLags(kv, now, lags);
    });
  }
}
