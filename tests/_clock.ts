/**
 * A clock tests move by hand, so time-dependent code runs in milliseconds and the same way every
 * time. It lives with the tests: lib/ only ever receives a `Clock`, and only tests drive one.
 */
import type { Clock } from "../lib/clock.ts";

/**
 * Sleeps resolve as time passes them, earliest wake time first (ties in the order they started
 * sleeping).
 */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: { at: number; seq: number; resolve: () => void }[] = [];
  #seq = 0;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== entry);
        reject(signal!.reason);
      };
      const entry = {
        at: this.#now + ms,
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.#sleepers.push(entry);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
  after(ms: number, fn: () => void): () => void {
    const entry = { at: this.#now + Math.max(ms, 0), seq: this.#seq++, resolve: fn };
    this.#sleepers.push(entry);
    return () => {
      this.#sleepers = this.#sleepers.filter((s) => s !== entry);
    };
  }
  /** Moves time forward and wakes every sleeper whose time has come, in wake-time order. */
  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((s) => s.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#now);
    due.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const s of due) s.resolve();
  }
  set(epochMs: number): void {
    this.advance(epochMs - this.#now);
  }
  /** How many sleeps are waiting; lets tests wait until code under test has gone to sleep. */
  get pending(): number {
    return this.#sleepers.length;
  }
}
