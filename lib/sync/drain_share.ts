/**
 * When the global limit binds, pages are sized so their writes drain in a share of SYNC_FRESH_MS:
 * every PATCH then goes out from roles read inside the window, with no re-read. The rest of the
 * window covers the page's fetch and scoring and the lead queued ahead of it. The share starts
 * low, grows while PATCHes go out well inside the window and halves as soon as one had to be
 * re-read (writes drained slower than planned: a busy CPU, other traffic on the global limit).
 * Bigger pages cost fewer list calls; a re-read costs a call and a round trip.
 */
export const DRAIN_SHARE = { start: 0.3, min: 0.1, max: 0.6, step: 0.05, young: 0.7 };

export class DrainShare {
  #share = DRAIN_SHARE.start;
  #rereads = 0;
  #oldestMs = 0;

  constructor(private readonly freshMs: number) {}

  /** A PATCH went out from roles read `ageMs` ago. */
  observe(ageMs: number): void {
    this.#oldestMs = Math.max(this.#oldestMs, ageMs);
  }

  /** A PATCH had to re-read the member first. */
  reread(): void {
    this.#rereads++;
  }

  /** The share for the next page, from what happened since the last call. */
  next(): number {
    if (this.#rereads > 0) {
      this.#share = Math.max(DRAIN_SHARE.min, this.#share / 2);
    } else if (this.#oldestMs < DRAIN_SHARE.young * this.freshMs) {
      this.#share = Math.min(DRAIN_SHARE.max, this.#share + DRAIN_SHARE.step);
    }
    this.#rereads = 0;
    this.#oldestMs = 0;
    return this.#share;
  }
}
