/**
 * Scores for a batch of members: the KV cache first, then Ethos in bulk, then the single lookup
 * for userkeys missing from the bulk answer, but only for members who would lose managed roles
 * (nobody loses a role for "no score" without a confirming 404). A failing Ethos yields "error"
 * for the members concerned: the rule skips them, never strips them.
 */
import type { EthosClient } from "./ethos.ts";
import type { ScoreCache } from "./score_cache.ts";
import type { ScoreInput } from "./rule.ts";

export interface ScoreRequest {
  id: string;
  /** The member holds managed roles, so "no score" must be confirmed before acting on it. */
  holdsManaged: boolean;
}

export interface ScoreStats {
  cacheHits: number;
  bulkAsked: number;
  singleLookups: number;
  failures: number;
}

export function emptyScoreStats(): ScoreStats {
  return { cacheHits: 0, bulkAsked: 0, singleLookups: 0, failures: 0 };
}

export async function resolveScores(
  requests: readonly ScoreRequest[],
  deps: { ethos: EthosClient; cache: ScoreCache },
  opts: { fresh?: boolean; signal?: AbortSignal; stats?: ScoreStats; concurrency?: number } = {},
): Promise<Map<string, ScoreInput>> {
  const out = new Map<string, ScoreInput>();
  if (requests.length === 0) return out;
  const stats = opts.stats ?? emptyScoreStats();
  const ids = requests.map((r) => r.id);
  const cached = opts.fresh ? new Map<string, number | null>() : await deps.cache.getMany(ids);
  for (const [id, s] of cached) out.set(id, s);
  stats.cacheHits += cached.size;
  const misses = ids.filter((id) => !cached.has(id));
  if (misses.length === 0) return out;

  stats.bulkAsked += misses.length;
  const bulk = await deps.ethos.scores(misses, opts.signal);
  const store: [string, number | null][] = [];
  for (const [id, s] of bulk.scores) {
    out.set(id, s.score);
    store.push([id, s.score]);
  }
  for (const id of bulk.failed) {
    out.set(id, "error");
    stats.failures++;
  }
  const byId = new Map(requests.map((r) => [r.id, r]));
  const confirm: string[] = [];
  for (const id of misses) {
    if (out.has(id)) continue;
    if (byId.get(id)?.holdsManaged) confirm.push(id);
    else out.set(id, null); // holds nothing managed: "no score" changes nothing, no need to ask
  }
  let next = 0;
  const worker = async () => {
    while (next < confirm.length) {
      const id = confirm[next++];
      stats.singleLookups++;
      try {
        const s = await deps.ethos.score(id, opts.signal);
        out.set(id, s ? s.score : null);
        store.push([id, s ? s.score : null]);
      } catch (error) {
        opts.signal?.throwIfAborted();
        void error;
        out.set(id, "error");
        stats.failures++;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency ?? 4, confirm.length) }, worker),
  );
  if (store.length) await deps.cache.putMany(store);
  return out;
}
