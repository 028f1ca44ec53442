/**
 * Discord's global limit (50 requests per second per bot) shared by every isolate through KV.
 *
 * One record, `["rest", "global", "timeline"]`, is a GCRA timeline for the whole bot: `tat` is the
 * time of the next free send slot, and slots are `(1000 + slack) / perSecond` ms apart. An isolate
 * claims a few consecutive slots at once (an atomic op guarded by the record's versionstamp) and
 * sends each request at its slot's time. Because every slot of every isolate sits on one evenly
 * spaced timeline, any number of isolates together stay under the limit in every window, with no
 * shares to agree on and nothing to hand over: the next chunk of a job, on a new isolate, goes on
 * from where the timeline stands, and a crashed isolate loses at most the few slots it held.
 *
 * - A slot missed by more than a small tolerance (a stalled event loop) is dropped, never used
 *   late: late, it could share a window with slots other isolates hold.
 * - A client alone on the timeline (nobody else claimed in the last two seconds) books the whole
 *   horizon at once and sends anywhere in it, spaced like the timeline: one claim per 200 ms
 *   however its requests come. Another client then waits at most the horizon for the timeline.
 * - With others, claims follow demand: each caller (a bucket queue) says how many requests it
 *   could send back to back, and a claim covers what the callers want beyond the slots held (at
 *   most `maxBatch`).
 *   Consecutive slots are a few ms apart at high rates, so a client claims only for requests
 *   that are ready to use them; while more are ready than held, the next claim starts as soon as
 *   a slot is taken, so its round trip hides behind the slots still held. An idle client holds
 *   nothing.
 * - The timeline is booked at most ~200 ms ahead (`horizonMs`): under contention clients take
 *   turns in small batches, and no request waits so long for its slot that its bucket's window
 *   ends first.
 * - Claims start ahead of now by the slowest of the last few claim round trips, so a fresh claim's
 *   first slot has not passed by the time it is known.
 * - The record also lists who claimed in the last two seconds: `share()` (perSecond divided by
 *   their number) lets a planner size its work to what it will really get.
 * - A KV failure falls back to an in-memory limiter at the last known share for a cooldown; KV
 *   problems are never fatal.
 * - Pauses (a global 429, or one another isolate published) are held by the in-memory limiter and
 *   apply to both paths.
 *
 * The record and how a claim books it are plain functions in global_timeline.ts; this module holds
 * the client's side: its slot pool or booked range, the claims' KV rounds, the fallback.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import { type GlobalGate, GlobalLimiter } from "./global_limiter.ts";
import {
  planClaim,
  TIMELINE_KEY,
  TIMELINE_TTL_MS,
  timelineView,
  withoutClaimant,
} from "./global_timeline.ts";

export interface GlobalBudgetOptions {
  perSecond: number;
  /** Extra milliseconds added to every one-second window (default 20). */
  slackMs?: number;
  log: Logger;
  /** Names this client in the claimant list (default: a random id). */
  id?: string;
  /** Most slots claimed at once (default 10). */
  maxBatch?: number;
  /**
   * How far ahead of now the timeline may be booked (default 200 ms): under contention a request
   * waits at most about this long for its slot, well inside any bucket window.
   */
  horizonMs?: number;
  /** How long the fallback lasts after a KV error (default 30 s). */
  cooldownMs?: number;
}

export interface GlobalBudgetStats {
  /** Claims committed, slots they got, slots dropped unsent (late, or left at close). */
  claims: number;
  slots: number;
  dropped: number;
  /** Of those: passed while waiting in the pool (a claim came back late, or was too big). */
  stale: number;
  /** Slots granted but not used by their caller (see `unused`). */
  returned: number;
  /** The slowest claim round trip seen, and the current lead (ms). */
  maxRttMs: number;
  leadMs: number;
  conflicts: number;
  /** KV operations and failures. */
  ops: number;
  errors: number;
  /** Clients that claimed in the last two seconds, this one included. */
  active: number;
  fallback: boolean;
}

const MAX_CLAIM_TRIES = 8;

export class SharedGlobalLimiter implements GlobalGate {
  readonly perSecond: number;
  readonly intervalMs: number;
  readonly #toleranceMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #id: string;
  readonly #maxBatch: number;
  readonly #horizonMs: number;
  readonly #cooldownMs: number;
  readonly #slackMs: number;
  /** Holds pauses; the fallback limiter while KV is unavailable. */
  #local: GlobalLimiter;
  #fallbackUntil = 0;
  #lastWarn = -Infinity;
  /** Claimed send times, ascending. */
  #slots: number[] = [];
  #claiming: Promise<void> | null = null;
  /** What the callers without a slot yet could send back to back (sum of their `ready`). */
  #demand = 0;
  /** The timeline's next free slot when this client last claimed (an estimate of the wait). */
  #seenTat = 0;
  /** A range of the timeline booked while alone on it: sends anywhere in it, spaced. */
  #range: { next: number; to: number } | null = null;
  /** The slot last handed out (for `unused`). */
  #granted: number | null = null;
  #leadMs = 2;
  /** The last claims' round trips (ms). */
  #rtts: number[] = [];
  #active = 1;
  readonly #stats = {
    claims: 0,
    slots: 0,
    dropped: 0,
    stale: 0,
    returned: 0,
    maxRttMs: 0,
    conflicts: 0,
    ops: 0,
    errors: 0,
  };

  constructor(private readonly kv: Deno.Kv, clock: Clock, options: GlobalBudgetOptions) {
    this.#clock = clock;
    this.#log = options.log;
    this.perSecond = Math.max(1, options.perSecond);
    this.#slackMs = Math.max(0, options.slackMs ?? 20);
    this.intervalMs = (1000 + this.#slackMs) / this.perSecond;
    // How late a slot may still be used. A late send can share a window with the next slots, so
    // lateness must fit in the slack's spare room: under 50/s the same half-interval the in-memory
    // limiter allows; at high rates (spare slots in every window) up to about half the slack.
    this.#toleranceMs = Math.max(
      Math.min(this.intervalMs, this.#slackMs) / 2,
      (this.#slackMs - this.intervalMs) / 2,
    );
    this.#id = options.id ?? crypto.randomUUID().slice(0, 12);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 10);
    this.#horizonMs = options.horizonMs ?? 200;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#local = new GlobalLimiter(clock, { perSecond: this.perSecond, slackMs: this.#slackMs });
  }

  get pausedUntil(): number {
    return this.#local.pausedUntil;
  }

  pause(until: number): void {
    this.#local.pause(until);
  }

  /** Requests per second this client can expect while the others keep claiming. */
  share(): number {
    return this.perSecond / Math.max(1, this.#active);
  }

  stats(): GlobalBudgetStats {
    return {
      ...this.#stats,
      active: this.#active,
      leadMs: Math.round(this.#leadMs * 10) / 10,
      fallback: this.#clock.now() < this.#fallbackUntil,
    };
  }

  /**
   * Resolves at the caller's send slot. `ready`: how many requests the caller (a bucket queue)
   * could send back to back right now, this one included; the claim is sized by the callers'
   * total, so slots are claimed for requests that will use them as they come.
   */
  async acquire(signal?: AbortSignal, ready = 1, deadline = Infinity): Promise<boolean> {
    const demand = Math.max(1, Math.min(2 * this.#maxBatch, ready));
    this.#demand += demand;
    let counted = true;
    try {
      for (;;) {
        signal?.throwIfAborted();
        let now = this.#clock.now();
        const paused = this.#local.pausedUntil;
        if (paused > now) {
          await this.#clock.sleep(paused - now, signal);
          continue;
        }
        if (now < this.#fallbackUntil) return await this.#local.acquire(signal, ready, deadline);
        this.#dropLate(now);
        const range = this.#range;
        if (range && Math.max(now, range.next) < range.to) {
          // Alone on the timeline: any time in the booked range, spaced like the timeline.
          const slot = Math.max(now, range.next);
          if (slot > deadline) return false;
          range.next = slot + this.intervalMs;
          if (range.to - range.next < 2 * this.#leadMs + this.intervalMs && !this.#claiming) {
            void this.#claim(1);
          }
          this.#demand -= demand;
          counted = false;
          if (slot > now) await this.#clock.sleep(slot - now, signal);
          now = this.#clock.now();
          if (now > slot + this.#toleranceMs || now < this.#local.pausedUntil) {
            this.#demand += demand;
            counted = true;
            continue;
          }
          this.#granted = slot;
          return true;
        }
        // Nothing held in time for the caller's window, and the timeline was booked past it: the
        // caller waits for its next window, and the slot stays for it (or another caller). Only
        // what is known counts: refusing on an estimate of a claim's round trip could refuse
        // every window shorter than it, and never claim at all.
        if ((this.#slots[0] ?? this.#seenTat) > deadline) return false;
        const slot = this.#slots.shift();
        if (slot === undefined) {
          await this.#claim();
          continue;
        }
        this.#demand -= demand;
        counted = false;
        // The queue behind this request, and the other callers, want more than the pool holds:
        // claim the next slots now, so they arrive before these run out.
        if (
          !this.#claiming && this.#slots.length <= this.#maxBatch / 2 &&
          demand - 1 + this.#demand > this.#slots.length
        ) {
          void this.#claim(demand - 1);
        }
        try {
          if (slot > now) await this.#clock.sleep(slot - now, signal);
        } catch (err) {
          this.#stats.dropped++;
          throw err;
        }
        now = this.#clock.now();
        // Asleep too long (a stalled loop): the slot has passed; so has a pause's start.
        if (now > slot + this.#toleranceMs || now < this.#local.pausedUntil) {
          this.#stats.dropped++;
          this.#demand += demand;
          counted = true;
          continue;
        }
        this.#granted = slot;
        return true;
      }
    } finally {
      if (counted) this.#demand -= demand;
    }
  }

  unused(): void {
    const slot = this.#granted;
    this.#granted = null;
    if (slot === null) return;
    this.#stats.returned++;
    const inTime = this.#clock.now() <= slot + this.#toleranceMs;
    const range = this.#range;
    // Back to the range or the front of the pool: the next caller takes it if still in time.
    if (range && slot < range.to) range.next = Math.min(range.next, slot);
    else if (inTime) this.#slots.unshift(slot);
    else this.#stats.dropped++;
  }

  /** Gives back nothing (slots cannot be returned) but leaves the claimant list at once. */
  async close(): Promise<void> {
    this.#stats.dropped += this.#slots.length;
    this.#slots = [];
    this.#range = null;
    if (this.#clock.now() < this.#fallbackUntil) return;
    try {
      for (let i = 0; i < MAX_CLAIM_TRIES; i++) {
        this.#stats.ops++;
        const entry = await this.kv.get(TIMELINE_KEY);
        const next = withoutClaimant(entry.value, this.#id);
        if (!next) return;
        this.#stats.ops++;
        const res = await this.kv.atomic().check(entry)
          .set(TIMELINE_KEY, next, { expireIn: TIMELINE_TTL_MS }).commit();
        if (res.ok) return;
      }
    } catch (err) {
      this.#fail("leave", err);
    }
  }

  #dropLate(now: number): void {
    let n = 0;
    while (n < this.#slots.length && this.#slots[n] < now - this.#toleranceMs) n++;
    if (n > 0) {
      this.#slots.splice(0, n);
      this.#stats.dropped += n;
      this.#stats.stale += n;
    }
  }

  /** One claim at a time; callers arriving meanwhile share it. `extra`: demand not yet waiting. */
  #claim(extra = 0): Promise<void> {
    this.#claiming ??= this.#claimImpl(extra).finally(() => (this.#claiming = null));
    return this.#claiming;
  }

  async #claimImpl(extra: number): Promise<void> {
    // Callers arriving in this same tick (other bucket queues) count toward the batch.
    await Promise.resolve();
    const want = Math.min(this.#maxBatch, this.#demand + extra - this.#slots.length);
    if (want <= 0) return;

    try {
      for (let attempt = 0; attempt < MAX_CLAIM_TRIES;) {
        const t0 = this.#clock.now();
        this.#stats.ops++;
        const entry = await this.kv.get(TIMELINE_KEY);
        const plan = planClaim(entry.value, this.#clock.now(), {
          id: this.#id,
          want,
          intervalMs: this.intervalMs,
          horizonMs: this.#horizonMs,
          leadMs: this.#leadMs,
        });
        if (plan.kind === "wait") {
          await this.#clock.sleep(plan.ms + Math.random() * this.intervalMs);
          continue;
        }
        // Alone: the whole horizon as one range (a claim per 200 ms, not per request); with
        // others, consecutive slots for the requests ready now.
        const { start, n, alone, next } = plan;
        this.#stats.ops++;
        const res = await this.kv.atomic().check(entry)
          .set(TIMELINE_KEY, next, { expireIn: TIMELINE_TTL_MS })
          .commit();
        // The claim's round trip decides how far ahead the next one starts.
        const rtt = this.#clock.now() - t0;
        this.#rtts.push(rtt);
        this.#stats.maxRttMs = Math.max(this.#stats.maxRttMs, rtt);
        if (this.#rtts.length > 8) this.#rtts.shift();
        this.#leadMs = Math.min(250, 1 + 1.2 * Math.max(...this.#rtts));
        if (!res.ok) {
          this.#stats.conflicts++;
          attempt++;
          continue;
        }
        this.#active = Object.keys(next.claimants).length;
        const end = start + n * this.intervalMs;
        this.#seenTat = end;
        if (alone) {
          const r = this.#range;
          if (r && start <= r.to + this.intervalMs) r.to = end;
          else this.#range = { next: start, to: end };
        } else {
          this.#range = null;
          for (let i = 0; i < n; i++) this.#slots.push(start + i * this.intervalMs);
        }
        this.#stats.claims++;
        this.#stats.slots += n;
        return;
      }
      // Heavily contended: try again on the next acquire round (after a short pause).
      await this.#clock.sleep(this.intervalMs + Math.random() * 5);
    } catch (err) {
      this.#fail("claim", err);
    }
  }

  #fail(what: string, err: unknown): void {
    this.#stats.errors++;
    const now = this.#clock.now();
    this.#fallbackUntil = now + this.#cooldownMs;
    // The fallback paces at the share last seen, so the others keep their part of the budget.
    const paused = this.#local.pausedUntil;
    this.#local = new GlobalLimiter(this.#clock, {
      perSecond: Math.max(1, Math.floor(this.share())),
      slackMs: this.#slackMs,
    });
    if (paused) this.#local.pause(paused);
    if (now - this.#lastWarn > 60_000) {
      this.#lastWarn = now;
      this.#log.warn("rest: global budget unavailable in KV; pacing locally", {
        op: what,
        error: err instanceof Error ? err.message : String(err),
        share: this.share(),
      });
    }
  }
}

/** What the timeline shows now: clients that claimed in the last two seconds, and how far ahead
 * of now its slots are booked (0 when idle). For the status page. */
export async function readGlobalBudget(
  kv: Deno.Kv,
  now: number,
): Promise<{ clients: number; bookedAheadMs: number }> {
  return timelineView((await kv.get(TIMELINE_KEY)).value, now);
}
