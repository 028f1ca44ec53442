/**
 * Ethos scores of Discord users plus the time each last changed, kept in change order so the
 * updates feed is a binary search rather than a scan.
 */
export interface ScoreUpdate {
  userId: string;
  /** Epoch ms. */
  at: number;
}

export class ScoreBook {
  #scores = new Map<string, number>();
  #updatedAt = new Map<string, number>();
  /** Every user whose score was ever set or removed, ascending by (at, userId). */
  #log: ScoreUpdate[] = [];

  get size(): number {
    return this.#scores.size;
  }

  get(userId: string): number | undefined {
    return this.#scores.get(userId);
  }

  has(userId: string): boolean {
    return this.#scores.has(userId);
  }

  /** Epoch ms of the last change, kept after a removal so the feed reports it. */
  lastUpdatedAt(userId: string): number | undefined {
    return this.#updatedAt.get(userId);
  }

  entries(): IterableIterator<[string, number]> {
    return this.#scores.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.#scores.entries();
  }

  /** Sets (or with null removes) a score, stamping the change at `at`. */
  set(userId: string, score: number | null, at: number): void {
    if (score === null) this.#scores.delete(userId);
    else this.#scores.set(userId, score);
    const previous = this.#updatedAt.get(userId);
    if (previous !== undefined) {
      const index = this.#lowerBound(previous, userId);
      if (this.#log[index]?.userId === userId) this.#log.splice(index, 1);
    }
    this.#updatedAt.set(userId, at);
    const last = this.#log[this.#log.length - 1];
    if (!last || compareUpdate(last.at, last.userId, at, userId) < 0) {
      this.#log.push({ userId, at });
    } else {
      this.#log.splice(this.#lowerBound(at, userId), 0, { userId, at });
    }
  }

  /** Loads many scores at once (the seed's case): one sort instead of one insert each. */
  load(entries: Iterable<{ userId: string; score: number; at: number }>): void {
    for (const e of entries) {
      this.#scores.set(e.userId, e.score);
      this.#updatedAt.set(e.userId, e.at);
    }
    this.#log = [...this.#updatedAt].map(([userId, at]) => ({ userId, at }));
    this.#log.sort((a, b) => compareUpdate(a.at, a.userId, b.at, b.userId));
  }

  /** Changes strictly after `afterMs`, oldest first, windowed by offset and limit. */
  updatedAfter(afterMs: number, offset: number, limit: number): {
    values: ScoreUpdate[];
    total: number;
  } {
    let lo = 0;
    let hi = this.#log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#log[mid].at <= afterMs) lo = mid + 1;
      else hi = mid;
    }
    const start = lo + offset;
    return { values: this.#log.slice(start, start + limit), total: this.#log.length - lo };
  }

  #lowerBound(at: number, userId: string): number {
    let lo = 0;
    let hi = this.#log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#log[mid];
      if (compareUpdate(e.at, e.userId, at, userId) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compareUpdate(aAt: number, aId: string, bAt: number, bId: string): number {
  if (aAt !== bAt) return aAt - bAt;
  return aId < bId ? -1 : aId > bId ? 1 : 0;
}
