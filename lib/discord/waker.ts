/**
 * A sleep that something else can cut short: a bucket's dispatch loop waits for its window's reset
 * or for a response, whichever comes first. A wake with nobody waiting is remembered, so a
 * response that lands between the loop's check and its sleep is not lost.
 */
import type { Clock } from "../clock.ts";

export class Waker {
  #wake: (() => void) | null = null;
  #pending = false;
  constructor(private readonly clock: Clock) {}

  /** Sleeps `ms` (Infinity: until woken) unless woken first, or a wake is pending already. */
  async wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    if (ms <= 0) return;
    const ctl = new AbortController();
    const woken = new Promise<void>((resolve) => (this.#wake = resolve));
    try {
      if (Number.isFinite(ms)) {
        await Promise.race([this.clock.sleep(ms, ctl.signal).catch(() => {}), woken]);
      } else {
        await woken;
      }
    } finally {
      this.#wake = null;
      ctl.abort();
    }
  }

  /** Ends the current wait, or the next one at once when nobody waits. */
  wake(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
}
