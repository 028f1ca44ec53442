/**
 * Request pacing: when each request may go out, kept apart from what a request does and from
 * what its answer means (rest.ts, response.ts, retry.ts). Like @discordjs/rest's manager and
 * handlers, it routes a request to its bucket's queue and lets the queue hand out send tickets:
 *
 * - one `Bucket` (buckets.ts) per Discord rate-limit bucket, found by route key until Discord
 *   names the bucket's hash, then by hash + major parameter (queues found to share a hash merge);
 * - the global limit, through one gate every non-exempt request passes: with a KV, one send
 *   timeline for every isolate of the bot (global_budget.ts), else this client's own
 *   (global_limiter.ts);
 * - the invalid-request guard (invalid_guard.ts), and with a KV the bucket windows shared between
 *   isolates (shared_state.ts);
 * - what a 429 does to all of these (a global pause, a bucket pause, a ban's pause for everything).
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import { Bucket, type BucketHost, type QueueEntry, type Ticket } from "./buckets.ts";
import { RestClosedError, RestPausedError } from "./errors.ts";
import type { RestEvent } from "./events.ts";
import { type GlobalGate, GlobalLimiter } from "./global_limiter.ts";
import { type GlobalBudgetStats, SharedGlobalLimiter } from "./global_budget.ts";
import { InvalidRequestGuard } from "./invalid_guard.ts";
import type { RateLimit } from "./response.ts";
import type { RouteInfo } from "./route_key.ts";
import { SharedState } from "./shared_state.ts";
import { mergeLearned } from "./shared_records.ts";

/** The pacing's settings, as the client takes them. */
export interface PacingOptions {
  /** Shares bucket state and pauses between isolates (best effort). */
  kv?: Deno.Kv;
  /** Requests per second across non-exempt routes (default 50). */
  globalLimit?: number;
  /**
   * With `kv`: share the global limit with every other client on the same KV (every isolate of
   * the bot) through one send timeline (global_budget.ts). Default true.
   */
  sharedGlobalLimit?: boolean;
  /** Invalid answers in the window that pause the client (default 8,000; Discord bans at 10k). */
  invalidRequestLimit?: number;
  /** Window of the invalid-request guard (default 10 minutes). */
  invalidRequestWindowMs?: number;
  /** Safety margin added to every bucket reset time (default 10 ms). */
  bucketMarginMs?: number;
  /** Slack added to the global limiter's one-second window (default 20 ms). */
  globalSlackMs?: number;
  /** Poll interval while another isolate holds a bucket's probe (default 50 ms). */
  sharedPollMs?: number;
}

/** What the pacing is given by its client. */
export interface PacerDeps {
  clock: Clock;
  log: Logger;
  /** Aborts when the client closes: queues stop and in-flight waits end. */
  closed: AbortSignal;
  report: (event: RestEvent) => void;
  random: () => number;
}

export interface PacerStats {
  rateLimited: { user: number; global: number; shared: number };
  invalidRequests: { used: number; limit: number; pausedUntil: number | null };
  globalPausedUntil: number | null;
  queues: Record<string, ReturnType<Bucket["stats"]>>;
  shared: { ops: number; errors: number; available: boolean } | null;
  /** The KV-shared global limit, when on. */
  globalBudget: GlobalBudgetStats | null;
}

/** What the client learned about a bucket: its limit and window length. */
export interface BucketLimits {
  limit: number;
  windowMs: number;
}

export class Pacer {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #report: (event: RestEvent) => void;
  readonly #global: GlobalGate;
  readonly #budget: SharedGlobalLimiter | null;
  readonly #guard: InvalidRequestGuard;
  readonly #shared: SharedState | null;
  readonly #host: BucketHost;
  readonly #buckets = new Map<string, Bucket>();
  readonly #templateHash = new Map<string, string>();
  readonly #rateLimited = { user: 0, global: 0, shared: 0 };
  #seq = 0;
  #lastSweep = 0;

  constructor(options: PacingOptions, deps: PacerDeps) {
    const { clock, log, random } = deps;
    const perSecond = options.globalLimit ?? 50;
    const marginMs = options.bucketMarginMs ?? 10;
    this.#clock = clock;
    this.#log = log;
    this.#report = deps.report;
    this.#budget = options.kv && options.sharedGlobalLimit !== false
      ? new SharedGlobalLimiter(options.kv, clock, {
        perSecond,
        slackMs: options.globalSlackMs,
        log,
      })
      : null;
    this.#global = this.#budget ??
      new GlobalLimiter(clock, { perSecond, slackMs: options.globalSlackMs });
    this.#guard = new InvalidRequestGuard(clock, {
      limit: options.invalidRequestLimit ?? 8_000,
      windowMs: options.invalidRequestWindowMs,
      log,
      onTrip: (_count, until) => {
        this.#report({ type: "paused", reason: "invalid_requests", until });
        void this.#shared?.publishPause("invalid", until);
      },
    });
    this.#shared = options.kv
      ? new SharedState(options.kv, { clock, log, random, marginMs })
      : null;
    this.#host = {
      clock,
      global: this.#global,
      guard: this.#guard,
      shared: this.#shared,
      closed: deps.closed,
      marginMs,
      pollMs: options.sharedPollMs ?? 50,
      random,
      learnHash: (bucket, template, hash) => this.#learnHash(bucket, template, hash),
      adoptPauses: (globalUntil, invalidUntil) => {
        if (globalUntil > clock.now()) this.#global.pause(globalUntil);
        if (invalidUntil > clock.now()) this.#guard.adoptPause(invalidUntil);
      },
      onLoopError: (bucket, err) => {
        log.error("rest: bucket queue failed", {
          bucket: bucket.id,
          error: err instanceof Error ? err.message : String(err),
        });
        bucket.rejectAll(err);
      },
    };
  }

  /** Epoch ms until which the invalid-request guard holds every request, or 0. */
  pausedUntil(): number {
    return this.#guard.pausedUntil();
  }

  /** A new request's place in line (a retry keeps its own, so merged queues stay in order). */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** A route's queue id: the bucket's hash with the major parameter once learned, else its key. */
  #bucketId(route: RouteInfo, hash = this.#templateHash.get(route.template)): string {
    return hash ? `${hash}:${route.major}` : route.key;
  }

  /** The queue a route's requests wait in now (it changes once the bucket's hash is learned). */
  bucketFor(route: RouteInfo): Bucket {
    const hash = this.#templateHash.get(route.template);
    const id = this.#bucketId(route, hash);
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      bucket = new Bucket(this.#host, id, route.template, route.major, route.hasToken);
      bucket.hash = hash;
      this.#buckets.set(id, bucket);
    }
    return bucket;
  }

  /**
   * Waits in `bucket`'s queue (at the front for a retry) until the request may go out; rejects
   * with `signal`'s reason, `RestPausedError` when an invalid-request pause outlasts
   * `maxPauseWaitMs`, or `RestClosedError`.
   */
  ticket(
    bucket: Bucket,
    route: RouteInfo,
    seq: number,
    front: boolean,
    maxPauseWaitMs: number,
    signal?: AbortSignal,
  ): Promise<Ticket> {
    return new Promise<Ticket>((resolve, reject) => {
      const onAbort = () => {
        if (entry.settled) return;
        entry.settled = true;
        reject(signal!.reason);
      };
      const entry: QueueEntry = {
        seq,
        exempt: route.exemptGlobal,
        maxPauseWaitMs,
        settled: false,
        resolve: (t) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(t);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
        pausedError: (until) => new RestPausedError(route.method, route.path, until),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      bucket.enqueue(entry, front);
    });
  }

  /** A 401, 403 or non-shared 429 answer: one more toward the invalid-request limit. */
  countInvalid(status: number): void {
    this.#guard.record();
    this.#report({
      type: "invalid_request",
      status,
      used: this.#guard.used(),
      limit: this.#guard.limit,
    });
  }

  /**
   * A 429 answered at `receivedAt`: a ban pauses every request (exempt routes too), a global
   * limit every non-exempt one, a user or shared limit the bucket; each until its retry time
   * (plus the bucket margin), for every isolate when shared.
   */
  rateLimited(route: RouteInfo, bucket: Bucket, rl: RateLimit, receivedAt: number): void {
    if (rl.banned) {
      const until = receivedAt + rl.retryAfterMs;
      this.#rateLimited.global++;
      this.#guard.adoptPause(until);
      this.#report({ type: "paused", reason: "invalid_requests", until });
      void this.#shared?.publishPause("invalid", until);
      this.#log.error("rest: refused by Cloudflare (IP ban); pausing every request", {
        method: route.method,
        route: route.path,
        until: new Date(until).toISOString(),
      });
      return;
    }
    const { scope, retryAfterMs } = rl;
    const until = receivedAt + retryAfterMs + this.#host.marginMs;
    this.#rateLimited[scope]++;
    this.#report({
      type: "rate_limited",
      method: route.method,
      route: route.path,
      bucket: bucket.id,
      scope,
      retryAfterMs,
    });
    this.#log.warn("rest: rate limited", {
      method: route.method,
      route: route.path,
      bucket: bucket.id,
      scope,
      retryAfterMs,
    });
    if (scope === "global") {
      this.#global.pause(until);
      this.#report({ type: "paused", reason: "global_rate_limit", until });
      void this.#shared?.publishPause("global", until);
      bucket.kick();
    } else {
      bucket.pause(until, scope);
    }
  }

  /** Limit and window learned for the bucket `route` falls in, or null (see `RestClient`). */
  bucketInfo(route: RouteInfo): BucketLimits | null {
    const bucket = this.#buckets.get(this.#bucketId(route))?.owner;
    if (!bucket || !bucket.known || bucket.unlimited || bucket.limit <= 0 || bucket.windowMs <= 0) {
      return null;
    }
    return { limit: bucket.limit, windowMs: bucket.windowMs };
  }

  /** `bucketInfo`, or else what was stored in KV for the route in the last day. */
  async learnedLimits(route: RouteInfo): Promise<BucketLimits | null> {
    const local = this.bucketInfo(route);
    const stored = this.#shared && !route.hasToken
      ? await this.#shared.learnedLimit(route.template)
      : null;
    // What this client saw stands; a stored window only lengthens the same limit's.
    return stored && local ? mergeLearned(stored, local) : local ?? stored;
  }

  /** Requests per second of the global limit this client can expect now. */
  share(): number {
    return this.#budget?.share() ?? this.#global.perSecond;
  }

  stats(): PacerStats {
    const now = this.#clock.now();
    const queues: PacerStats["queues"] = {};
    for (const [id, b] of this.#buckets) queues[id] = b.stats();
    const paused = this.#guard.pausedUntil();
    return {
      rateLimited: { ...this.#rateLimited },
      invalidRequests: {
        used: this.#guard.used(),
        limit: this.#guard.limit,
        pausedUntil: paused > now ? paused : null,
      },
      globalPausedUntil: this.#global.pausedUntil || null,
      queues,
      shared: this.#shared
        ? { ops: this.#shared.ops, errors: this.#shared.errors, available: this.#shared.available }
        : null,
      globalBudget: this.#budget?.stats() ?? null,
    };
  }

  /** Drops idle buckets now and then (interaction tokens create one each). */
  sweep(): void {
    const now = this.#clock.now();
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [id, b] of this.#buckets) {
      if (b.idle && now - b.lastUsed > 300_000) this.#buckets.delete(id);
    }
  }

  /** Rejects every queued request with `RestClosedError` and leaves the shared global timeline. */
  close(): Promise<void> {
    for (const b of this.#buckets.values()) b.rejectAll(new RestClosedError());
    return this.#budget?.close() ?? Promise.resolve();
  }

  /** Resolves once background KV writes have finished. */
  settled(): Promise<void> {
    return this.#shared?.settled() ?? Promise.resolve();
  }

  #learnHash(bucket: Bucket, template: string, hash: string): Bucket {
    this.#templateHash.set(template, hash);
    if (bucket.template !== template) this.#templateHash.set(bucket.template, hash);
    const id = `${hash}:${bucket.major}`;
    if (bucket.id === id) {
      bucket.hash = hash;
      return bucket;
    }
    const existing = this.#buckets.get(id);
    if (!existing || existing === bucket) {
      if (this.#buckets.get(bucket.id) === bucket) this.#buckets.delete(bucket.id);
      bucket.id = id;
      bucket.hash = hash;
      this.#buckets.set(id, bucket);
      return bucket;
    }
    if (this.#buckets.get(bucket.id) === bucket) this.#buckets.delete(bucket.id);
    this.#log.debug("rest: merging queues that share a bucket", { from: bucket.id, into: id });
    existing.absorb(bucket);
    return existing;
  }
}
