/**
 * Write lanes: one per Discord write bucket (member PATCH, member role PUT/DELETE). A lane sends
 * its tasks evenly spaced at the bucket's rate (limit / window) and keeps only a few in flight, so
 * a request is built right before the bucket can take it and never sits in the REST client's
 * queue waiting for a window reset; that is what lets a PATCH be computed from roles read seconds
 * before. The REST client still enforces every limit (buckets, global, invalid requests): the
 * lanes only decide *when* to hand it work.
 */
import type { Clock } from "../clock.ts";

/**
 * Evenly spaced slots at a fixed interval, shared by whoever calls `acquire` (GCRA virtual
 * scheduling): each caller gets the next free slot, and a slot nobody took is not handed out
 * twice.
 */
export class Pacer {
  #next = -Infinity;
  constructor(private readonly clock: Clock, public intervalMs: number) {}

  async acquire(signal: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.intervalMs;
    if (at > now) await this.clock.sleep(at - now, signal);
  }
}

export interface LaneOptions<T> {
  name: string;
  /** Milliseconds between two sends (window / limit). */
  intervalMs: number;
  /** A pacer shared with the other lane: the global limit, so lanes never queue in the client. */
  global?: Pacer;
  maxInFlight: number;
  clock: Clock;
  /** Aborted: take no new task (in-flight ones finish). */
  signal: AbortSignal;
  exec(task: T): Promise<void>;
}

export class Lane<T> {
  readonly name: string;
  #queue: T[] = [];
  #head = 0;
  #inFlight = 0;
  #lastAt = -Infinity;
  #closed = false;
  #wake: (() => void) | null = null;
  #slotFree: (() => void) | null = null;
  #running: Promise<void> | null = null;
  #tasks = new Set<Promise<void>>();
  sent = 0;

  #intervalMs: number;
  #maxInFlight: number;

  constructor(private readonly o: LaneOptions<T>) {
    this.name = o.name;
    this.#intervalMs = o.intervalMs;
    this.#maxInFlight = o.maxInFlight;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Re-paces the lane (a bucket's real limit was learned). */
  setIntervalMs(ms: number): void {
    if (ms > 0 && Number.isFinite(ms)) this.#intervalMs = ms;
  }

  /** How many tasks may be in flight at once (follows the pace). */
  setMaxInFlight(n: number): void {
    if (n >= 1 && Number.isFinite(n)) this.#maxInFlight = n;
    this.#slotFree?.();
  }

  /** Tasks waiting (not yet handed to the REST client). */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  push(task: T): void {
    this.#queue.push(task);
    this.#wake?.();
  }

  /** No more tasks will come: run() resolves once the queue is empty and in-flight done. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Drops the tasks not yet started (on stop); returns them. */
  drain(): T[] {
    const left = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    return left;
  }

  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    const { clock, signal } = this.o;
    const onAbort = () => {
      this.#wake?.();
      this.#slotFree?.();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for (;;) {
        if (signal.aborted) break;
        if (this.queued === 0) {
          if (this.#closed) break;
          await new Promise<void>((r) => (this.#wake = r));
          this.#wake = null;
          continue;
        }
        while (this.#inFlight >= this.#maxInFlight && !signal.aborted) {
          await new Promise<void>((r) => (this.#slotFree = r));
          this.#slotFree = null;
        }
        if (signal.aborted) break;
        const now = clock.now();
        const at = Math.max(now, this.#lastAt + this.#intervalMs);
        if (at > now) {
          try {
            await clock.sleep(at - now, signal);
          } catch {
            break;
          }
        }
        this.#lastAt = at;
        if (this.o.global) {
          try {
            await this.o.global.acquire(signal);
          } catch {
            break;
          }
        }
        // drain() may have emptied the queue during a wait: look again before taking.
        if (this.queued === 0) continue;
        const task = this.#queue[this.#head++];
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
        this.#inFlight++;
        this.sent++;
        const p = this.o.exec(task).catch(() => {}).finally(() => {
          this.#inFlight--;
          this.#tasks.delete(p);
          this.#slotFree?.();
        });
        this.#tasks.add(p);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    await Promise.all([...this.#tasks]);
  }
}
