/**
 * The freshness pass's KV state: the feed cursor, the per-user seen times and the per-guild
 * backlog of members whose Ethos score changed. The intake fills the backlog; the apply stage (or
 * the guild's running sync chunk) empties it, one member at a time, each removal checked against
 * the entry it read, so an update queued meanwhile is never dropped. It sits below the services
 * because two of them work it off: the role sync (per guild) and linked roles (their own queue).
 */

export const freshKeys = {
  cursor: (): Deno.KvKey => ["fresh", "cursor"],
  seen: (userId: string): Deno.KvKey => ["fresh", "seen", userId],
  backlog: (guildId: string, userId: string): Deno.KvKey => ["fresh", "backlog", guildId, userId],
  backlogOf: (guildId: string): Deno.KvKey => ["fresh", "backlog", guildId],
  /** The last pass's figures (status page, /metrics). */
  lastPass: (): Deno.KvKey => ["fresh", "last_pass"],
};

/**
 * The backlog of linked-role users (lib/linked_roles/fresh.ts), beside the guilds' backlogs: a
 * name no guild id can take.
 */
export const LINKED_QUEUE = "@linked";

export interface BacklogEntry {
  /** Ethos's `lastUpdatedAt` (epoch ms) of the newest update queued for the member. */
  updatedAt: number;
  queuedAt: number;
}

export interface Queued {
  userId: string;
  entry: BacklogEntry;
  /** The entry as read: its removal is checked against this. */
  versionstamp: string;
}

function isEntry(v: unknown): v is BacklogEntry {
  const e = v as BacklogEntry | null;
  return typeof e?.updatedAt === "number" && typeof e.queuedAt === "number";
}

/** Entries a read looks at to find the oldest (a burst beyond it is taken in id order). */
const SCAN = 5000;

/** Up to `limit` queued members of a guild, oldest update first. */
export async function readBacklog(kv: Deno.Kv, guildId: string, limit: number): Promise<Queued[]> {
  const out: Queued[] = [];
  for await (const e of kv.list({ prefix: freshKeys.backlogOf(guildId) }, { limit: SCAN })) {
    const userId = e.key[3];
    if (typeof userId !== "string") continue;
    if (!isEntry(e.value)) {
      await kv.delete(e.key); // not ours to read: drop rather than stall the queue on it
      continue;
    }
    out.push({ userId, entry: e.value, versionstamp: e.versionstamp });
  }
  out.sort((a, b) => a.entry.updatedAt - b.entry.updatedAt);
  return out.slice(0, limit);
}

/** Whether anything is queued for a guild (one key read). */
export async function hasBacklog(kv: Deno.Kv, guildId: string): Promise<boolean> {
  for await (const _ of kv.list({ prefix: freshKeys.backlogOf(guildId) }, { limit: 1 })) {
    return true;
  }
  return false;
}

/** Ethos's `lastUpdatedAt` of every update queued for a guild. */
export async function backlogTimes(kv: Deno.Kv, guildId: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of kv.list({ prefix: freshKeys.backlogOf(guildId) })) {
    if (isEntry(e.value)) out.push(e.value.updatedAt);
  }
  return out;
}

/**
 * Removes a member's entry once their update is settled, unless a newer one was queued since (then
 * it stays for the next pass): "done", or "newer".
 */
export async function completeQueued(
  kv: Deno.Kv,
  guildId: string,
  q: Queued,
): Promise<"done" | "newer"> {
  const key = freshKeys.backlog(guildId, q.userId);
  const res = await kv.atomic().check({ key, versionstamp: q.versionstamp }).delete(key).commit();
  return res.ok ? "done" : "newer";
}

/**
 * A stage the pass runs beside the guilds' backlogs: its own backlog (`queue`), fed by the same
 * intake, worked off by `apply` inside the same time box. (Linked roles are one; the pass knows
 * nothing of them but this.)
 */
export interface PassStage<R> {
  queue: string;
  apply(deadline: number): Promise<R & { lags: number[] }>;
}

/**
 * What the linked-roles stage reports: the one declaration of these figures (the keeper's
 * counters, the stage's result, /metrics and the status page derive theirs from it).
 */
export interface LinkedFigures {
  /** Linked users whose metadata is now right (pushed or already right). */
  applied: number;
  /** Changed users who are not linked (dropped, no call). */
  notLinked: number;
  /** Left for the next pass (Ethos or Discord failing, busy, time box). */
  left: number;
  /** Metadata pushes that Discord accepted. */
  pushes: number;
  /** Access tokens refreshed. */
  refreshes: number;
  /** Pushes or refreshes that failed (left for a later pass). */
  failures: number;
  /** Grants found revoked: the user's tokens deleted, no longer linked. */
  unlinked: number;
}
