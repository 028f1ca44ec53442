/**
 * Ethos scores cached in KV with a TTL, a shorter one for "no score". Only confirmed answers are
 * cached: a score, or a 404 from the single lookup. The expiry is kept in the value and checked
 * on read (KV's expireIn is only the earliest deletion time). Reads go 10 keys per getMany,
 * writes up to 500 per atomic commit (no checks), so the KV cost per member stays small.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";

const entrySchema = z.object({ s: z.number().nullable(), x: z.number() });

const GET_MANY = 10;
const SETS_PER_COMMIT = 500;

export interface ScoreCacheOptions {
  ttlMs: number;
  noScoreTtlMs: number;
  /** getMany calls in flight at once (default 8). */
  concurrency?: number;
}

export class ScoreCache {
  /** KV operations issued (getMany and commits), for the benchmark's per-member figure. */
  ops = 0;
  constructor(
    private readonly kv: Deno.Kv,
    private readonly clock: Clock,
    private readonly options: ScoreCacheOptions,
  ) {}

  /** Live entries: a number, or null for a confirmed "no score". Absent when not cached. */
  async getMany(userIds: readonly string[]): Promise<Map<string, number | null>> {
    const out = new Map<string, number | null>();
    if (this.options.ttlMs <= 0 && this.options.noScoreTtlMs <= 0) return out;
    const groups: string[][] = [];
    for (let i = 0; i < userIds.length; i += GET_MANY) groups.push(userIds.slice(i, i + GET_MANY));
    const now = this.clock.now();
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        const group = groups[next++];
        this.ops++;
        const entries = await this.kv.getMany(group.map((id) => keys.ethosScore(id)), {
          consistency: "eventual",
        });
        entries.forEach((e, i) => {
          const parsed = entrySchema.safeParse(e.value);
          if (parsed.success && parsed.data.x > now) out.set(group[i], parsed.data.s);
        });
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.options.concurrency ?? 8, groups.length) }, worker),
    );
    return out;
  }

  /** Stores scores (number) and confirmed "no score" (null). */
  async putMany(entries: Iterable<[string, number | null]>): Promise<void> {
    const now = this.clock.now();
    let op = this.kv.atomic();
    let n = 0;
    for (const [id, score] of entries) {
      const ttl = score === null ? this.options.noScoreTtlMs : this.options.ttlMs;
      if (ttl <= 0) continue;
      op.set(keys.ethosScore(id), { s: score, x: now + ttl }, { expireIn: Math.ceil(ttl) });
      if (++n === SETS_PER_COMMIT) {
        this.ops++;
        await op.commit();
        op = this.kv.atomic();
        n = 0;
      }
    }
    if (n > 0) {
      this.ops++;
      await op.commit();
    }
  }

  /** Forgets users (their score changed, per the Ethos updates feed). */
  async forget(userIds: readonly string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += SETS_PER_COMMIT) {
      const op = this.kv.atomic();
      for (const id of userIds.slice(i, i + SETS_PER_COMMIT)) op.delete(keys.ethosScore(id));
      this.ops++;
      await op.commit();
    }
  }
}
