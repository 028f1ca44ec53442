/**
 * The role sync engine: one chunk of a run, as a pipeline.
 *
 *   reader ──► scores + rule + diff ──► scheduler split ──► PATCH lane ─┐
 *     (members in user-id order,              (per page,    role lane ─┴─► tracker ──► checkpoint
 *      `after` paging, or the Ethos            totals-aware)
 *      updates feed in incremental mode)
 *
 * Each stage is its own module: reading (chunk_reader.ts), deciding (chunk_decider.ts), writing
 * through the lanes (chunk_writer.ts, over the member-role writer in discord/member_roles.ts) and
 * tracking the done prefix into checkpoints (chunk_tracker.ts, over jobs/checkpoint.ts). This
 * class builds them for one chunk, runs the reader until the input, the budget or the time box
 * ends, lets the lanes drain and commits the last checkpoint. A write error that is not the
 * member's own (a 5xx, a 429 after retries) fails the chunk: the run resumes from its checkpoint.
 */
import { isAbort } from "../abort.ts";
import type { ChunkContext } from "../jobs/runner.ts";
import { flagRoles } from "./holders.ts";
import { managedRoles } from "./rule.ts";
import { DrainShare } from "./drain_share.ts";
import { indexedRoles } from "./member_index.ts";
import {
  type ChunkStats,
  emptyChunkStats,
  type EngineDeps,
  type EngineOptions,
  type PlannedChange,
  type SyncCheckpoint,
} from "./chunk_model.ts";
import { ChunkTracker } from "./chunk_tracker.ts";
import { ChunkWriter } from "./chunk_writer.ts";
import { ChunkDecider } from "./chunk_decider.ts";
import { ChunkReader } from "./chunk_reader.ts";

export class SyncChunk {
  readonly stats: ChunkStats = emptyChunkStats();
  #failure: unknown = null;
  #fail = new AbortController();
  #tracker: ChunkTracker;
  #writer: ChunkWriter;
  #decider: ChunkDecider;
  #reader: ChunkReader;

  constructor(
    private readonly job: ChunkContext,
    private readonly deps: EngineDeps,
    private readonly o: EngineOptions,
    checkpoint: SyncCheckpoint,
  ) {
    const stop = AbortSignal.any([job.signal, this.#fail.signal]);
    const fail = (error: unknown) => this.#failWith(error);
    const managed = managedRoles(o.rules);
    const flags = flagRoles(o.rules);
    const tierOfRole = new Map<string, string>();
    for (const t of o.rules.tiers) {
      for (const r of [t.roleId, t.validatorRoleId, t.humanRoleId, t.humanValidatorRoleId]) {
        if (r) tierOfRole.set(r, t.name);
      }
    }
    const drainShare = new DrainShare(deps.config.sync.freshMs);
    this.#tracker = new ChunkTracker(job, deps, o, checkpoint, indexedRoles(o.rules), fail);
    this.#writer = new ChunkWriter(
      job,
      deps,
      o,
      this.stats,
      this.#tracker,
      drainShare,
      managed,
      stop,
      fail,
    );
    this.#decider = new ChunkDecider(job, deps, o, this.stats, this.#tracker, this.#writer, {
      managed,
      manageable: new Set(o.ctx.manageable),
      flagRoles: flags,
      tierOfRole,
    });
    this.#reader = new ChunkReader(
      job,
      deps,
      o,
      this.stats,
      this.#tracker,
      this.#writer,
      this.#decider,
      drainShare,
      flags.size > 0,
      stop,
    );
  }

  /** A dry run's changes. */
  get planned(): PlannedChange[] {
    return this.#decider.planned;
  }

  async run(): Promise<{ finished: boolean }> {
    if (!this.o.dryRun) await this.#writer.loadLimits();
    const lanes = this.#writer.start();
    let endOfInput = false;
    try {
      endOfInput = await this.#reader.read();
    } catch (error) {
      this.#failWith(error);
    }
    this.#writer.close();
    await lanes;
    await this.#tracker.flush();
    const finished = endOfInput && this.#tracker.allDone && !this.#failure;
    await this.#tracker.endIndex(finished);
    if (this.#failure) throw this.#failure;
    return { finished };
  }

  #failWith(error: unknown): void {
    if (this.job.hard.aborted || this.job.signal.aborted && isAbort(error)) return;
    if (this.#failure === null) {
      this.#failure = error;
      this.deps.log.error("sync: chunk failing", { error });
      this.#fail.abort(error);
    }
  }
}
