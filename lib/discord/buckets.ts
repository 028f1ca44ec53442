/**
 * Per-bucket queues.
 *
 * One `Bucket` per Discord rate-limit bucket (learned hash + major parameter), or per route key
 * until the hash is known. Requests wait in the bucket's FIFO queue; a single dispatch loop per
 * bucket hands out "tickets" (permission to send) only while the bucket has room:
 *
 * - unknown bucket: one request at a time until a response teaches limit/remaining/reset;
 * - known bucket: up to `remaining` requests in the current window, all at once (saturating it),
 *   then nothing until the local reset time (`receivedAt + Reset-After + margin`, so server/client
 *   clock skew does not matter and the window has surely ended server-side), when `remaining`
 *   is refilled to `limit`;
 * - a window's slots are only sent until `sendBy`, the earliest the server's window may end
 *   (`sentAt + Reset-After`) less the observed round trip and the margin. Discord's window starts
 *   with its first request and Reset-After is read late by a stalled client, so a slot kept for
 *   later could otherwise reach Discord after the window ended, open the next one, and make the
 *   refill's full burst one request too many (a 429 one window later);
 * - a request that may have reached Discord after its window ended is carried: the next window
 *   starts with one slot fewer. That is a request sent after `sendBy` (the client stalled after
 *   granting its slot), one still unanswered when the window ends (a stalled isolate writes it
 *   late), and one whose answer shows a later window;
 * - after a 429 on the bucket: nothing until the retry time.
 *
 * Every ticket also passes the invalid-request guard and, for non-exempt routes, the global
 * limiter. With shared state (KV) the bucket sends only with slots reserved in KV for the current
 * window (see shared_state.ts); without it, or when KV fails, the in-memory view decides.
 *
 * Responses update the window they belong to (tickets carry a generation number, so a late answer
 * from an earlier window cannot refill the current one) and wake the loop.
 *
 * Kept whole at over 400 lines: the queue, its dispatch loop and the window accounting (local or
 * reserved in KV) are one state machine whose every step reads and writes the same bucket state.
 */
import type { Clock } from "../clock.ts";
import type { GlobalGate } from "./global_limiter.ts";
import type { InvalidRequestGuard } from "./invalid_guard.ts";
import type { RateLimitInfo } from "./response.ts";
import type { ReserveResult, SharedState } from "./shared_state.ts";
import { Waker } from "./waker.ts";

export interface Ticket {
  bucket: Bucket;
  gen: number;
  probe: boolean;
  windowId?: string;
  /** When the request went out (see `Bucket.sent`). */
  sentAt?: number;
  /** Counted against the window after its own (sent too late for it). */
  late?: boolean;
}

export interface QueueEntry {
  seq: number;
  exempt: boolean;
  maxPauseWaitMs: number;
  settled: boolean;
  resolve(ticket: Ticket): void;
  reject(err: unknown): void;
  pausedError(until: number): Error;
}

export interface BucketHost {
  readonly clock: Clock;
  readonly global: GlobalGate;
  readonly guard: InvalidRequestGuard;
  readonly shared: SharedState | null;
  readonly closed: AbortSignal;
  /** Added to every computed reset time (ms). */
  readonly marginMs: number;
  /** Polling interval while another isolate probes or opens a window (ms). */
  readonly pollMs: number;
  random(): number;
  /** A template's bucket hash was learned: move/merge `bucket`; returns the owning bucket. */
  learnHash(bucket: Bucket, template: string, hash: string): Bucket;
  adoptPauses(globalUntil: number, invalidUntil: number): void;
  onLoopError(bucket: Bucket, err: unknown): void;
}

const RECHECK = -1;

export class Bucket {
  /** `hash:major` once the hash is known, else the route key. */
  id: string;
  hash?: string;
  known = false;
  /** The route answered without rate-limit headers: only the global limit applies. */
  unlimited = false;
  limit = 0;
  /** Slots left in the current window (in-memory view, or reserved slots with shared state). */
  tokens = 0;
  /** Local epoch ms when the current window surely ended server-side; undefined until known. */
  resetAt: number | undefined;
  /** Local epoch ms after which the current window's slots are not sent (see the module doc). */
  sendBy: number | undefined;
  /** Requests of this window that may count in the next one, and the first one's send time. */
  carry = 0;
  carryFrom = Infinity;
  pausedUntil = 0;
  /** Longest `Reset-After` seen: the window length, used to open windows in shared state. */
  windowMs = 0;
  gen = 0;
  inflight = 0;
  queue: QueueEntry[] = [];
  mergedInto: Bucket | null = null;
  lastUsed: number;
  /** Last answer (or failure) in the current window, for windows whose answers had no headers. */
  lastAnswerAt: number | undefined;
  // Shared-state bookkeeping.
  windowId: string | undefined;
  ownsWindow = false;
  resetPublished = false;
  /** The window whose first send already anchored its provisional end. */
  #anchored: string | undefined;
  publishing = false;

  #running = false;
  #rechecks = 0;
  /** Tickets sent and not answered yet. */
  readonly #live = new Set<Ticket>();
  readonly #waker: Waker;

  constructor(
    private readonly host: BucketHost,
    id: string,
    readonly template: string,
    readonly major: string,
    /** Keep this bucket's state in memory only (see `#shared`). */
    readonly localOnly = false,
  ) {
    this.id = id;
    this.#waker = new Waker(host.clock);
    this.lastUsed = host.clock.now();
  }

  /**
   * The shared state to use, or null: none configured, KV unavailable, client closed, or a
   * per-interaction bucket (token routes: one isolate owns an interaction, so memory is exact).
   */
  get #shared(): SharedState | null {
    const shared = this.host.shared;
    return shared && !this.localOnly && shared.available && !this.host.closed.aborted
      ? shared
      : null;
  }

  /** Follows merges to the bucket that owns this one's work now. */
  get owner(): Bucket {
    return this.mergedInto ? this.mergedInto.owner : this;
  }

  get queued(): number {
    return this.queue.reduce((n, e) => n + (e.settled ? 0 : 1), 0);
  }

  get idle(): boolean {
    const now = this.host.clock.now();
    return this.queued === 0 && this.inflight === 0 && !this.publishing &&
      this.pausedUntil <= now && (this.resetAt === undefined || this.resetAt <= now);
  }

  enqueue(entry: QueueEntry, front: boolean): void {
    this.lastUsed = this.host.clock.now();
    if (front) this.queue.unshift(entry);
    else this.queue.push(entry);
    this.kick();
  }

  kick(): void {
    if (this.#running) this.#waker.wake();
    else void this.#run();
  }

  /** Takes over `other`'s queue and in-flight count (both were found to be one Discord bucket). */
  absorb(other: Bucket): void {
    this.queue = [...this.queue, ...other.queue].sort((a, b) => a.seq - b.seq);
    other.queue = [];
    this.inflight += other.inflight;
    other.inflight = 0;
    if (other.known && !this.known) {
      this.limit = other.limit;
      this.windowMs = Math.max(this.windowMs, other.windowMs);
    }
    this.pausedUntil = Math.max(this.pausedUntil, other.pausedUntil);
    other.mergedInto = this;
    other.#waker.wake();
    this.kick();
  }

  /**
   * 429 on this bucket: no sends until `until`. A `user` 429 also ends the window there (its
   * retry_after is the bucket's reset), for every isolate. A `shared` 429 is about a resource
   * behind the route, not our bucket: the bucket waits, but keeps its window and slots.
   */
  pause(until: number, scope: "user" | "shared"): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
    if (scope === "user") {
      this.tokens = 0;
      this.resetAt = Math.max(this.resetAt ?? 0, until);
      const shared = this.#shared;
      if (shared) {
        void shared.pauseBucket(this.id, until, this.limit, this.windowMs);
      }
    }
    this.kick();
  }

  /**
   * A request sent with `ticket` finished (`info` null when it never got a response).
   * `template` is the request's route template, for hash learning.
   */
  complete(
    ticket: Ticket,
    template: string,
    info: RateLimitInfo | null,
    receivedAt: number,
    status: number,
  ): Bucket {
    let b = ticket.bucket.owner;
    ticket.bucket.#live.delete(ticket);
    b.inflight = Math.max(0, b.inflight - 1);
    b.lastUsed = receivedAt;
    if (ticket.gen === b.gen) b.lastAnswerAt = receivedAt;
    const shared = b.#shared;
    if (
      info && info.limit !== undefined && info.remaining !== undefined &&
      info.resetAfterMs !== undefined
    ) {
      const fromId = b.id;
      if (info.bucket && info.bucket !== b.hash) b = this.host.learnHash(b, template, info.bucket);
      const resetAfter = Math.max(0, info.resetAfterMs);
      const candidate = receivedAt + resetAfter + this.host.marginMs;
      // The server's window ended no earlier than sentAt + Reset-After; a later request may arrive
      // up to a round trip slower than this one did.
      const sentAt = Math.min(ticket.sentAt ?? receivedAt, receivedAt);
      const sendBy = sentAt + resetAfter - (receivedAt - sentAt) - this.host.marginMs;
      b.limit = info.limit;
      b.windowMs = Math.max(b.windowMs, Math.ceil(info.resetAfterMs));
      b.unlimited = false;
      shared?.noteLimit(template, b.limit, b.windowMs);
      // A late request's answer describes the next server window, not this one.
      const sameWindow = ticket.bucket === b && ticket.gen === b.gen && !ticket.late;
      if (!b.known || (ticket.probe && sameWindow)) {
        b.known = true;
        b.resetAt = candidate;
        b.sendBy = sendBy;
        if (shared) {
          b.tokens = 0;
          b.windowId = undefined;
          b.publishing = true;
          const owner = b;
          void shared.publishProbe(fromId, b.id, template, info.bucket, {
            limit: info.limit,
            remaining: info.remaining,
            resetAt: candidate,
            sendBy,
            windowMs: b.windowMs,
          }).finally(() => {
            owner.publishing = false;
            owner.kick();
          });
        } else {
          b.tokens = Math.max(0, info.remaining);
        }
      } else if (
        sameWindow && b.resetAt !== undefined && candidate > b.resetAt + b.windowMs / 2
      ) {
        // It reached Discord after this window ended, so it opened (and counts in) the next one.
        b.#markLate(ticket, sentAt);
      } else if (sameWindow) {
        if (!shared) b.tokens = Math.min(b.tokens, Math.max(0, info.remaining));
        b.resetAt = b.resetAt === undefined ? candidate : Math.min(b.resetAt, candidate);
        b.sendBy = Math.min(b.sendBy ?? Infinity, sendBy);
        if (shared && b.ownsWindow && !b.resetPublished && b.windowId) {
          b.resetPublished = true;
          void shared.publishReset(b.id, b.windowId, b.resetAt, b.sendBy);
        }
      } else if (!shared && ticket.bucket !== b) {
        // Sent through a queue that has since been merged into this one: be conservative.
        b.tokens = Math.min(b.tokens, Math.max(0, info.remaining));
      }
    } else if (info && status < 500 && status !== 429 && !b.known && !info.global) {
      b.unlimited = true;
      if (shared) void shared.publishUnlimited(b.id);
    }
    b.kick();
    return b;
  }

  /**
   * The request holding `ticket` goes out now. A slot kept past the window's `sendBy` (the client
   * stalled after granting it) may reach Discord in the next window: it is carried into it. A
   * slot of a window the bucket has since left counts in the current one.
   */
  sent(ticket: Ticket, at: number): void {
    ticket.sentAt = at;
    const b = ticket.bucket.owner;
    if (b.unlimited || ticket.probe || !b.known || ticket.late) return;
    b.#anchor(ticket, at);
    if (ticket.bucket !== b || ticket.gen !== b.gen) {
      ticket.late = true;
      if (b.tokens > 0) b.tokens--;
      else if (b.#shared && ticket.windowId) void b.#shared.noteLate(b.id, ticket.windowId, at);
    } else if (b.sendBy !== undefined && at >= b.sendBy) {
      b.#markLate(ticket, at);
    }
  }

  /**
   * The first request sent in a window this bucket opened (provisionally, in shared state) starts
   * Discord's window: when it goes out late (a wait for the global limit, a stalled loop), the
   * provisional end moves with it, or the next window would open while Discord's still runs.
   */
  #anchor(ticket: Ticket, at: number): void {
    const shared = this.#shared;
    if (
      !shared || !this.ownsWindow || this.resetPublished || !ticket.windowId ||
      ticket.windowId !== this.windowId || this.#anchored === this.windowId
    ) return;
    this.#anchored = this.windowId;
    const end = at + this.windowMs + shared.provisionalSlackMs;
    if (this.resetAt === undefined || end <= this.resetAt) return;
    this.resetAt = end;
    void shared.anchorWindow(this.id, this.windowId, end);
  }

  #markLate(ticket: Ticket, sentAt: number): void {
    if (ticket.late) return;
    ticket.late = true;
    const shared = this.#shared;
    if (shared && ticket.windowId) {
      void shared.noteLate(this.id, ticket.windowId, sentAt);
    } else if (!shared) {
      this.carry++;
      this.carryFrom = Math.min(this.carryFrom, sentAt);
    }
  }

  /** Rejects everything queued (client closed, or the loop failed). */
  rejectAll(err: unknown): void {
    const entries = this.queue;
    this.queue = [];
    for (const e of entries) {
      if (!e.settled) {
        e.settled = true;
        e.reject(err);
      }
    }
    this.#waker.wake();
  }

  stats(): {
    queued: number;
    inflight: number;
    limit: number | null;
    remaining: number | null;
    resetAt: number | null;
    pausedUntil: number | null;
  } {
    const now = this.host.clock.now();
    return {
      queued: this.queued,
      inflight: this.inflight,
      limit: this.known ? this.limit : null,
      remaining: this.known && !this.unlimited ? this.tokens : null,
      resetAt: this.resetAt !== undefined && this.resetAt > now ? this.resetAt : null,
      pausedUntil: this.pausedUntil > now ? this.pausedUntil : null,
    };
  }

  async #run(): Promise<void> {
    const host = this.host;
    this.#running = true;
    try {
      while (!host.closed.aborted && !this.mergedInto) {
        this.#dropSettled();
        if (this.queue.length === 0) break;
        let now = host.clock.now();
        const paused = host.guard.pausedUntil();
        if (paused > now) {
          this.#rejectImpatient(paused - now, paused);
          if (this.queue.length === 0) break;
          await this.#waker.wait(paused - now);
          continue;
        }
        const wait = await this.#room(now);
        if (this.mergedInto || host.closed.aborted) break;
        if (wait < 0) {
          // Re-evaluate right away, but never spin.
          if (++this.#rechecks > 8) {
            this.#rechecks = 0;
            await this.#waker.wait(1);
          }
          continue;
        }
        this.#rechecks = 0;
        if (wait > 0) {
          await this.#waker.wait(wait);
          continue;
        }
        this.#dropSettled();
        const head = this.queue[0];
        if (!head) break;
        if (!head.exempt) {
          // A window's send-by time bounds the wait for a global slot; a past or absent one does
          // not (the checks below decide that window).
          const deadline =
            !this.unlimited && this.sendBy !== undefined && this.sendBy > host.clock.now()
              ? this.sendBy
              : Infinity;
          const inTime = await host.global.acquire(host.closed, this.#ready(), deadline);
          if (this.mergedInto || host.closed.aborted) break;
          now = host.clock.now();
          if (!inTime) {
            // No global slot before this window closes: wait for the window's end.
            await this.#waker.wait(Math.max(1, (this.sendBy ?? now) - now));
            continue;
          }
          if (host.guard.pausedUntil() > now || !this.#sendableNow(now)) {
            host.global.unused?.();
            continue;
          }
        }
        this.#dropSettled();
        const entry = this.queue.shift();
        if (!entry) break;
        entry.settled = true;
        entry.resolve(this.#take());
      }
    } catch (err) {
      if (!host.closed.aborted) host.onLoopError(this, err);
    } finally {
      this.#running = false;
    }
    if (!host.closed.aborted && !this.mergedInto && this.queue.some((e) => !e.settled)) {
      this.kick();
    }
  }

  #take(): Ticket {
    this.inflight++;
    const probe = !this.known && !this.unlimited;
    if (!this.unlimited) this.tokens = Math.max(0, this.tokens - 1);
    // The window's first request opens it server-side no earlier than now (shared windows carry
    // their own sendBy).
    if (
      !probe && !this.unlimited && !this.#shared && this.sendBy === undefined && this.windowMs > 0
    ) {
      this.sendBy = this.host.clock.now() + this.windowMs - this.host.marginMs;
    }
    const ticket: Ticket = { bucket: this, gen: this.gen, probe, windowId: this.windowId };
    this.#live.add(ticket);
    return ticket;
  }

  /** The window ends: its unanswered requests may have reached Discord in the next one. */
  #carryUnanswered(): Ticket[] {
    const out: Ticket[] = [];
    for (const t of this.#live) {
      if (t.gen === this.gen && !t.late && !t.probe) out.push(t);
    }
    return out;
  }

  /** 0: send now; > 0: wait that long (Infinity: until woken); RECHECK: state changed, recheck. */
  async #room(now: number): Promise<number> {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    if (this.unlimited) return 0;
    if (this.publishing) return Infinity;
    const shared = this.#shared;
    if (shared) {
      if (this.#sharedTokensValid(now)) return 0;
      // Too late in the window we hold: wait for its end rather than reserve more of it.
      if (
        this.windowId !== undefined && this.resetAt !== undefined && now < this.resetAt &&
        this.sendBy !== undefined && now >= this.sendBy
      ) return this.resetAt - now;
      return await this.#reserve(shared);
    }
    return this.#localRoom(now);
  }

  /** Requests of this queue that could go back to back now: a batching hint for the global gate. */
  #ready(): number {
    let queued = 0;
    for (const e of this.queue) {
      if (!e.settled && !e.exempt && ++queued >= 10) break;
    }
    if (this.unlimited) return queued;
    return Math.max(1, Math.min(queued, this.known ? this.tokens : 1));
  }

  /** Synchronous re-check after waiting for the global limiter. */
  #sendableNow(now: number): boolean {
    if (now < this.pausedUntil) return false;
    if (this.unlimited) return true;
    if (this.publishing) return false;
    if (this.#shared) return this.#sharedTokensValid(now);
    return this.#localRoom(now) === 0;
  }

  #sharedTokensValid(now: number): boolean {
    return this.tokens > 0 && this.windowId !== undefined && this.resetAt !== undefined &&
      now < this.resetAt && (this.sendBy === undefined || now < this.sendBy);
  }

  #localRoom(now: number): number {
    if (!this.known) return this.inflight === 0 ? 0 : Infinity;
    if (this.resetAt !== undefined && now >= this.resetAt) {
      for (const t of this.#carryUnanswered()) this.#markLate(t, t.sentAt ?? now);
      this.gen++;
      this.tokens = Math.max(0, this.limit - this.carry);
      // Carried requests opened the new server window as early as the first of them was sent.
      this.sendBy = this.carry > 0
        ? this.carryFrom + this.windowMs - this.host.marginMs
        : undefined;
      this.resetAt = this.tokens === 0 ? now + this.windowMs + this.host.marginMs : undefined;
      this.carry = 0;
      this.carryFrom = Infinity;
      this.windowId = undefined;
      this.lastAnswerAt = undefined;
    }
    if (this.tokens > 0 && (this.sendBy === undefined || now < this.sendBy)) return 0;
    if (this.resetAt !== undefined) return this.resetAt - now;
    if (this.inflight > 0) return Infinity;
    // The window is spent but none of its answers carried headers (5xx pages, network errors):
    // its server window started no later than the last answer, so it is surely over a full
    // window after it.
    if (this.windowMs > 0 && this.lastAnswerAt !== undefined) {
      this.resetAt = this.lastAnswerAt + this.windowMs + this.host.marginMs;
      return Math.max(0, this.resetAt - now);
    }
    // Nothing learned at all: probe again.
    this.known = false;
    return 0;
  }

  async #reserve(shared: SharedState): Promise<number> {
    const want = this.known
      ? Math.min(this.limit, Math.max(this.queued, Math.ceil(this.limit / 4)))
      : 1;
    const res: ReserveResult | null = await shared.reserve({
      id: this.id,
      template: this.template,
      hashKnown: this.hash !== undefined,
      want: Math.max(1, want),
      limit: this.known ? this.limit : 0,
      windowMs: this.windowMs,
    });
    if (this.mergedInto) return RECHECK;
    const now = this.host.clock.now();
    if (!res) return this.#localRoom(now);
    this.host.adoptPauses(res.globalUntil, res.invalidUntil);
    switch (res.kind) {
      case "relocate":
        this.host.learnHash(this, this.template, res.hash);
        return RECHECK;
      case "unlimited":
        this.unlimited = true;
        return RECHECK;
      case "contended":
        return 2 + Math.floor(this.host.random() * 20);
      case "grant": {
        const rec = res.record;
        if (rec.limit > 0 && !rec.probing) {
          this.known = true;
          this.limit = rec.limit;
          this.windowMs = Math.max(this.windowMs, rec.windowMs);
        }
        if (now < this.pausedUntil) return RECHECK;
        if (res.granted > 0) {
          let unanswered: Ticket[] = [];
          if (rec.windowId !== this.windowId) {
            unanswered = this.#carryUnanswered();
            this.gen++;
            this.lastAnswerAt = undefined;
            this.windowId = rec.windowId;
            this.resetAt = rec.resetAt;
            this.sendBy = rec.sendBy;
            this.ownsWindow = res.opened;
            this.resetPublished = false;
            this.tokens = 0;
          } else {
            this.resetAt = Math.min(this.resetAt ?? Infinity, rec.resetAt);
            this.sendBy = Math.min(this.sendBy ?? Infinity, rec.sendBy ?? Infinity);
          }
          this.tokens += res.granted;
          // Each may count in the window just granted: it takes one of its slots.
          for (const t of unanswered) {
            t.late = true;
            if (this.tokens > 0) this.tokens--;
            else if (t.windowId) void shared.noteLate(this.id, t.windowId, t.sentAt ?? now);
          }
          if (res.probe) this.known = false;
          return RECHECK;
        }
        const until = rec.resetAt - now;
        return Math.max(
          1,
          rec.probing || rec.provisional ? Math.min(until, this.host.pollMs) : until,
        );
      }
    }
  }

  #dropSettled(): void {
    if (this.queue.length && this.queue[0].settled) {
      this.queue = this.queue.filter((e) => !e.settled);
    }
  }

  #rejectImpatient(waitMs: number, until: number): void {
    let dropped = false;
    for (const e of this.queue) {
      if (!e.settled && e.maxPauseWaitMs < waitMs) {
        e.settled = true;
        e.reject(e.pausedError(until));
        dropped = true;
      }
    }
    if (dropped) this.queue = this.queue.filter((e) => !e.settled);
  }
}
