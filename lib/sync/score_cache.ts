/**
 * Ethos scores cached in KV with a TTL, a shorter one for "no score". Only confirmed answers are
 * cached: a score, or a 404 from the single lookup. The expiry is kept in the value and checked
 * on read (KV's expireIn is only the earliest deletion time). Reads go 10 keys per getMany,
 * writes up to 500 per atomic commit (no checks), so the KV cost per member stays small.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";
import { pool } from "../pool.ts";
import type { Standing } from "./rule.ts";

/** What the profile adds to a score: validator, human, default profile, the API's level. */
const flagsSchema = z.object({
  v: z.boolean().optional(),
  h: z.boolean().optional(),
  d: z.boolean().optional(),
  l: z.string().max(32).optional(),
});
const entrySchema = z.object({
  s: z.number().nullable(),
  x: z.number(),
  f: flagsSchema.optional(),
});

/** A cached answer: the standing (flags undefined when they were not read) or "no score". */
export type CachedStanding = Standing | null;

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

  /** Live entries: a standing, or null for a confirmed "no score". Absent when not cached. */
  async getMany(userIds: readonly string[]): Promise<Map<string, CachedStanding>> {
    const out = new Map<string, CachedStanding>();
    if (this.options.ttlMs <= 0 && this.options.noScoreTtlMs <= 0) return out;
    const groups: string[][] = [];
    for (let i = 0; i < userIds.length; i += GET_MANY) groups.push(userIds.slice(i, i + GET_MANY));
    const now = this.clock.now();
    await pool(groups, this.options.concurrency ?? 8, async (group) => {
      this.ops++;
      const entries = await this.kv.getMany(group.map((id) => keys.ethosScore(id)), {
        consistency: "eventual",
      });
      entries.forEach((e, i) => {
        const parsed = entrySchema.safeParse(e.value);
        if (!parsed.success || parsed.data.x <= now) return;
        const { s: score, f } = parsed.data;
        out.set(
          group[i],
          score === null ? null : {
            score,
            ...(f?.l !== undefined ? { level: f.l } : {}),
            ...(f?.v !== undefined ? { validator: f.v } : {}),
            ...(f?.h !== undefined ? { human: f.h } : {}),
            ...(f?.d !== undefined ? { isDefault: f.d } : {}),
          },
        );
      });
    });
    return out;
  }

  /** Stores scores or standings, and confirmed "no score" (null). */
  #entry(value: number | Standing | null, now: number, ttl: number) {
    const standing = typeof value === "number" ? { score: value } : value;
    const f = standing && {
      ...(standing.validator !== undefined ? { v: standing.validator } : {}),
      ...(standing.human !== undefined ? { h: standing.human } : {}),
      ...(standing.isDefault !== undefined ? { d: standing.isDefault } : {}),
      ...(standing.level !== undefined ? { l: standing.level } : {}),
    };
    const entry = standing === null
      ? { s: null, x: now + ttl }
      : { s: standing.score, x: now + ttl, ...(f && Object.keys(f).length ? { f } : {}) };
    return entry;
  }

  async putMany(entries: Iterable<[string, number | Standing | null]>): Promise<void> {
    const now = this.clock.now();
    let op = this.kv.atomic();
    let n = 0;
    for (const [id, value] of entries) {
      const ttl = value === null ? this.options.noScoreTtlMs : this.options.ttlMs;
      if (ttl <= 0) {
        // Not cached, and an older answer must not outlive this one (a score since lost).
        op.delete(keys.ethosScore(id));
      } else {
        op.set(keys.ethosScore(id), this.#entry(value, now, ttl), { expireIn: Math.ceil(ttl) });
      }
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
