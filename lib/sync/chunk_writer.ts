/**
 * The writing part of a sync chunk (engine.ts): the scheduler's split of each page's writers, the
 * two lanes, the write buckets' real limits, and each call through the member-role writer
 * (discord/member_roles.ts).
 *
 * - Scheduler (scheduler.ts): splits each page's writers between the two buckets the way the
 *   optimum over every writer seen so far in the chunk would, so both lanes end together and the
 *   run makes the whole-guild optimum's calls.
 * - Lanes (lanes.ts): evenly paced at the bucket rate, few in flight. The rates are the write
 *   buckets' real limits as the REST client learned them (from Discord's headers, by this chunk
 *   or, kept in KV for a day, an earlier one); SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT only when nothing
 *   was learned yet, and then the first writers go alone to learn them before the rest is split.
 *
 * Moderator safety. A single-role PUT/DELETE touches only its role, so it never undoes a
 * moderator's change to another role. A PATCH sends the whole role list, so it is computed from
 * roles read at most `freshMs` (SYNC_FRESH_MS, default 5 s) before it is handed to the REST
 * client; an older read is refreshed with GET member first (its bucket is separate from the
 * write buckets). If that fresh read shows the verified role or a managed role changed since the
 * page read, someone else is handling this member right now: it is skipped
 * ("changed_during_sync") rather than overwritten, and the next run settles it.
 */
import type { RestClient } from "../discord/rest.ts";
import { getMember } from "../discord/api.ts";
import {
  changeCount,
  type MemberTarget,
  sendRoleCall,
  singleRoleCalls,
  type WriteOutcome,
  writeOutcomeOf,
} from "../discord/member_roles.ts";
import type { ChunkContext } from "../jobs/runner.ts";
import { managedHeld } from "./rule.ts";
import { type Binding, type LaneRates, makespanOf, PagedSplit, ratesOf } from "./scheduler.ts";
import type { DrainShare } from "./drain_share.ts";
import { Lane, Pacer } from "./lanes.ts";
import type { ChunkTracker } from "./chunk_tracker.ts";
import type { ChunkStats, EngineDeps, EngineOptions, Item, RoleTask } from "./chunk_model.ts";

/** Any member/role id: bucket lookups only need the route's shape. */
const SAMPLE_ID = "100000000000000000";
/** The REST client spreads the global limit over 1020 ms per second (its default slack). */
const GLOBAL_HEADROOM = 1000 / 1020;

/** Tasks a lane keeps in flight at `rate` per second. */
const inFlightFor = (rate: number) => Math.max(2, Math.min(10, Math.ceil(rate * 0.25)));

export class ChunkWriter {
  readonly rates: LaneRates;
  /** Which limit bound the last split. */
  binding: Binding = "none";
  /** Write calls planned so far in this chunk. */
  callsPlanned = 0;
  /** Splits each page's writers between the lanes as the whole-chunk optimum would. */
  #split: PagedSplit;
  #patchLane!: Lane<Item>;
  #roleLane!: Lane<RoleTask>;
  #globalPacer!: Pacer;
  #learnedAt = -Infinity;
  /** Write buckets whose limits nobody has learned yet (see probe). */
  #unknown = { patch: true, role: true };

  constructor(
    private readonly job: ChunkContext,
    private readonly deps: Pick<EngineDeps, "config" | "rest" | "clock" | "log">,
    private readonly o: EngineOptions,
    private readonly stats: ChunkStats,
    private readonly tracker: ChunkTracker,
    private readonly drainShare: DrainShare,
    private readonly managed: ReadonlySet<string>,
    /** The chunk stopping: take no new work. */
    private readonly stop: AbortSignal,
    /** Fails the chunk (a transient write error). */
    private readonly fail: (error: unknown) => void,
  ) {
    const s = deps.config.sync;
    this.rates = ratesOf({
      patch: s.patchLimit,
      role: s.roleLimit,
      global: deps.config.discord.globalRateLimit,
    });
    this.#split = new PagedSplit(this.rates);
  }

  /** Whether a write bucket's limit is still unknown: the next writers probe it. */
  get probing(): boolean {
    return this.#unknown.patch || this.#unknown.role;
  }

  /**
   * Builds the lanes and runs them until `close` (not in a dry run: nothing is written). Both
   * lanes draw from one pacer at the global limit (less the REST client's own headroom), so when
   * the global limit binds they share it evenly instead of piling up in the client.
   */
  start(): Promise<void> {
    const { clock } = this.deps;
    const global = new Pacer(clock, 1000 / (this.rates.global * GLOBAL_HEADROOM));
    this.#globalPacer = global;
    this.#patchLane = new Lane<Item>({
      name: "patch",
      global,
      intervalMs: 1000 / this.rates.patch,
      maxInFlight: inFlightFor(this.rates.patch),
      clock,
      signal: this.stop,
      exec: (item) => this.#execPatch(item),
    });
    this.#roleLane = new Lane<RoleTask>({
      name: "role",
      global,
      intervalMs: 1000 / this.rates.role,
      maxInFlight: inFlightFor(this.rates.role),
      clock,
      signal: this.stop,
      exec: (task) => this.#execRole(task),
    });
    return this.o.dryRun
      ? Promise.resolve()
      : Promise.all([this.#patchLane.run(), this.#roleLane.run()]).then(() => {});
  }

  /** No more writers will come. */
  close(): void {
    this.#patchLane.close();
    this.#roleLane.close();
  }

  /** Seconds of write work queued in the lanes at their rates. */
  backlogSeconds(): number {
    return makespanOf(0, 0, this.rates, {
      patch: this.#patchLane.queued + this.#patchLane.inFlight,
      role: this.#roleLane.queued + this.#roleLane.inFlight,
      global: 0,
    }).makespan;
  }

  /** Splits a page's writers between the lanes and queues their calls. */
  assign(writers: Item[]): void {
    const split = this.#split.split(writers.map((w) => changeCount(w.diff!)));
    this.binding = split.binding;
    this.callsPlanned += split.patchCalls + split.roleCalls;
    writers.forEach((it, i) => {
      if (split.toRole[i]) {
        it.callsLeft = changeCount(it.diff!);
        for (const call of singleRoleCalls(it.diff!)) this.#roleLane.push({ item: it, call });
      } else {
        it.callsLeft = 1;
        this.#patchLane.push(it);
      }
    });
  }

  // --- the write buckets' limits ------------------------------------------------------------

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
  async loadLimits(): Promise<void> {
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
      this.rates[lane] = info.limit * 1000 / info.windowMs;
      this.deps.log.info("sync: planning with the bucket limit learned before", {
        lane,
        limit: info.limit,
        windowMs: info.windowMs,
      });
    });
    this.#split.setRates(this.rates);
  }

  /**
   * Adopts the write buckets' real limits once the REST client has learned them from Discord's
   * headers (SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT are only the starting point).
   */
  learnLimits(force = false): void {
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
      this.rates[lane] = 1000 / interval;
      l.setMaxInFlight(inFlightFor(this.rates[lane]));
      this.#split.setRates(this.rates);
    }
  }

  /**
   * Nothing has taught this chunk a write bucket's limit yet (a first run, or nothing learned in
   * the last day): a split by SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT could cost extra calls when they
   * are wrong. So the first writers go alone, each by a route that costs it one call, which is
   * what the split would make of them: the one with the most changes by PATCH, one with a single
   * change by role call. Their answers teach the limits; the rest of the page is split after.
   */
  async probe(writers: Item[]): Promise<void> {
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
      it.callsLeft = 1;
      this.#split.record(1, true);
      this.#roleLane.push({ item: it, call: singleRoleCalls(it.diff!)[0] });
      probes.push(it);
    }
    this.#unknown = { patch: false, role: false };
    this.callsPlanned += probes.length;
    while (!this.stop.aborted && probes.some((p) => !p.done)) {
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.tracker.onFinish = () => {
          this.stop.removeEventListener("abort", onAbort);
          resolve();
        };
        this.stop.addEventListener("abort", onAbort, { once: true });
      });
      this.tracker.onFinish = null;
    }
    this.learnLimits(true);
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
    if (!(share > 0) || Math.abs(share - this.rates.global) / this.rates.global < 0.1) return;
    this.rates.global = share;
    this.#split.setRates(this.rates);
    if (this.#globalPacer) this.#globalPacer.intervalMs = 1000 / (share * GLOBAL_HEADROOM);
  }

  // --- the calls ----------------------------------------------------------------------------

  #target(it: Item): MemberTarget {
    const { rest } = this.deps;
    return {
      rest,
      guildId: this.o.guildId,
      userId: it.id,
      reason: this.o.reason,
      signal: this.job.hard,
    };
  }

  async #execPatch(it: Item): Promise<void> {
    const { rest, clock } = this.deps;
    const d = it.diff!;
    let roles = it.roles;
    try {
      if (clock.now() - it.readAt > this.deps.config.sync.freshMs) {
        this.stats.rereads++;
        this.tracker.count("calls.reread");
        this.drainShare.reread();
        const fresh = await getMember(rest, this.o.guildId, it.id, { signal: this.job.hard });
        if (!this.#sameRelevant(it.roles, fresh.roles)) {
          this.tracker.finish(it, "skipped.changed_during_sync");
          return;
        }
        roles = fresh.roles;
        it.readAt = clock.now();
      }
      const age = clock.now() - it.readAt;
      this.stats.maxPatchReadAgeMs = Math.max(this.stats.maxPatchReadAgeMs, age);
      this.drainShare.observe(age);
      const outcome = await sendRoleCall(this.#target(it), { kind: "patch" }, roles, d);
      if (outcome.kind !== "done") {
        this.#writeError(it, outcome);
        if (it.error) this.tracker.finish(it, it.error);
        return;
      }
      this.stats.patches++;
      this.tracker.count("calls.patch");
      this.learnLimits();
      this.tracker.finish(it, "changed");
    } catch (error) {
      this.#writeError(it, writeOutcomeOf(error, this.job.hard));
      if (it.error) this.tracker.finish(it, it.error);
    }
  }

  async #execRole(task: RoleTask): Promise<void> {
    const it = task.item;
    if (it.done) return;
    try {
      if (it.outcome !== "skipped.left_guild") {
        const outcome = await sendRoleCall(this.#target(it), task.call, it.roles, it.diff!);
        if (outcome.kind !== "done") {
          this.#writeError(it, outcome);
          if (!it.error) return; // transient: the member stays pending
        } else {
          this.stats.roleCalls++;
          this.tracker.count("calls.role");
          this.learnLimits();
        }
      }
    } catch (error) {
      this.#writeError(it, writeOutcomeOf(error, this.job.hard));
      if (!it.error) return;
    }
    if (--it.callsLeft === 0) this.tracker.finish(it, it.error ?? it.outcome ?? "changed");
  }

  /** Verified role and managed roles as read now vs at the page read. */
  #sameRelevant(before: readonly string[], after: readonly string[]): boolean {
    const v = this.o.rules.verifiedRoleId;
    if (v && before.includes(v) !== after.includes(v)) return false;
    const a = managedHeld(before, this.managed);
    const b = managedHeld(after, this.managed);
    return a.length === b.length && a.every((r, i) => r === b[i]);
  }

  /** Sorts a failed call into "member done with this outcome" or "chunk fails" (transient). */
  #writeError(it: Item, outcome: WriteOutcome): void {
    if (this.job.hard.aborted) return;
    switch (outcome.kind) {
      case "gone":
        it.error = "skipped.left_guild";
        it.outcome = "skipped.left_guild";
        return;
      case "refused":
        it.error ??= `errors.${outcome.code}`;
        this.deps.log.warn("sync: write refused", {
          userId: it.id,
          code: outcome.code,
          error: outcome.error.message,
        });
        return;
      case "stopped":
      case "failed":
        this.fail(outcome.error);
    }
  }
}
