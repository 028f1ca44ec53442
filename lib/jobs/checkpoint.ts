/**
 * Checkpoints over work that finishes out of order. A long job hands its items to concurrent
 * writers (lanes, workers), so they complete in any order, yet a checkpoint keeps one cursor: it
 * may only move over a contiguous run of finished items, or a resumed chunk would pass over one
 * still in flight. The role sync and the backup restore both keep their progress this way; what
 * they commit for the items (counters, cursor, notes) stays theirs. The progress they report is
 * the one shape in progress.ts.
 */
import type { Clock } from "../clock.ts";

export interface CheckpointTrackerOptions<T> {
  clock: Clock;
  /** Whether an item is finished (the tracker never marks items itself). */
  isDone(item: T): boolean;
  /** A checkpoint is due this long after the last one... */
  everyMs: number;
  /** ...or once this many finished items wait for one (default: time only). */
  everyItems?: number;
}

export class CheckpointTracker<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #last: number;
  #commits: Promise<void> = Promise.resolve();

  constructor(private readonly o: CheckpointTrackerOptions<T>) {
    this.#last = o.clock.now();
  }

  /** Adds an item at the end of the walk order. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Items pushed and not taken yet: in flight, or finished behind one that is not. */
  get open(): number {
    return this.#items.length - this.#head;
  }

  /** The items that joined the finished prefix since the last call, in walk order. */
  take(): T[] {
    const out: T[] = [];
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!;
      if (!this.o.isDone(item)) break;
      // Dropped as taken: a chunk walks far more items than it keeps in flight.
      this.#items[this.#head++] = undefined;
      out.push(item);
    }
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /** Whether a checkpoint is due, with `waiting` finished items not committed yet. */
  due(waiting = 0): boolean {
    return this.o.clock.now() - this.#last >= this.o.everyMs ||
      waiting >= (this.o.everyItems ?? Infinity);
  }

  /** Notes that a checkpoint is taken at `at`: the next is due `everyMs` later. */
  mark(at: number = this.o.clock.now()): void {
    this.#last = at;
  }

  /**
   * Runs `commit` once the ones before it are done: two commits at once could record the same
   * stretch twice. A commit that fails fails every later one, so none lands past a lost one.
   */
  commit(commit: () => Promise<void>): Promise<void> {
    this.#commits = this.#commits.then(commit);
    return this.#commits;
  }
}
