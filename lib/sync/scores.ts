/**
 * Scores for a batch of members: the KV cache first, then Ethos in bulk, then the single lookup
 * for userkeys missing from the bulk answer, but only for members who would lose managed roles
 * (nobody loses a role for "no score" without a confirming 404). When the rules use the profile
 * flags (validator, human, default profile), the bulk read is `/users/by/discord` instead, whose
 * user objects carry the score too: still one bulk call per 500 members, cached with the flags.
 * A failing Ethos yields "error" for the members concerned: the rule skips them, never strips
 * them.
 */
import type { EthosClient } from "../ethos/client.ts";
import type { ScoreCache } from "./score_cache.ts";
import type { ScoreInput, Standing } from "./rule.ts";
import { EthosProfileClient, MAX_BULK_USERS } from "../ethos/profile.ts";
import { pool } from "../pool.ts";

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
    /** The rules use validator, human or default-profile status (rule.needsFlags). */
    flags?: boolean;
  } = {},
): Promise<Map<string, ScoreInput>> {
  const out = new Map<string, ScoreInput>();
  if (requests.length === 0) return out;
  const stats = opts.stats ?? emptyScoreStats();
  const ids = requests.map((r) => r.id);
  const cached = opts.fresh ? new Map<string, Standing | null>() : await deps.cache.getMany(ids);
  const misses: string[] = [];
  for (const id of ids) {
    const s = cached.get(id);
    // An entry cached without the flags the rules now need is asked again.
    if (s === undefined || (s && opts.flags && !hasFlags(s))) {
      misses.push(id);
      continue;
    }
    out.set(id, s);
    stats.cacheHits++;
  }
  if (misses.length === 0) return out;

  stats.bulkAsked += misses.length;
  if (opts.flags) stats.flagsAsked += misses.length;
  const bulk = opts.flags
    ? await profilesInBulk(misses, deps.ethos, opts.signal)
    : await scoresInBulk(misses, deps.ethos, opts.signal);
  const store: [string, Standing | null][] = [];
  for (const [id, standing] of bulk.found) {
    out.set(id, standing);
    store.push([id, standing]);
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
  await pool(confirm, opts.concurrency ?? 4, async (id) => {
    stats.singleLookups++;
    try {
      const s = await deps.ethos.score(id, opts.signal);
      // A score without a user (flags unread): the rule keeps what validator and human roles
      // the member holds, and it is not cached as complete.
      const standing: Standing | null = s
        ? { score: s.score, ...(s.level ? { level: s.level } : {}) }
        : null;
      out.set(id, standing);
      if (!standing || !opts.flags) store.push([id, standing]);
    } catch (error) {
      opts.signal?.throwIfAborted();
      void error;
      out.set(id, "error");
      stats.failures++;
    }
  });
  if (store.length) await deps.cache.putMany(store);
  return out;
}

interface Bulk {
  found: Map<string, Standing>;
  /** Members whose bulk call failed after retries: unknown, not "no score". */
  failed: Set<string>;
}

/** Scores alone: `POST /score/userkeys`, 500 per call. */
async function scoresInBulk(
  ids: string[],
  ethos: EthosClient,
  signal?: AbortSignal,
): Promise<Bulk> {
  const r = await ethos.scores(ids, signal);
  const found = new Map<string, Standing>();
  for (const [id, s] of r.scores) {
    found.set(id, { score: s.score, ...(s.level ? { level: s.level } : {}) });
  }
  return { found, failed: r.failed };
}

/**
 * Score and flags together: a user object carries the score, validator NFTs, human verification
 * and what makes a default profile, so one `POST /users/by/discord` (500 per call) replaces the
 * scores call when the rules need flags.
 */
async function profilesInBulk(
  ids: string[],
  ethos: EthosClient,
  signal?: AbortSignal,
): Promise<Bulk> {
  const client = new EthosProfileClient(ethos);
  const out: Bulk = { found: new Map(), failed: new Set() };
  for (let i = 0; i < ids.length; i += MAX_BULK_USERS) {
    const batch = ids.slice(i, i + MAX_BULK_USERS);
    try {
      for (const [id, p] of await client.byDiscordIds(batch, signal)) {
        out.found.set(id, {
          score: p.score,
          ...(p.apiLevel ? { level: p.apiLevel } : {}),
          validator: p.validator,
          human: p.human,
          isDefault: p.isDefault,
        });
      }
    } catch (error) {
      signal?.throwIfAborted();
      void error;
      for (const id of batch) out.failed.add(id);
    }
  }
  return out;
}
