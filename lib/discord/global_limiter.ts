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

export interface GlobalLimiterOptions {
  perSecond: number;
  /** Extra milliseconds added to every one-second window (default 20). */
  slackMs?: number;
}

export class GlobalLimiter {
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

  /** Resolves when the caller may send one request; rejects when `signal` aborts. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      if (now < this.#pausedUntil) {
        await this.clock.sleep(this.#pausedUntil - now, signal);
        continue;
      }
      const slot = Math.max(now, this.#tat - this.#toleranceMs);
      this.#tat = Math.max(this.#tat, slot) + this.intervalMs;
      if (slot > now) await this.clock.sleep(slot - now, signal);
      // A pause that began while we waited wins over the slot we held.
      if (this.clock.now() < this.#pausedUntil) continue;
      return;
    }
  }
}
