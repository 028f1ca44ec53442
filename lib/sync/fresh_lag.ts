/**
 * The freshness lag: seconds from Ethos's `lastUpdatedAt` of a score change to the bot's write
 * (or its finding that the roles were already right), per member and guild. Kept per minute in
 * KV for two hours (a sample of up to 300 per minute, plus count, sum and max), so the status
 * page can chart the last hour and the alert can read the p95 of the last 15 minutes whichever
 * isolate ran the passes.
 */
import { z } from "zod";

const KEEP_MS = 2 * 3_600_000;
const SAMPLE = 300;
const MINUTE = 60_000;

const minuteSchema = z.object({
  n: z.number(),
  sum: z.number(),
  max: z.number(),
  sample: z.array(z.number()),
});
type Minute = z.infer<typeof minuteSchema>;

export const lagKeys = {
  minute: (at: number): Deno.KvKey => ["fresh", "lag", Math.floor(at / MINUTE) * MINUTE],
  all: (): Deno.KvKey => ["fresh", "lag"],
};

/** Adds lag samples (seconds) to the current minute. */
export async function recordLags(kv: Deno.Kv, now: number, lags: readonly number[]): Promise<void> {
  if (lags.length === 0) return;
  const key = lagKeys.minute(now);
  for (let attempt = 0; attempt < 10; attempt++) {
    const e = await kv.get(key);
    const parsed = minuteSchema.safeParse(e.value);
    const m: Minute = parsed.success ? parsed.data : { n: 0, sum: 0, max: 0, sample: [] };
    for (const lag of lags) {
      m.n++;
      m.sum += lag;
      m.max = Math.max(m.max, lag);
      // Reservoir sampling: every lag of the minute equally likely to be kept.
      if (m.sample.length < SAMPLE) m.sample.push(lag);
      else {
        const j = Math.floor(Math.random() * m.n);
        if (j < SAMPLE) m.sample[j] = lag;
      }
    }
    if ((await kv.atomic().check(e).set(key, m, { expireIn: KEEP_MS }).commit()).ok) return;
  }
}

export interface LagStats {
  n: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface LagMinute extends LagStats {
  at: number;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function stats(sample: number[], n: number, max: number | null): LagStats {
  const s = [...sample].sort((a, b) => a - b);
  return { n, p50: percentile(s, 0.5), p95: percentile(s, 0.95), max };
}

/**
 * Per minute over the last `minutes` (oldest first, empty minutes included), and overall;
 * `values` is the whole window's sample, each minute weighted by its count.
 */
export async function readLags(
  kv: Deno.Kv,
  now: number,
  minutes: number,
): Promise<{ minutes: LagMinute[]; all: LagStats; values: number[] }> {
  const from = Math.floor(now / MINUTE) * MINUTE - (minutes - 1) * MINUTE;
  const byAt = new Map<number, Minute>();
  for await (
    const e of kv.list({ start: [...lagKeys.all(), from], end: [...lagKeys.all(), now + MINUTE] })
  ) {
    const parsed = minuteSchema.safeParse(e.value);
    if (parsed.success && typeof e.key[2] === "number") byAt.set(e.key[2], parsed.data);
  }
  const out: LagMinute[] = [];
  const all: number[] = [];
  let n = 0;
  let max: number | null = null;
  for (let at = from; at <= now; at += MINUTE) {
    const m = byAt.get(at);
    if (!m) {
      out.push({ at, n: 0, p50: null, p95: null, max: null });
      continue;
    }
    out.push({ at, ...stats(m.sample, m.n, m.max) });
    // Each minute weighs by its count, not by its sample's size.
    const w = m.n / Math.max(1, m.sample.length);
    for (const v of m.sample) for (let k = 0; k < Math.round(w); k++) all.push(v);
    n += m.n;
    max = max === null ? m.max : Math.max(max, m.max);
  }
  return { minutes: out, all: stats(all, n, max), values: all };
}
