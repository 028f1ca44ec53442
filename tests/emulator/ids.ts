/** Snowflake helpers: Discord ids are unsigned 64-bit integers sent as decimal strings. */

export const DISCORD_EPOCH_MS = 1420070400000;

const SNOWFLAKE = /^\d{1,20}$/;
const MAX_SNOWFLAKE = (1n << 64n) - 1n;

export function isSnowflake(value: unknown): value is string {
  return typeof value === "string" && SNOWFLAKE.test(value) && BigInt(value) <= MAX_SNOWFLAKE;
}

/** Canonical form ("007" -> "7") so string comparison matches numeric order. */
export function normalizeId(id: string): string {
  return BigInt(id).toString();
}

/**
 * Numeric order of canonical decimal ids without BigInt: a longer id is larger, equal lengths
 * compare as strings. This keeps member paging cheap.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function snowflakeAt(ms: number, increment: number): string {
  return ((BigInt(ms - DISCORD_EPOCH_MS) << 22n) | BigInt(increment & 0x3fffff)).toString();
}

export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS;
}

/**
 * Hands out increasing snowflakes from a fixed start time, independent of the wall clock, so
 * roles, channels, commands and messages get the same ids on every run.
 */
export class IdAllocator {
  #ms: number;
  #increment = 0;

  constructor(startMs = Date.UTC(2024, 5, 1)) {
    this.#ms = startMs;
  }

  next(): string {
    if (this.#increment >= 4096) {
      this.#ms += 1;
      this.#increment = 0;
    }
    return snowflakeAt(this.#ms, this.#increment++);
  }
}
