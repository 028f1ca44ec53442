/**
 * The global request limit (Discord: 50 requests per second per bot, across all non-exempt routes).
 *
 * A GCRA ("virtual scheduling") limiter: each request gets the next slot `interval` ms after the
 * previous one, so requests leave evenly spaced instead of in a burst of 50 at the start of each
 * second. `slackMs` stretches each one-second window slightly (so network jitter cannot push a 51st
 * request into the server's window), and a small tolerance (half the slack, at most half an
 * interval) lets a late timer catch up without ever allowing more than `perSecond` requests in any
 * one-second window.
 *
 * A global 429 (or a global pause published by another isolate) pauses every caller until the
 * given time; callers already holding a slot re-check the pause before they go.
 */
import type { Clock } from "../clock.ts";

/** What the bucket queues need from a global limit: the in-memory one, or the KV-shared one. */
export interface GlobalGate {
  readonly perSecond: number;
  /** Epoch ms until which every non-exempt request waits (0 when not paused). */
  readonly pausedUntil: number;
  /** Pauses until `until` (extends, never shortens, a running pause). */
  pause(until: number): void;
  /**
   * Resolves true when the caller may send one request; rejects when `signal` aborts. `ready`: how
   * many requests the caller could send back to back now, this one included (a hint for
   * batching). `deadline`: the caller's bucket window takes no request after this time; when its
   * slot would come later, resolves false at once and takes nothing.
   */
  acquire(signal?: AbortSignal, ready?: number, deadline?: number): Promise<boolean>;
  /**
   * The slot just granted went unused (the caller's bucket window closed while it waited): a
   * limiter that can hand it to another caller still in time does so.
   */
  unused?(): void;
}

export interface GlobalLimiterOptions {
  perSecond: number;
  /** Extra milliseconds added to every one-second window (default 20). */
  slackMs?: number;
}

export class GlobalLimiter implements GlobalGate {
  readonly perSecond: number;
  readonly intervalMs: number;
  readonly #toleranceMs: number;
  #tat = -Infinity;
  #pausedUntil = 0;

  constructor(private readonly clock: Clock, options: GlobalLimiterOptions) {
    this.perSecond = Math.max(1, options.perSecond);
    const slack = Math.max(0, options.slackMs ?? 20);
    this.intervalMs = (1000 + slack) / this.perSecond;
    // Catch-up tolerance must stay below the slack, or a window could hold perSecond + 1.
    this.#toleranceMs = Math.min(this.intervalMs / 2, slack / 2);
  }

  /** Epoch ms until which every non-exempt request waits (0 when not paused). */
  get pausedUntil(): number {
    return this.#pausedUntil > this.clock.now() ? this.#pausedUntil : 0;
  }

  /** Pauses until `until` (extends, never shortens, a running pause). */
  pause(until: number): void {
    if (until > this.#pausedUntil) this.#pausedUntil = until;
  }

  async acquire(signal?: AbortSignal, _ready?: number, deadline = Infinity): Promise<boolean> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.#pausedUntil) {
        await this.clock.sleep(this.#pausedUntil - now, signal);
        continue;
      }
      const slot = Math.max(now, this.#tat - this.#toleranceMs);
      if (slot > deadline) return false;
      this.#tat = Math.max(this.#tat, slot) + this.intervalMs;
      if (slot > now) await this.clock.sleep(slot - now, signal);
      // A pause that began while we waited wins over the slot we held.
      if (this.clock.now() < this.#pausedUntil) continue;
      return true;
    }
  }
}
