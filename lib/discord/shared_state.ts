/**
 * Best-effort sharing of rate-limit state between isolates through Deno KV.
 *
 * Each bucket has one record (`["rest", "bucket", id]`) describing the current window as the
 * isolates know it: `limit`, `remaining` *unreserved* slots, `resetAt` (epoch ms, computed from
 * `X-RateLimit-Reset-After` against the writer's clock) and a `windowId`. An isolate sends on a
 * bucket only with slots it reserved in the current window (an atomic op guarded by the record's
 * versionstamp), reserving several at a time so KV traffic stays at a few ops per bucket window.
 *
 * - Nobody knows the bucket yet: the first isolate writes a short-lived `probing` record and sends
 *   one request; the others poll until its answer is published.
 * - The window ran out: the first isolate to reserve opens the next one with a provisional
 *   `resetAt` (now + window + slack) and replaces it with the exact value from its first response.
 * - Slots are granted only until `sendBy`, the earliest the server's window may end less a margin
 *   (see buckets.ts); a request that still went out later is noted as `late` on its window and the
 *   next window opens with that many slots fewer.
 * - A 429 (user/shared) sets `remaining` to 0 until the retry time; global and invalid-request
 *   pauses have their own keys, read together with the bucket record on each reservation.
 * - Route templates map to Discord's bucket hash under `["rest", "route", template]`, so a fresh
 *   isolate lands in the right (shared) bucket without probing.
 * - What a bucket's headers taught (limit and window, per route template) is kept for a day under
 *   `["rest", "learned", template]`, so the next chunk of a job, on a new isolate or a new client,
 *   plans with Discord's real limits from its first request (bucket records expire a minute after
 *   their window).
 *
 * Any KV error disables sharing for a short while (the client falls back to its in-memory view);
 * KV problems are never fatal.
 *
 * What each change makes of a record is decided in shared_records.ts; this module does the KV
 * rounds. Kept whole at a little over 400 lines: every operation is one round of the same
 * protocol, sharing its failure cooldown, its counters and the tracking of pending writes.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import {
  isLearned,
  isRecord,
  type LearnedLimit,
  mergeLearned,
  type Observation,
  reserve,
  type SharedRecord,
  UNLIMITED_MS,
  unlimitedRecord,
  untilOf,
  type WindowAsk,
  type WindowTiming,
  withAnchor,
  withExactReset,
  withLate,
  withPause,
  withProbe,
} from "./shared_records.ts";

export interface ReserveInput extends WindowAsk {
  id: string;
  template: string;
  /** Whether the caller already knows the template's bucket hash (then no route lookup). */
  hashKnown: boolean;
}

export interface Pauses {
  globalUntil: number;
  invalidUntil: number;
}

export type ReserveResult =
  & Pauses
  & (
    | { kind: "relocate"; hash: string }
    | { kind: "unlimited" }
    | { kind: "contended" }
    | { kind: "grant"; granted: number; probe: boolean; opened: boolean; record: SharedRecord }
  );

export interface SharedStateOptions {
  clock: Clock;
  log: Logger;
  /** How long a probing record holds others back when its owner never answers (default 2 s). */
  probeTtlMs?: number;
  /** Added to provisional window ends (default 250 ms). */
  provisionalSlackMs?: number;
  /** How long sharing stays off after a KV error (default 30 s). */
  cooldownMs?: number;
  /** The client's bucket margin: windows it opens stop granting this long before their end. */
  marginMs?: number;
  random?: () => number;
}

const ROOT = "rest";
const GLOBAL_KEY: Deno.KvKey = [ROOT, "pause", "global"];
const INVALID_KEY: Deno.KvKey = [ROOT, "pause", "invalid"];
const bucketKey = (id: string): Deno.KvKey => [ROOT, "bucket", id];
const routeKey = (template: string): Deno.KvKey => [ROOT, "route", template];
const learnedKey = (template: string): Deno.KvKey => [ROOT, "learned", template];
const GC_MS = 60_000;
const LEARNED_TTL_MS = 24 * 3_600_000;
/** An unchanged learned limit is stored again (moving its expiry) at most this often. */
const LEARNED_REFRESH_MS = 3_600_000;

export class SharedState {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #timing: WindowTiming;
  readonly #cooldownMs: number;
  readonly #random: () => number;
  #disabledUntil = 0;
  #lastWarn = -Infinity;
  /** KV operations issued, for stats and tests. */
  ops = 0;
  errors = 0;
  readonly #pending = new Set<Promise<unknown>>();
  /** Learned limits as last stored or read, per template: unchanged ones are not rewritten. */
  readonly #learned = new Map<string, LearnedLimit>();

  constructor(private readonly kv: Deno.Kv, options: SharedStateOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#timing = {
      probeTtlMs: options.probeTtlMs ?? 2_000,
      slackMs: options.provisionalSlackMs ?? 250,
      marginMs: options.marginMs ?? 10,
    };
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  /** Resolves once every publish started so far has finished (they never reject). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  /** Runs a KV operation, remembering it until it finishes (see `settled`). */
  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p)).catch(() => {});
    return p;
  }

  /** False while sharing is off after a KV failure. */
  get available(): boolean {
    return this.#clock.now() >= this.#disabledUntil;
  }

  /** Reserves up to `want` slots in the bucket's current window. Null when KV is unavailable. */
  reserve(input: ReserveInput): Promise<ReserveResult | null> {
    return this.#track(this.#reserveImpl(input));
  }

  /**
   * Publishes what a probe's response taught us: the route's bucket hash and the window state.
   * `fromId` is the id the probe reserved under (its record is removed when the id changed).
   * Returns the resulting record, or null on failure.
   */
  publishProbe(
    fromId: string,
    toId: string,
    template: string,
    hash: string | undefined,
    obs: Observation,
  ): Promise<SharedRecord | null> {
    return this.#track(this.#publishProbeImpl(fromId, toId, template, hash, obs));
  }

  /** Added to provisional window ends (ms). */
  get provisionalSlackMs(): number {
    return this.#timing.slackMs;
  }

  /**
   * The first request of a window we opened went out later than the window was opened (the
   * client waited for the global limit, or stalled): Discord's window starts with that request,
   * so the provisional end moves to `resetAt` if that is later.
   */
  anchorWindow(id: string, windowId: string, resetAt: number): Promise<void> {
    return this.#track(
      this.#updateBucket(id, "anchor window", (rec) => withAnchor(rec, windowId, resetAt)),
    );
  }

  /** Replaces the provisional end of a window we opened with the exact one. */
  publishReset(id: string, windowId: string, resetAt: number, sendBy: number): Promise<void> {
    return this.#track(this.#publishResetImpl(id, windowId, resetAt, sendBy));
  }

  /**
   * A request of window `windowId` went out too late for it: it counts in the next window (or,
   * when a later window is already open, takes one of its slots).
   */
  noteLate(id: string, windowId: string, sentAt: number): Promise<void> {
    return this.#track(this.#noteLateImpl(id, windowId, sentAt));
  }

  /** A 429 on this bucket: no slot until `until`, for every isolate. */
  pauseBucket(id: string, until: number, limit: number, windowMs: number): Promise<void> {
    return this.#track(this.#pauseBucketImpl(id, until, limit, windowMs));
  }

  /** A route answered without rate-limit headers: only the global limit applies to it. */
  publishUnlimited(fromId: string): Promise<void> {
    return this.#track(this.#publishUnlimitedImpl(fromId));
  }

  /**
   * A response taught a route's limit and window: stores them (for a day) when they are new, or
   * the stored ones are older than an hour. For the same limit the longest window seen stands.
   */
  noteLimit(template: string, limit: number, windowMs: number): void {
    if (!this.available || !(limit > 0) || !(windowMs > 0)) return;
    const known = this.#learned.get(template);
    const now = this.#clock.now();
    if (
      known && known.limit === limit && known.windowMs >= windowMs &&
      now - known.at < LEARNED_REFRESH_MS
    ) return;
    const next = mergeLearned(known ?? null, { limit, windowMs, at: now });
    this.#learned.set(template, next);
    void this.#track(this.#storeLearnedImpl(template, next));
  }

  /** The limit and window stored for a route template in the last day, or null. */
  async learnedLimit(template: string): Promise<{ limit: number; windowMs: number } | null> {
    if (!this.available) return null;
    try {
      this.ops++;
      const entry = await this.kv.get<LearnedLimit>(learnedKey(template));
      if (!isLearned(entry.value)) return null;
      const v = entry.value;
      const known = this.#learned.get(template);
      if (!known || known.limit !== v.limit || known.windowMs <= v.windowMs) {
        this.#learned.set(template, v);
      }
      return { limit: v.limit, windowMs: v.windowMs };
    } catch (err) {
      this.#fail("read learned limit", err);
      return null;
    }
  }

  /** Publishes a global (429) or invalid-request pause; the later `until` wins. */
  publishPause(kind: "global" | "invalid", until: number): Promise<void> {
    return this.#track(this.#publishPauseImpl(kind, until));
  }

  async #reserveImpl(input: ReserveInput): Promise<ReserveResult | null> {
    if (!this.available) return null;
    const keys = [bucketKey(input.id), GLOBAL_KEY, INVALID_KEY];
    if (!input.hashKnown) keys.push(routeKey(input.template));
    try {
      for (let attempt = 0; attempt < 4; attempt++) {
        this.ops++;
        const entries = await this.kv.getMany<unknown[]>(keys);
        const pauses: Pauses = {
          globalUntil: untilOf(entries[1].value),
          invalidUntil: untilOf(entries[2].value),
        };
        if (!input.hashKnown && typeof entries[3]?.value === "string") {
          return { ...pauses, kind: "relocate", hash: entries[3].value };
        }
        const entry = entries[0] as Deno.KvEntryMaybe<SharedRecord>;
        const rec = isRecord(entry.value) ? entry.value : null;
        const now = this.#clock.now();
        const step = reserve(rec, input, now, this.#timing, () => this.#newId());
        if (step.kind === "unlimited") return { ...pauses, kind: "unlimited" };
        if (step.kind === "wait") {
          return {
            ...pauses,
            kind: "grant",
            granted: 0,
            probe: false,
            opened: false,
            record: step.record,
          };
        }
        const { next, granted, probe, opened } = step;
        this.ops++;
        const res = await this.kv.atomic().check(entry).set(bucketKey(input.id), next, {
          expireIn: Math.ceil(Math.max(0, next.resetAt - now)) + GC_MS,
        }).commit();
        if (res.ok) return { ...pauses, kind: "grant", granted, probe, opened, record: next };
      }
      return { globalUntil: 0, invalidUntil: 0, kind: "contended" };
    } catch (err) {
      this.#fail("reserve", err);
      return null;
    }
  }

  async #publishProbeImpl(
    fromId: string,
    toId: string,
    template: string,
    hash: string | undefined,
    obs: Observation,
  ): Promise<SharedRecord | null> {
    if (!this.available) return null;
    try {
      for (let attempt = 0; attempt < 4; attempt++) {
        this.ops++;
        const entry = await this.kv.get<SharedRecord>(bucketKey(toId));
        const rec = isRecord(entry.value) ? entry.value : null;
        const now = this.#clock.now();
        const next = withProbe(rec, obs, now, () => this.#newId());
        const op = this.kv.atomic().check(entry).set(bucketKey(toId), next, {
          expireIn: Math.ceil(Math.max(0, next.resetAt - now)) + GC_MS,
        });
        if (hash) op.set(routeKey(template), hash, { expireIn: 24 * 3_600_000 });
        if (fromId !== toId) op.delete(bucketKey(fromId));
        this.ops++;
        if ((await op.commit()).ok) return next;
      }
      return null;
    } catch (err) {
      this.#fail("publish probe", err);
      return null;
    }
  }

  /**
   * Reads a bucket record, lets `change` compute the next one (null: leave it), and commits it over
   * what was read, three tries; KV failing disables sharing for a while (`what` names the step).
   */
  async #updateBucket(
    id: string,
    what: string,
    change: (rec: SharedRecord | null, now: number) => SharedRecord | null,
  ): Promise<void> {
    if (!this.available) return;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        this.ops++;
        const entry = await this.kv.get<SharedRecord>(bucketKey(id));
        const now = this.#clock.now();
        const next = change(isRecord(entry.value) ? entry.value : null, now);
        if (!next) return;
        this.ops++;
        const res = await this.kv.atomic().check(entry).set(bucketKey(id), next, {
          expireIn: Math.ceil(Math.max(0, next.resetAt - now)) + GC_MS,
        }).commit();
        if (res.ok) return;
      }
    } catch (err) {
      this.#fail(what, err);
    }
  }

  #publishResetImpl(id: string, windowId: string, resetAt: number, sendBy: number): Promise<void> {
    return this.#updateBucket(
      id,
      "publish reset",
      (rec) => withExactReset(rec, windowId, resetAt, sendBy),
    );
  }

  async #storeLearnedImpl(template: string, next: LearnedLimit): Promise<void> {
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        this.ops++;
        const entry = await this.kv.get<LearnedLimit>(learnedKey(template));
        const cur = isLearned(entry.value) ? entry.value : null;
        const value = mergeLearned(cur, next);
        this.ops++;
        const res = await this.kv.atomic().check(entry).set(learnedKey(template), value, {
          expireIn: LEARNED_TTL_MS,
        }).commit();
        if (res.ok) {
          this.#learned.set(template, value);
          return;
        }
      }
    } catch (err) {
      this.#fail("store learned limit", err);
    }
  }

  #noteLateImpl(id: string, windowId: string, sentAt: number): Promise<void> {
    return this.#updateBucket(id, "note late", (rec, now) => withLate(rec, windowId, sentAt, now));
  }

  #pauseBucketImpl(id: string, until: number, limit: number, windowMs: number): Promise<void> {
    return this.#updateBucket(
      id,
      "pause bucket",
      (rec, now) => withPause(rec, until, limit, windowMs, now, () => this.#newId()),
    );
  }

  async #publishUnlimitedImpl(fromId: string): Promise<void> {
    if (!this.available) return;
    const rec = unlimitedRecord(this.#clock.now(), () => this.#newId());
    try {
      this.ops++;
      await this.kv.set(bucketKey(fromId), rec, { expireIn: UNLIMITED_MS + GC_MS });
    } catch (err) {
      this.#fail("publish unlimited", err);
    }
  }

  async #publishPauseImpl(kind: "global" | "invalid", until: number): Promise<void> {
    if (!this.available) return;
    const key = kind === "global" ? GLOBAL_KEY : INVALID_KEY;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        this.ops++;
        const entry = await this.kv.get(key);
        if (untilOf(entry.value) >= until) return;
        this.ops++;
        const res = await this.kv.atomic().check(entry).set(key, { until }, {
          expireIn: Math.ceil(Math.max(0, until - this.#clock.now())) + GC_MS,
        }).commit();
        if (res.ok) return;
      }
    } catch (err) {
      this.#fail(`publish ${kind} pause`, err);
    }
  }

  #newId(): string {
    return `${this.#clock.now().toString(36)}-${Math.floor(this.#random() * 2 ** 32).toString(36)}`;
  }

  #fail(what: string, err: unknown): void {
    this.errors++;
    const now = this.#clock.now();
    this.#disabledUntil = now + this.#cooldownMs;
    if (now - this.#lastWarn >= 60_000) {
      this.#lastWarn = now;
      this.#log.warn("rest: shared rate-limit state unavailable; using in-memory state", {
        op: what,
        error: err instanceof Error ? err.message : String(err),
        retryInMs: this.#cooldownMs,
      });
    }
  }
}
