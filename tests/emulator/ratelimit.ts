/**
 * Discord's rate-limit model: per-route buckets keyed by bucket shape plus major parameter,
 * a per-token global limit, and the sliding-window count of invalid requests behind
 * Cloudflare's temporary ban.
 */

export interface BucketSpec {
  limit: number;
  windowMs: number;
}

export interface EmulatorLimits {
  /** Requests per second per bot token. */
  global: number;
  /** PATCH /guilds/{g}/members/{u}. */
  memberPatch: BucketSpec;
  /** PUT and DELETE /guilds/{g}/members/{u}/roles/{r}: one shared bucket. */
  memberRole: BucketSpec;
  /** GET /guilds/{g}/members. */
  memberList: BucketSpec;
  /** GET /guilds/{g}/members/{u}. */
  memberGet: BucketSpec;
  /** Every other route, per route and major parameter. */
  default: BucketSpec;
  /** Application command creates per scope (global or one guild) per day. */
  commandCreatesPerDay: number;
  /** Interaction follow-ups per interaction token; default 5 per 2 s. */
  followUp?: BucketSpec;
}

/**
 * Limits of routes called with a user's OAuth2 bearer token, counted per user. Apart from
 * EmulatorLimits so that `Required<EmulatorLimits>` objects built elsewhere stay complete;
 * `startEmulator({ limits })` and `emu.setLimits` take both.
 */
export interface BearerLimits {
  /** PUT /users/@me/applications/{app}/role-connection per user; default 5 per 5 s. */
  roleConnection?: BucketSpec;
}

/** Every limit the limiter enforces. */
export type AllLimits = Required<EmulatorLimits> & Required<BearerLimits>;

export type BucketKind =
  | "memberPatch"
  | "memberRole"
  | "memberList"
  | "memberGet"
  | "default"
  | "followUp"
  | "roleConnection";

export const DEFAULT_LIMITS: Readonly<AllLimits> = Object.freeze({
  global: 50,
  memberPatch: { limit: 10, windowMs: 10_000 },
  memberRole: { limit: 10, windowMs: 10_000 },
  memberList: { limit: 10, windowMs: 10_000 },
  memberGet: { limit: 5, windowMs: 1_000 },
  default: { limit: 50, windowMs: 1_000 },
  commandCreatesPerDay: 200,
  followUp: { limit: 5, windowMs: 2_000 },
  roleConnection: { limit: 5, windowMs: 5_000 },
});

/** Every bucket and the global limit at `n` per second; the daily create cap stays. */
export function uniformLimits(n: number): AllLimits {
  const spec = { limit: n, windowMs: 1_000 };
  return {
    global: n,
    memberPatch: spec,
    memberRole: spec,
    memberList: spec,
    memberGet: spec,
    default: spec,
    commandCreatesPerDay: DEFAULT_LIMITS.commandCreatesPerDay,
    followUp: spec,
    roleConnection: spec,
  };
}

/** Opaque, stable 32-hex-digit id for a bucket shape, like Discord's X-RateLimit-Bucket. */
export function bucketHash(shape: string): string {
  let out = "";
  for (const seed of [0x811c9dc5, 0x01000193, 0x9e3779b9, 0x85ebca6b]) {
    let h = seed >>> 0;
    for (let i = 0; i < shape.length; i++) {
      h ^= shape.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    out += h.toString(16).padStart(8, "0");
  }
  return out;
}

export interface BucketState {
  /** Whether this request was let through (and counted). */
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the window resets. */
  resetAt: number;
  bucket: string;
}

interface Window {
  count: number;
  resetAt: number;
}

export class RateLimiter {
  #limits: AllLimits;
  #buckets = new Map<string, Window>();
  #global = new Map<string, Window>();
  #hashes = new Map<string, string>();
  readonly #now: () => number;

  constructor(limits: AllLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  get limits(): Readonly<AllLimits> {
    return this.#limits;
  }

  /** Changes limits and starts every window afresh, so a test sees the new numbers at once. */
  setLimits(limits: Partial<EmulatorLimits> & BearerLimits): void {
    this.#limits = { ...this.#limits, ...definedOnly(limits) };
    this.reset();
  }

  reset(): void {
    this.#buckets.clear();
    this.#global.clear();
  }

  #spec(kind: BucketKind): BucketSpec {
    return this.#limits[kind];
  }

  hashFor(kind: BucketKind, routeKey: string): string {
    // The shared kinds hash their kind name, so PUT and DELETE member role report one bucket.
    const shape = kind === "default" ? routeKey : kind;
    let hash = this.#hashes.get(shape);
    if (!hash) this.#hashes.set(shape, hash = bucketHash(shape));
    return hash;
  }

  /** Takes one request from the bucket when it has room; reports the state either way. */
  take(kind: BucketKind, routeKey: string, major: string, consume = true): BucketState {
    const spec = this.#spec(kind);
    const bucket = this.hashFor(kind, routeKey);
    const key = `${bucket}:${major}`;
    const now = this.#now();
    let w = this.#buckets.get(key);
    if (!w || w.resetAt <= now) {
      if (this.#buckets.size > 50_000) this.#prune(now);
      w = { count: 0, resetAt: now + spec.windowMs };
      this.#buckets.set(key, w);
    }
    const allowed = w.count < spec.limit;
    if (allowed && consume) w.count++;
    return {
      allowed,
      limit: spec.limit,
      remaining: Math.max(0, spec.limit - w.count),
      resetAt: w.resetAt,
      bucket,
    };
  }

  /** Counts one request against the token's one-second global window; ms to wait if over. */
  takeGlobal(token: string): number {
    const now = this.#now();
    let w = this.#global.get(token);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + 1_000 };
      this.#global.set(token, w);
    }
    if (w.count >= this.#limits.global) return w.resetAt - now;
    w.count++;
    return 0;
  }

  #prune(now: number): void {
    for (const [key, w] of this.#buckets) if (w.resetAt <= now) this.#buckets.delete(key);
  }
}

/** Sliding 10-minute count of 401, 403 and non-shared 429 answers, as Cloudflare keeps. */
export class InvalidRequestTracker {
  #times: number[] = [];
  #head = 0;
  threshold: number;
  readonly windowMs: number;
  readonly #now: () => number;

  constructor(threshold: number, now: () => number, windowMs = 600_000) {
    this.threshold = threshold;
    this.#now = now;
    this.windowMs = windowMs;
  }

  record(): void {
    this.#times.push(this.#now());
  }

  count(): number {
    const cutoff = this.#now() - this.windowMs;
    while (this.#head < this.#times.length && this.#times[this.#head] <= cutoff) this.#head++;
    if (this.#head > 4096 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }

  banned(): boolean {
    return this.count() >= this.threshold;
  }

  reset(): void {
    this.#times = [];
    this.#head = 0;
  }
}

function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
