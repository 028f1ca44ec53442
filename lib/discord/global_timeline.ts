/**
 * The global send timeline every isolate claims from (global_budget.ts), as data: its record, how
 * a claim books it, how a client leaves it, and what it shows the status page. Plain functions of
 * the record read and the time; the KV rounds and the slot pool stay in global_budget.ts.
 */

export interface Timeline {
  /** The next free send slot (epoch ms). */
  tat: number;
  /** Client id -> when it last claimed (epoch ms). */
  claimants: Record<string, number>;
}

export const TIMELINE_KEY: Deno.KvKey = ["rest", "global", "timeline"];
/** A claimant counts as active this long after its last claim. */
export const ACTIVE_MS = 2_000;
/** A timeline further ahead than this is a skewed or broken writer's: start afresh. */
export const MAX_AHEAD_MS = 30_000;
export const TIMELINE_TTL_MS = 60_000;

export interface ClaimAsk {
  /** The claiming client. */
  id: string;
  /** Slots wanted when others claim too (alone, the client books the whole horizon). */
  want: number;
  /** Spacing of the slots (ms). */
  intervalMs: number;
  /** How far ahead of now the timeline may be booked (ms). */
  horizonMs: number;
  /** How far ahead of now the first slot starts: the claim's expected round trip (ms). */
  leadMs: number;
}

export type ClaimPlan =
  /** Booked beyond the horizon: try again in `ms` (plus some jitter). */
  | { kind: "wait"; ms: number }
  /** Write `next` to hold `n` slots from `start`, spaced `intervalMs`. */
  | { kind: "book"; start: number; n: number; alone: boolean; next: Timeline };

export function isTimeline(v: unknown): v is Timeline {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Timeline;
  return typeof r.tat === "number" && Number.isFinite(r.tat) && typeof r.claimants === "object" &&
    r.claimants !== null;
}

/**
 * A claim on the timeline read (`value`) at `now`. Alone (nobody else claimed in the last
 * `ACTIVE_MS`) the client books the whole horizon as one range; with others, consecutive slots for
 * the requests it has ready, never past the horizon. Claimants gone quiet leave the list.
 */
export function planClaim(value: unknown, now: number, ask: ClaimAsk): ClaimPlan {
  const rec = isTimeline(value) && value.tat < now + MAX_AHEAD_MS
    ? value
    : { tat: 0, claimants: {} };
  // Booked further ahead than a request should wait (a bucket's window could end before its
  // slot comes): claim once the timeline is back within the horizon.
  const horizon = Math.max(ask.horizonMs, ask.leadMs + ask.intervalMs);
  if (rec.tat > now + horizon) return { kind: "wait", ms: rec.tat - horizon - now };
  const start = Math.max(now + ask.leadMs, rec.tat);
  const claimants: Record<string, number> = { [ask.id]: now };
  for (const [id, at] of Object.entries(rec.claimants)) {
    if (id !== ask.id && at > now - ACTIVE_MS) claimants[id] = at;
  }
  const alone = Object.keys(claimants).length === 1;
  // Alone, the range is the horizon measured from the first slot (as booked, in floating point).
  const n = alone
    ? Math.max(1, Math.floor((start + horizon - start) / ask.intervalMs))
    : Math.max(1, Math.min(ask.want, Math.floor((now + horizon - start) / ask.intervalMs)));
  return { kind: "book", start, n, alone, next: { tat: start + n * ask.intervalMs, claimants } };
}

/** The timeline without client `id` (null: not a timeline, or `id` is not on it). */
export function withoutClaimant(value: unknown, id: string): Timeline | null {
  if (!isTimeline(value) || !(id in value.claimants)) return null;
  const claimants = { ...value.claimants };
  delete claimants[id];
  return { tat: value.tat, claimants };
}

/**
 * What the timeline shows at `now`: clients that claimed in the last two seconds, and how far
 * ahead of now its slots are booked (0 when idle).
 */
export function timelineView(
  value: unknown,
  now: number,
): { clients: number; bookedAheadMs: number } {
  if (!isTimeline(value)) return { clients: 0, bookedAheadMs: 0 };
  return {
    clients: Object.values(value.claimants)
      .filter((at) => typeof at === "number" && at > now - ACTIVE_MS).length,
    bookedAheadMs: Math.max(0, Math.round(value.tat - now)),
  };
}
