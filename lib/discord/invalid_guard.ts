/**
 * The invalid-request guard. Discord bans an IP for an hour after 10,000 invalid requests (401,
 * 403 and 429 responses, except 429s with scope `shared`) in 10 minutes. We count them in a sliding
 * window of per-second buckets (at most 600 entries, O(1) amortised per event) and, once the count
 * reaches the configured limit, pause every request until enough old entries slide out of the
 * window to bring the count back under the limit.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";

export interface InvalidGuardOptions {
  limit: number;
  windowMs?: number;
  log?: Logger;
  /** Called when the guard trips (after the warn line). */
  onTrip?: (count: number, until: number) => void;
}

export class InvalidRequestGuard {
  readonly limit: number;
  readonly windowMs: number;
  readonly #slots: { second: number; count: number }[] = [];
  #head = 0;
  #total = 0;
  #pausedUntil = 0;
  /** A pause learned from elsewhere (another isolate through KV). */
  #externalUntil = 0;

  constructor(private readonly clock: Clock, private readonly options: InvalidGuardOptions) {
    this.limit = Math.max(1, options.limit);
    this.windowMs = options.windowMs ?? 600_000;
  }

  /** Invalid responses counted in the current window. */
  used(): number {
    this.#evict(this.clock.now());
    return this.#total;
  }

  /** Epoch ms until which all requests are paused, or 0. */
  pausedUntil(): number {
    const now = this.clock.now();
    const until = Math.max(this.#pausedUntil, this.#externalUntil);
    if (until > now) return until;
    if (this.#pausedUntil !== 0) {
      // The pause ran out; if late responses kept the count high, pause again.
      this.#pausedUntil = 0;
      this.#evict(now);
      if (this.#total >= this.limit) this.#trip(now);
      if (this.#pausedUntil > now) return this.#pausedUntil;
    }
    return 0;
  }

  /** Adopts a pause decided elsewhere (no log line: the isolate that tripped logged it). */
  adoptPause(until: number): void {
    if (until > this.#externalUntil) this.#externalUntil = until;
  }

  /** Counts one invalid response. Returns true when this call tripped the guard. */
  record(): boolean {
    const now = this.clock.now();
    this.#evict(now);
    const second = Math.floor(now / 1000);
    const last = this.#slots[this.#slots.length - 1];
    if (last && last.second === second && this.#slots.length > this.#head) last.count++;
    else this.#slots.push({ second, count: 1 });
    this.#total++;
    if (this.#total < this.limit) return false;
    const wasPaused = this.#pausedUntil > now;
    this.#trip(now);
    return !wasPaused;
  }

  #trip(now: number): void {
    // Find when the count falls below the limit: drop the oldest seconds until it does.
    let remaining = this.#total;
    let until = now;
    for (let i = this.#head; i < this.#slots.length && remaining >= this.limit; i++) {
      remaining -= this.#slots[i].count;
      until = this.#slots[i].second * 1000 + this.windowMs + 1000;
    }
    const wasPaused = this.#pausedUntil > now;
    this.#pausedUntil = Math.max(this.#pausedUntil, until);
    if (!wasPaused) {
      this.options.log?.warn(
        `invalid-request guard tripped: ${this.#total} invalid responses (401/403/429) in the last ${
          Math.round(this.windowMs / 1000)
        }s reached the limit of ${this.limit}; pausing all Discord requests until ${
          new Date(this.#pausedUntil).toISOString()
        }`,
        { count: this.#total, limit: this.limit, until: new Date(this.#pausedUntil).toISOString() },
      );
      this.options.onTrip?.(this.#total, this.#pausedUntil);
    }
  }

  #evict(now: number): void {
    // An entry for second s covers [s*1000, s*1000+1000) and leaves the window once that whole
    // second is older than windowMs.
    const oldestKept = now - this.windowMs;
    while (this.#head < this.#slots.length) {
      const slot = this.#slots[this.#head];
      if (slot.second * 1000 + 1000 > oldestKept) break;
      this.#total -= slot.count;
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > this.#slots.length) {
      this.#slots.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
