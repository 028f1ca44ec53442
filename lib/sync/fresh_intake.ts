/**
 * The freshness pass's first stage: Ethos's score-updates feed into a per-guild backlog in KV,
 * read once for every guild (the hourly incremental run reads the feed once per guild).
 *
 * - One pass at a time (a lease). The cursor (`["fresh", "cursor"]`) holds the newest
 *   `lastUpdatedAt` taken in; each pass asks for updates after the cursor less `OVERLAP_MS`, so an
 *   update Ethos records late, or a page answered out of order, is read again.
 * - An update is new when its `lastUpdatedAt` is later than the one last taken in for that user
 *   (`["fresh", "seen", user]`, kept a day). A new Discord update goes into the backlog of every
 *   configured guild (`["fresh", "backlog", guild, user]`, the latest `lastUpdatedAt`) in the same
 *   atomic write as its seen time, under the pass's lease: a crash mid-pass replays the page, and
 *   nothing is queued twice.
 * - Userkeys of other services, unreadable times and times in the future are counted and skipped;
 *   a cursor more than `MAX_SKEW_MS` ahead of our clock starts again from now.
 * - A page that ends short of the total the feed reports, or answers another offset, means the
 *   feed skipped entries: the cursor stays, so the next pass reads the span again (for up to
 *   `GAP_HOLD_MS`, after which the hourly incremental run is what reads it again).
 * - Bounded: at most `maxPages` pages of 1,000 per pass; the cursor says where the next goes on
 *   (the same query, from the next offset), so a burst is taken in over several passes.
 * - An update Ethos records more than the overlap late is left to the hourly and daily syncs.
 */
import type { AppDeps } from "../deps.ts";
import { getManyChunked } from "../kv/many.ts";
import { acquireLease, type Lease, leaseCheck, releaseLease } from "../kv/lease.ts";
import { configuredGuilds } from "../guilds/setup.ts";
import { discordIdOf, type EthosClient } from "../ethos/client.ts";
import { type BacklogEntry, freshKeys } from "../jobs/fresh_backlog.ts";

export const OVERLAP_MS = 120_000;
/** How far ahead of our clock the feed's times may run (clock skew at Ethos). */
export const MAX_SKEW_MS = 300_000;
const SEEN_TTL_MS = 24 * 3_600_000;
const PAGE = 1000;
const LEASE = "fresh-intake";
const LEASE_TTL_MS = 55_000;
const MAX_MUTATIONS = 900;
/**
 * How long a feed that keeps skipping entries holds the cursor before the pass moves on anyway
 * (the hourly incremental run reads the feed again with its own overlap).
 */
const GAP_HOLD_MS = 10 * 60_000;

export interface FreshCursor {
  /** Epoch ms of the newest `lastUpdatedAt` taken in. */
  after: number;
  /** When a pass last moved it. */
  at: number;
  /**
   * A pass that stopped at its page limit: the next goes on with the same query from this offset
   * (restarting at the overlap could re-read the same pages forever in a burst).
   */
  resume?: { query: number; offset: number };
}

export interface IntakeResult {
  /** False: another pass holds the lease; nothing was read. */
  ran: boolean;
  pages: number;
  read: number;
  /** New Discord updates queued (each into every configured guild's backlog). */
  queued: number;
  repeated: number;
  otherService: number;
  badTime: number;
  /** The stored cursor was in the future and started again from now. */
  cursorReset: boolean;
  /** More pages were waiting when the pass stopped at `maxPages`. */
  more: boolean;
  /** The feed skipped entries (a short page before its total, another offset): cursor held. */
  gap: boolean;
  cursor: FreshCursor;
}

export interface IntakeOptions {
  ethos: EthosClient;
  /** Pages of 1,000 per pass (default 5). */
  maxPages?: number;
  /** Backlogs fed besides the configured guilds' (the linked-roles queue). */
  queues?: readonly string[];
  /** A first pass reads from this less the overlap (default now; older changes are the daily sync's). */
  startAfter?: number;
}

/** A pass that read nothing (yet). */
export function emptyIntake(): IntakeResult {
  return {
    ran: false,
    pages: 0,
    read: 0,
    queued: 0,
    repeated: 0,
    otherService: 0,
    badTime: 0,
    cursorReset: false,
    more: false,
    gap: false,
    cursor: { after: 0, at: 0 },
  };
}

export async function intakeUpdates(deps: AppDeps, o: IntakeOptions): Promise<IntakeResult> {
  const { kv, clock } = deps;
  const result = emptyIntake();
  const lease = await acquireLease(kv, LEASE, crypto.randomUUID(), LEASE_TTL_MS, clock);
  if (!lease) return result;
  result.ran = true;
  try {
    const now = clock.now();
    const stored = (await kv.get<FreshCursor>(freshKeys.cursor())).value;
    let cursor: FreshCursor = isCursor(stored) ? stored : { after: o.startAfter ?? now, at: now };
    if (cursor.after > now + MAX_SKEW_MS) {
      deps.log.warn("fresh: the feed cursor was in the future; starting again from now", {
        cursor: new Date(cursor.after).toISOString(),
      });
      cursor = { after: now, at: now };
      result.cursorReset = true;
    }
    const guilds = [
      ...(await configuredGuilds(deps.config, kv)).filter((g) => g.configured).map((g) =>
        g.guildId
      ),
      ...(o.queues ?? []),
    ];
    const query = cursor.resume?.query ?? Math.max(0, cursor.after - OVERLAP_MS);
    const after = new Date(query).toISOString();
    const maxPages = o.maxPages ?? 5;
    let newest = cursor.after;
    let offset = cursor.resume?.offset ?? 0;
    for (;; offset += PAGE) {
      const page = await o.ethos.updates(after, { limit: PAGE, offset });
      result.pages++;
      result.read += page.values.length;
      const fresh = new Map<string, number>();
      for (const v of page.values) {
        const id = discordIdOf(v.userkey);
        const at = Date.parse(v.lastUpdatedAt);
        if (!id) result.otherService++;
        else if (!Number.isFinite(at) || at > clock.now() + MAX_SKEW_MS) result.badTime++;
        else {
          fresh.set(id, Math.max(fresh.get(id) ?? 0, at));
          newest = Math.max(newest, at);
        }
      }
      const queued = await queue(kv, lease, guilds, fresh, clock.now());
      result.queued += queued;
      result.repeated += fresh.size - queued;
      // A page answered for another offset, or ending short of the total it reports: the feed
      // skipped entries. Hold the cursor so the next pass reads the same span again.
      if (
        page.offset !== offset ||
        (page.values.length < PAGE && offset + page.values.length < page.total)
      ) {
        result.gap = true;
        break;
      }
      if (page.values.length < PAGE) break;
      if (result.pages >= maxPages) {
        result.more = true;
        break;
      }
    }
    if (result.gap) {
      deps.log.warn("fresh: the updates feed skipped entries; reading the span again next pass", {
        after,
        offset,
      });
    }
    const hold = result.gap && clock.now() - cursor.at < GAP_HOLD_MS;
    if (hold) {
      // The span again next time (updates already queued are not queued twice).
      const held = await kv.atomic().check(leaseCheck(lease)).set(freshKeys.cursor(), cursor)
        .commit();
      if (!held.ok) throw new LeaseLostError();
      result.cursor = cursor;
      return result;
    }
    // Only moved forward: a page answered out of order or a late write is in the overlap.
    cursor = {
      after: newest,
      at: clock.now(),
      ...(result.more ? { resume: { query, offset: offset + PAGE } } : {}),
    };
    const moved = await kv.atomic().check(leaseCheck(lease)).set(freshKeys.cursor(), cursor)
      .commit();
    if (!moved.ok) throw new LeaseLostError();
    result.cursor = cursor;
    return result;
  } finally {
    await releaseLease(kv, lease).catch(() => {});
  }
}

/**
 * Queues the updates newer than their seen time; returns how many were new. Only the pass holding
 * the lease writes seen times, so each commit checks the lease rather than every seen entry (KV
 * allows ten checks per commit).
 */
async function queue(
  kv: Deno.Kv,
  lease: Lease,
  guilds: readonly string[],
  updates: Map<string, number>,
  now: number,
): Promise<number> {
  const ids = [...updates.keys()];
  const seen = await getManyChunked(kv, ids.map((id) => freshKeys.seen(id)));
  const fresh = ids.filter((id, j) => {
    const was = seen[j].value;
    return !(typeof was === "number" && was >= updates.get(id)!);
  });
  // A user's backlog entries, then their seen time: a commit cut between them (more guilds than
  // one commit takes) only means the user is queued again by the next pass, which is harmless.
  const writes: { key: Deno.KvKey; value: unknown; seen: boolean }[] = [];
  for (const id of fresh) {
    const at = updates.get(id)!;
    const entry: BacklogEntry = { updatedAt: at, queuedAt: now };
    for (const g of guilds) {
      writes.push({ key: freshKeys.backlog(g, id), value: entry, seen: false });
    }
    writes.push({ key: freshKeys.seen(id), value: at, seen: true });
  }
  for (let i = 0; i < writes.length; i += MAX_MUTATIONS) {
    const op = kv.atomic().check(leaseCheck(lease));
    for (const w of writes.slice(i, i + MAX_MUTATIONS)) {
      op.set(w.key, w.value, w.seen ? { expireIn: SEEN_TTL_MS } : undefined);
    }
    if (!(await op.commit()).ok) throw new LeaseLostError();
  }
  return fresh.length;
}

/** The pass ran past its lease and another took over: stop without moving the cursor. */
export class LeaseLostError extends Error {
  constructor() {
    super("fresh: the intake lease was lost mid-pass");
  }
}

function isCursor(v: unknown): v is FreshCursor {
  const c = v as FreshCursor | null;
  return typeof c?.after === "number" && Number.isFinite(c.after) && typeof c.at === "number";
}
