/** Seeded fault injection: a share of answers become 500 or 502, plus optional latency. */
import { Prng } from "./prng.ts";

export interface FaultOptions {
  /** Share (0..1) of eligible responses replaced by a 500 or 502. */
  errorRate?: number;
  /** Delay added to every Discord response, ms. */
  latencyMs?: number;
  seed?: number;
}

export class FaultInjector {
  errorRate: number;
  latencyMs: number;
  #prng: Prng;

  constructor(options: FaultOptions = {}, seed = 1) {
    this.errorRate = options.errorRate ?? 0;
    this.latencyMs = options.latencyMs ?? 0;
    this.#prng = new Prng(options.seed ?? seed);
  }

  set(options: { errorRate?: number; latencyMs?: number }): void {
    if (options.errorRate !== undefined) this.errorRate = options.errorRate;
    if (options.latencyMs !== undefined) this.latencyMs = options.latencyMs;
  }

  /** 0 for a normal answer, else the status to fail with. */
  roll(): 0 | 500 | 502 {
    if (this.errorRate <= 0) return 0;
    if (this.#prng.next() >= this.errorRate) return 0;
    return this.#prng.chance(0.5) ? 500 : 502;
  }
}
