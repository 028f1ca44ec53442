/**
 * Linked users in the freshness pass: the intake queues every changed Discord user into the
 * `LINKED_QUEUE` backlog too; this stage pushes new metadata for the ones who are linked, with
 * their own tokens (limited per user by Discord, so users go side by side), and drops the rest
 * with one KV read each. Scores come fresh from Ethos in bulk; a user the bulk answer leaves out
 * is confirmed by the single lookup before Discord is told "score 0", and an Ethos failure
 * leaves them queued (never pushed as "no profile").
 */
import type { AppDeps } from "../deps.ts";
import { type EthosProfile, EthosProfileClient } from "../ethos/profile.ts";
import { ethosClientFor, profilesFor } from "../ethos/service.ts";
import {
  backlogTimes,
  completeQueued,
  LINKED_QUEUE,
  type LinkedFigures,
  type PassStage,
  type Queued,
  readBacklog,
} from "../jobs/fresh_backlog.ts";
import { emptyCounters, pushLinked } from "./keeper.ts";
import { type Standing, standingOfProfile } from "./metadata.ts";
import { linkedKeys } from "./store.ts";
import { getManyChunked } from "../kv/many.ts";
import { pool } from "../pool.ts";
import type { TokenKeys } from "./token_box.ts";
import { linkedRolesEnabled } from "./connect.ts";

const BATCH = 200;
/** Users pushed side by side: Discord limits bearer calls per user, so only latency bounds this. */
const CONCURRENCY = 16;

/** The stage's figures, with each applied user's lag in seconds. */
export type LinkedApplyResult = LinkedFigures & { lags: number[] };

/** The freshness pass's linked-roles stage, or undefined while linked roles are off. */
export function linkedRolesStage(
  deps: AppDeps,
  keys: TokenKeys,
): PassStage<LinkedApplyResult> | undefined {
  if (!linkedRolesEnabled(deps)) return undefined;
  return { queue: LINKED_QUEUE, apply: (deadline) => applyLinkedBacklog(deps, keys, { deadline }) };
}

export async function applyLinkedBacklog(
  deps: AppDeps,
  keys: TokenKeys,
  o: { deadline: number },
): Promise<LinkedApplyResult> {
  const { kv, clock } = deps;
  const r: LinkedApplyResult = { ...emptyCounters(), applied: 0, notLinked: 0, left: 0, lags: [] };
  const tried = new Set<string>();
  while (clock.now() < o.deadline) {
    const queued = (await readBacklog(kv, LINKED_QUEUE, BATCH + tried.size))
      .filter((q) => !tried.has(q.userId)).slice(0, BATCH);
    if (queued.length === 0) break;
    for (const q of queued) tried.add(q.userId);
    const linked: Queued[] = [];
    const recs = await getManyChunked(kv, queued.map((q) => linkedKeys.user(q.userId)));
    for (const [j, q] of queued.entries()) {
      if (recs[j].versionstamp !== null) linked.push(q);
      else if ((await completeQueued(kv, LINKED_QUEUE, q)) === "done") r.notLinked++;
    }
    if (linked.length === 0) continue;
    const standings = await standingsOf(deps, linked.map((q) => q.userId));
    if (!standings) break; // Ethos failing: everyone waits for the next pass
    await pool(linked, CONCURRENCY, async (q) => {
      if (clock.now() >= o.deadline) return; // the time box: left for the next pass
      const s = standings.get(q.userId);
      if (s === undefined) return; // unconfirmed: next pass
      // A confirmed "no profile" (null) clears the Ethos name too, as connecting does.
      const out = await pushLinked(deps, keys, q.userId, s?.standing ?? null, r, s ? s.name : null);
      if (out === "busy" || out === "failed") return;
      if ((await completeQueued(kv, LINKED_QUEUE, q)) !== "done") return;
      if (out === "pushed" || out === "unchanged") {
        r.applied++;
        r.lags.push(Math.max(0, (clock.now() - q.entry.updatedAt) / 1000));
      }
    });
    if (queued.length < BATCH) break;
  }
  r.left = (await backlogTimes(kv, LINKED_QUEUE)).length;
  return r;
}

/**
 * Fresh standings by user (null: confirmed no profile; missing: not confirmed), or null when
 * Ethos failed for the whole batch.
 */
async function standingsOf(
  deps: AppDeps,
  ids: string[],
): Promise<Map<string, { standing: Standing; name: string } | null> | null> {
  const out = new Map<string, { standing: Standing; name: string } | null>();
  let found;
  try {
    found = await new EthosProfileClient(ethosClientFor(deps)).byDiscordIds(ids);
  } catch (error) {
    deps.log.warn("linked roles: Ethos failed for a batch; it waits", { error });
    return null;
  }
  const of = (p: EthosProfile) => ({ standing: standingOfProfile(p), name: p.displayName });
  for (const [id, p] of found) out.set(id, of(p));
  for (const id of ids.filter((id) => !found.has(id))) {
    const one = await profilesFor(deps).lookup({ kind: "discord", id });
    if (one.kind === "none") out.set(id, null);
    else if (one.kind === "profile") out.set(id, of(one.profile));
  }
  return out;
}
