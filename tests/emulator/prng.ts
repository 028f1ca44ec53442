/**
 * Seeded pseudo-random numbers (mulberry32), so a seed reproduces a whole emulated world and
 * every injected fault. Not for anything security related.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    // Mix the seed once so nearby seeds (1, 2, 3...) still start far apart.
    this.#state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Roughly normal (sum of uniforms), for bell-shaped score distributions. */
  normal(mean: number, spread: number): number {
    const u = this.next() + this.next() + this.next() + this.next() - 2;
    return mean + u * spread;
  }

  /** A derived generator, so adding draws to one stream never shifts another. */
  fork(salt: number): Prng {
    return new Prng((this.int(0x7fffffff) ^ Math.imul(salt, 0x27d4eb2d)) >>> 0);
  }
}
