/**
 * Scores for a batch of members: the KV cache first, then Ethos in bulk, then the single lookup
 * for userkeys missing from the bulk answer, but only for members who would lose managed roles
 * (nobody loses a role for "no score" without a confirming 404). When the rules use them, the
 * profile flags (validator, human, default profile) of scored members come from a second bulk
 * call (`/users/by/discord`, 500 per call) and are cached with the score. A failing Ethos yields
 * "error" for the members concerned: the rule skips them, never strips them.
 */
import type { EthosClient } from "./ethos.ts";
import type { ScoreCache } from "./score_cache.ts";
import type { ScoreInput, Standing } from "./rule.ts";
import { EthosProfileClient } from "../ethos/profile.ts";

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
  /** Members whose profile flags were asked in bulk. */
  flagsAsked: number;
}

export function emptyScoreStats(): ScoreStats {
  return { cacheHits: 0, bulkAsked: 0, singleLookups: 0, failures: 0, flagsAsked: 0 };
}

const hasFlags = (s: Standing) => s.isDefault !== undefined;

export async function resolveScores(
  requests: readonly ScoreRequest[],
  deps: { ethos: EthosClient; cache: ScoreCache },
  opts: {
    fresh?: boolean;
    signal?: AbortSignal;
    stats?: ScoreStats;
    concurrency?: number;
    /** Read the profile flags too (rule.needsFlags). */
    flags?: boolean;
  } = {},
): Promise<Map<string, ScoreInput>> {
  const out = new Map<string, ScoreInput>();
  if (requests.length === 0) return out;
  const stats = opts.stats ?? emptyScoreStats();
  const ids = requests.map((r) => r.id);
  const cached = opts.fresh ? new Map<string, Standing | null>() : await deps.cache.getMany(ids);
  // Scored members whose flags are still to be read.
  const unflagged = new Map<string, Standing>();
  for (const [id, s] of cached) {
    out.set(id, s);
    if (s && opts.flags && !hasFlags(s)) unflagged.set(id, s);
  }
  stats.cacheHits += cached.size;
  const misses = ids.filter((id) => !cached.has(id));
  const store: [string, Standing | null][] = [];
  if (misses.length === 0) {
    await readFlags(unflagged, out, store, deps.ethos, stats, opts.signal);
    if (store.length) await deps.cache.putMany(store);
    return out;
  }

  stats.bulkAsked += misses.length;
  const bulk = await deps.ethos.scores(misses, opts.signal);
  for (const [id, s] of bulk.scores) {
    const standing: Standing = { score: s.score, ...(s.level ? { level: s.level } : {}) };
    out.set(id, standing);
    if (opts.flags) unflagged.set(id, standing);
    else store.push([id, standing]);
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
        const standing: Standing | null = s
          ? { score: s.score, ...(s.level ? { level: s.level } : {}) }
          : null;
        out.set(id, standing);
        if (standing && opts.flags) unflagged.set(id, standing);
        else store.push([id, standing]);
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
  await readFlags(unflagged, out, store, deps.ethos, stats, opts.signal);
  if (store.length) await deps.cache.putMany(store);
  return out;
}

/**
 * Validator, human and default-profile flags for scored members, in bulk. A member Ethos scores
 * but returns no user for keeps unknown validator and human status (the rule then keeps what they
 * hold) and counts as not default. A failed call makes its members "error": skipped, not stripped.
 */
async function readFlags(
  unflagged: Map<string, Standing>,
  out: Map<string, ScoreInput>,
  store: [string, Standing | null][],
  ethos: EthosClient,
  stats: ScoreStats,
  signal?: AbortSignal,
): Promise<void> {
  if (unflagged.size === 0) return;
  const ids = [...unflagged.keys()];
  stats.flagsAsked += ids.length;
  let profiles;
  try {
    profiles = await new EthosProfileClient(ethos).byDiscordIds(ids, signal);
  } catch (error) {
    signal?.throwIfAborted();
    void error;
    for (const id of ids) out.set(id, "error");
    stats.failures += ids.length;
    return;
  }
  for (const [id, standing] of unflagged) {
    const p = profiles.get(id);
    const flagged: Standing = p
      ? { ...standing, validator: p.validator, human: p.human, isDefault: p.isDefault }
      : { ...standing, isDefault: false };
    out.set(id, flagged);
    store.push([id, flagged]);
  }
}
