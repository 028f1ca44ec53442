/**
 * The bucket records isolates share in KV (shared_state.ts), and every change to one as a plain
 * function of the record read, the time and the change asked for: opening or reserving a window,
 * publishing a probe's answer, a late request, a 429's pause. The KV reads, the versionstamp
 * checks and the retries stay in shared_state.ts; what the next record is gets decided here.
 *
 * `newId` is called only when a new window is opened, so ids cost nothing otherwise.
 */

export interface SharedRecord {
  limit: number;
  remaining: number;
  resetAt: number;
  /** No slot is granted from this time on (absent in records written before it existed). */
  sendBy?: number;
  /** Requests sent too late for this window, and the first one's send time: the next window's. */
  late?: number;
  lateFrom?: number;
  windowMs: number;
  provisional: boolean;
  windowId: string;
  probing?: boolean;
  unlimited?: boolean;
}

/** What an isolate asks of a bucket's current window. */
export interface WindowAsk {
  want: number;
  /** Locally learned limit/window, used to open a new window; 0 when unknown. */
  limit: number;
  windowMs: number;
}

export interface Observation {
  limit: number;
  remaining: number;
  resetAt: number;
  sendBy: number;
  windowMs: number;
}

/** A route's bucket limit as learned from Discord's headers; `at`: when it was stored. */
export interface LearnedLimit {
  limit: number;
  windowMs: number;
  at: number;
}

/** Timing of the windows an isolate opens. */
export interface WindowTiming {
  /** How long a probing record holds others back when its owner never answers. */
  probeTtlMs: number;
  /** Added to provisional window ends. */
  slackMs: number;
  /** Windows stop granting this long before their end. */
  marginMs: number;
}

export type Reservation =
  /** The route answered without rate-limit headers: only the global limit applies. */
  | { kind: "unlimited" }
  /** Nothing to grant now (probing, spent, or past its send-by time): wait on `record`. */
  | { kind: "wait"; record: SharedRecord }
  /** Write `next` (over the record read) to hold `granted` slots. */
  | { kind: "take"; next: SharedRecord; granted: number; probe: boolean; opened: boolean };

/**
 * A reservation against `rec` (null: none stored) at `now`. An ended window opens the next one:
 * with a known limit, provisionally (`now` + window + slack) less the previous window's late
 * requests; without one, as a probe of one request that holds the others back for `probeTtlMs`.
 */
export function reserve(
  rec: SharedRecord | null,
  ask: WindowAsk,
  now: number,
  timing: WindowTiming,
  newId: () => string,
): Reservation {
  if (rec?.unlimited && rec.resetAt > now) return { kind: "unlimited" };
  if (!rec || now >= rec.resetAt) return open(rec, ask, now, timing, newId);
  if (rec.probing || rec.remaining <= 0 || now >= (rec.sendBy ?? Infinity)) {
    return { kind: "wait", record: rec };
  }
  const granted = Math.min(ask.want, rec.remaining);
  const next = { ...rec, remaining: rec.remaining - granted };
  return { kind: "take", next, granted, probe: false, opened: false };
}

/** Opens the window after `rec` (ended, or none stored). */
function open(
  rec: SharedRecord | null,
  ask: WindowAsk,
  now: number,
  timing: WindowTiming,
  newId: () => string,
): Reservation {
  // Late requests of the window that ended opened this one, as early as the first was sent.
  const carried = rec && !rec.probing && !rec.unlimited ? rec.late ?? 0 : 0;
  const openedAt = carried > 0 ? Math.min(now, rec?.lateFrom ?? now) : now;
  const limit = ask.limit > 0
    ? ask.limit
    : rec && !rec.probing && !rec.unlimited && rec.limit > 0
    ? rec.limit
    : 0;
  if (limit <= 0) {
    const next: SharedRecord = {
      limit: 0,
      remaining: 0,
      resetAt: now + timing.probeTtlMs,
      windowMs: 0,
      provisional: true,
      windowId: newId(),
      probing: true,
    };
    return { kind: "take", next, granted: 1, probe: true, opened: true };
  }
  const windowMs = Math.max(ask.windowMs, rec?.windowMs ?? 0) || 1_000;
  const slots = Math.max(0, limit - carried);
  const granted = Math.min(ask.want, slots);
  const next: SharedRecord = {
    limit,
    remaining: slots - granted,
    resetAt: now + windowMs + timing.slackMs,
    sendBy: openedAt + windowMs - timing.marginMs,
    windowMs,
    provisional: true,
    windowId: newId(),
  };
  return { kind: "take", next, granted, probe: false, opened: true };
}

/**
 * A probe's answer: it refines the live window (the exact end replaces a provisional one, never
 * more slots than either side knows), or it starts a new one.
 */
export function withProbe(
  rec: SharedRecord | null,
  obs: Observation,
  now: number,
  newId: () => string,
): SharedRecord {
  if (rec && !rec.probing && !rec.unlimited && rec.resetAt > now) {
    return {
      ...rec,
      limit: obs.limit,
      remaining: Math.max(0, Math.min(rec.remaining, obs.remaining)),
      resetAt: rec.provisional ? obs.resetAt : Math.min(rec.resetAt, obs.resetAt),
      sendBy: Math.min(rec.sendBy ?? Infinity, obs.sendBy),
      windowMs: Math.max(rec.windowMs, obs.windowMs),
      provisional: false,
    };
  }
  return {
    limit: obs.limit,
    remaining: Math.max(0, obs.remaining),
    resetAt: obs.resetAt,
    sendBy: obs.sendBy,
    windowMs: Math.max(obs.windowMs, rec?.windowMs ?? 0),
    provisional: false,
    windowId: newId(),
  };
}

/** The provisional window `windowId` ends no earlier than `resetAt` (null: nothing to change). */
export function withAnchor(
  rec: SharedRecord | null,
  windowId: string,
  resetAt: number,
): SharedRecord | null {
  return !rec || rec.windowId !== windowId || !rec.provisional || rec.resetAt >= resetAt
    ? null
    : { ...rec, resetAt };
}

/** The provisional window `windowId` gets its exact end (null: it is no longer provisional). */
export function withExactReset(
  rec: SharedRecord | null,
  windowId: string,
  resetAt: number,
  sendBy: number,
): SharedRecord | null {
  return !rec || rec.windowId !== windowId || !rec.provisional ? null : {
    ...rec,
    resetAt: Math.min(rec.resetAt, resetAt),
    sendBy: Math.min(rec.sendBy ?? Infinity, sendBy),
    provisional: false,
  };
}

/**
 * A request of window `windowId` went out too late for it: the next window opens with one slot
 * fewer, or, when a later window is open already, it takes one of that window's slots.
 */
export function withLate(
  rec: SharedRecord | null,
  windowId: string,
  sentAt: number,
  now: number,
): SharedRecord | null {
  if (!rec || rec.probing || rec.unlimited) return null;
  return rec.windowId === windowId || now >= rec.resetAt
    ? { ...rec, late: (rec.late ?? 0) + 1, lateFrom: Math.min(rec.lateFrom ?? sentAt, sentAt) }
    : { ...rec, remaining: Math.max(0, rec.remaining - 1) };
}

/** A 429 on the bucket: no slot until `until`, in the live window or a new one. */
export function withPause(
  rec: SharedRecord | null,
  until: number,
  limit: number,
  windowMs: number,
  now: number,
  newId: () => string,
): SharedRecord {
  const live = rec && !rec.probing && rec.resetAt > now;
  return {
    ...(live ? rec : {}),
    limit: live ? rec.limit : Math.max(1, limit),
    remaining: 0,
    resetAt: Math.max(live ? rec.resetAt : 0, until),
    windowMs: Math.max(rec?.windowMs ?? 0, windowMs),
    provisional: false,
    windowId: live ? rec.windowId : newId(),
  };
}

/** How long a route known to answer without rate-limit headers is taken as unlimited. */
export const UNLIMITED_MS = 600_000;

export function unlimitedRecord(now: number, newId: () => string): SharedRecord {
  return {
    limit: 0,
    remaining: 0,
    resetAt: now + UNLIMITED_MS,
    windowMs: 0,
    provisional: false,
    windowId: newId(),
    unlimited: true,
  };
}

/**
 * A learned limit to keep over `cur`: for the same limit, the longest window seen stands (with the
 * rest of `next`); a different limit replaces it.
 */
export function mergeLearned<
  C extends { limit: number; windowMs: number },
  T extends { limit: number; windowMs: number },
>(cur: C | null, next: T): T {
  return cur && cur.limit === next.limit
    ? { ...next, windowMs: Math.max(cur.windowMs, next.windowMs) }
    : next;
}

/** The end of a stored pause (`{ until }`), or 0. */
export function untilOf(value: unknown): number {
  const until = (value as { until?: unknown } | null)?.until;
  return typeof until === "number" ? until : 0;
}

export function isLearned(value: unknown): value is LearnedLimit {
  const v = value as LearnedLimit | null;
  return !!v && typeof v === "object" && typeof v.limit === "number" && v.limit > 0 &&
    typeof v.windowMs === "number" && v.windowMs > 0 && typeof v.at === "number";
}

export function isRecord(value: unknown): value is SharedRecord {
  const v = value as SharedRecord | null;
  return !!v && typeof v === "object" && typeof v.remaining === "number" &&
    typeof v.resetAt === "number" && typeof v.windowId === "string";
}
