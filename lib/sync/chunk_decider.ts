/**
 * The deciding part of a sync chunk (engine.ts): for each page the reader takes in, the scores
 * (the cache, Ethos in bulk and the confirming single lookup, scores.ts), the rule and the diff
 * (rule.ts: members whose managed roles already match get no write), the flag-role holders, and
 * the writers handed to the lanes (chunk_writer.ts). A dry run plans instead of writing.
 */
import type { ChunkContext } from "../jobs/runner.ts";
import { changeCount } from "../discord/member_roles.ts";
import { resolveScores } from "./scores.ts";
import { type HolderChange, recordHolders } from "./holders.ts";
import {
  diff,
  managedHeld,
  needsFlags,
  needsScore,
  type RoleDiff,
  type ScoreInput,
  targetRoles,
} from "./rule.ts";
import type { ChunkTracker } from "./chunk_tracker.ts";
import type { ChunkWriter } from "./chunk_writer.ts";
import type { ChunkStats, EngineDeps, EngineOptions, Item, PlannedChange } from "./chunk_model.ts";

const MAX_PLANNED = 1000;

/** The role sets the rule is applied with, worked out once per chunk. */
export interface RoleSets {
  managed: ReadonlySet<string>;
  manageable: ReadonlySet<string>;
  /** Validator, human and variant roles: their holders are indexed for the hourly re-check. */
  flagRoles: ReadonlySet<string>;
  /** The tier each tier role (or variant) stands for: the run's level counts. */
  tierOfRole: ReadonlyMap<string, string>;
}

export class ChunkDecider {
  /** A dry run's changes (the first MAX_PLANNED). */
  readonly planned: PlannedChange[] = [];
  /** Members decided so far (done ones excluded): the page size follows calls per member. */
  membersSeen = 0;
  /** Set when the run paused because the Ethos API is failing (see ingest). */
  paused = false;

  constructor(
    private readonly job: ChunkContext,
    private readonly deps: EngineDeps,
    private readonly o: EngineOptions,
    private readonly stats: ChunkStats,
    private readonly tracker: ChunkTracker,
    private readonly writer: ChunkWriter,
    private readonly roles: RoleSets,
  ) {}

  /** Scores, rule, diff and the split for one page of items (in walk order). */
  async ingest(items: Item[], fresh: boolean, holdersPhase = false): Promise<void> {
    const rules = this.o.rules;
    const { managed, manageable, flagRoles, tierOfRole } = this.roles;
    const asking = items.filter((it) => !it.done && needsScore(it, rules));
    const scores = await resolveScores(
      asking.map((it) => ({
        id: it.id,
        holdsManaged: managedHeld(it.roles, managed).length > 0,
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
      this.paused = true;
      this.job.pause(
        `the Ethos API failed for all ${asking.length} members of a page; nothing was changed`,
      );
      return;
    }
    const writers: Item[] = [];
    const holders: HolderChange[] = [];
    const holdsFlag = (roles: Iterable<string>) => {
      for (const r of roles) if (flagRoles.has(r)) return true;
      return false;
    };
    for (const it of items) {
      this.tracker.add(it);
      if (it.done) {
        if (holdersPhase) holders.push({ userId: it.id, holds: false });
        continue;
      }
      this.membersSeen++;
      const score: ScoreInput = !needsScore(it, rules)
        ? undefined
        : scores.has(it.id)
        ? scores.get(it.id)!
        : "error";
      const target = targetRoles(it, score, rules);
      if (target.kind === "target") {
        for (const r of target.roles) {
          const tier = tierOfRole.get(r);
          if (tier) this.tracker.count(`level.${tier}`);
        }
      }
      if (flagRoles.size) {
        // After this page the member holds what the rule wants, or (skipped) what they hold.
        const holds = holdsFlag(target.kind === "target" ? target.roles : it.roles);
        if (holds || holdersPhase || holdsFlag(it.roles)) holders.push({ userId: it.id, holds });
      }
      if (target.kind === "skip") {
        this.tracker.finish(it, `skipped.${target.reason}`);
        continue;
      }
      const d = diff(it.roles, target.roles, managed, manageable);
      it.diff = d;
      if (d.blocked.length) it.extra.push("blocked.role_above_bot");
      const k = changeCount(d);
      if (k === 0) {
        this.tracker.finish(it, d.blocked.length ? "skipped.role_above_bot" : "unchanged");
      } else if (this.o.dryRun) {
        this.#plan(it, d);
        this.tracker.finish(it, "changed");
      } else {
        writers.push(it);
      }
    }
    if (holders.length && !this.o.dryRun) {
      await recordHolders(this.deps.kv, this.o.guildId, holders);
    }
    if (writers.length && this.writer.probing) await this.writer.probe(writers);
    if (writers.length) this.writer.assign(writers);
    this.tracker.advance();
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
    this.tracker.sample(change);
    this.deps.log.info("sync: dry run would change", { ...change });
  }
}
