/**
 * The Discord REST client: every Discord HTTP call of the bot goes through one `RestClient`.
 *
 * Rate limits are respected *before* sending rather than discovered through 429s:
 * - per-route buckets (buckets.ts): learned from `X-RateLimit-*` headers, keyed by Discord's bucket
 *   hash + major parameter, one FIFO queue each, saturating `remaining` then waiting for the reset;
 * - the global limit: evenly spaced sends, at most `globalLimit` per second for every route except
 *   interaction callbacks and webhook-token routes; with a `kv`, one send timeline for every
 *   isolate of the bot (global_budget.ts), else this client's own (global_limiter.ts);
 * - the invalid-request guard (invalid_guard.ts): 401/403/429 (not `shared` 429s) are counted in a
 *   sliding 10-minute window; at `invalidRequestLimit` every request waits until the window slides;
 * - optional shared state (shared_state.ts): with a `kv`, isolates reserve bucket slots in Deno KV
 *   so several instances do not spend the same bucket twice.
 *
 * 429s that still happen are honoured by scope (global: pause every non-exempt request; user /
 * shared: pause that bucket) and retried up to `maxRateLimitRetries` times.
 *
 * Retries on 5xx and network errors (exponential backoff, full jitter, `maxRetries` times) apply to
 * idempotent requests only: GET, HEAD, PUT, DELETE and PATCH. Discord's PATCH bodies set fields to
 * absolute values (a member PATCH with `roles` replaces the whole role list), so repeating one
 * yields the same state. POST is not retried on 5xx/network errors (a create may have landed)
 * unless the caller passes `idempotent: true`.
 *
 * Requests wait while the invalid-request guard pauses the client; pass `maxPauseWaitMs` to get a
 * `RestPausedError` instead when the pause is longer (0: never wait). Abort with `signal`.
 *
 * The token only ever goes into the Authorization header: errors and logs name the route template
 * (webhook / interaction tokens become `:token`).
 */
import { type Clock, systemClock } from "../clock.ts";
import { VERSION } from "../config.ts";
import { type Logger, silentLogger } from "../log/log.ts";
import { redactString, registerSecret } from "../log/redact.ts";
import { Bucket, type BucketHost, type QueueEntry, type RateLimitInfo } from "./buckets.ts";
import {
  DiscordApiError,
  DiscordHttpError,
  DiscordRateLimitError,
  type RateLimitScope,
  RestClosedError,
  RestPausedError,
} from "./errors.ts";
import { type GlobalGate, GlobalLimiter } from "./global_limiter.ts";
import { type GlobalBudgetStats, SharedGlobalLimiter } from "./global_budget.ts";
import { InvalidRequestGuard } from "./invalid_guard.ts";
import { parseRoute, type RouteInfo } from "./route_key.ts";
import { SharedState } from "./shared_state.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  query?: Record<string, QueryValue> | URLSearchParams;
  /** JSON-serialised. */
  body?: unknown;
  /** Audit-log reason (sent URI-encoded as `X-Audit-Log-Reason`, cut to 512 characters). */
  reason?: string;
  signal?: AbortSignal;
  /** false for interaction / webhook-token routes (no Authorization header). Default true. */
  auth?: boolean;
  /** Retries on 5xx / network errors for this request (default: the client's `maxRetries`). */
  retries?: number;
  /** Overrides the method's idempotency (e.g. true to retry a POST that is safe to repeat). */
  idempotent?: boolean;
  /** Longest wait accepted for an invalid-request pause before `RestPausedError` (default ∞). */
  maxPauseWaitMs?: number;
  headers?: Record<string, string>;
}

export type RestEvent =
  | {
    type: "response";
    method: string;
    route: string;
    bucket: string;
    status: number;
    durationMs: number;
    attempt: number;
  }
  | {
    type: "rate_limited";
    method: string;
    route: string;
    bucket: string;
    scope: RateLimitScope;
    retryAfterMs: number;
  }
  | {
    type: "retry";
    method: string;
    route: string;
    reason: "rate_limit" | "server_error" | "network";
    attempt: number;
    delayMs: number;
  }
  | { type: "invalid_request"; status: number; used: number; limit: number }
  | { type: "paused"; reason: "invalid_requests" | "global_rate_limit"; until: number };

export interface RestClientOptions {
  token: string;
  /** e.g. https://discord.com/api/v10 (DISCORD_API_BASE). */
  apiBase: string;
  fetch?: typeof fetch;
  clock?: Clock;
  log?: Logger;
  /** Shares bucket state and pauses between isolates (best effort). */
  kv?: Deno.Kv;
  /** Requests per second across non-exempt routes (default 50). */
  globalLimit?: number;
  /**
   * With `kv`: share the global limit with every other client on the same KV (every isolate of
   * the bot) through one send timeline (global_budget.ts). Default true.
   */
  sharedGlobalLimit?: boolean;
  /** Invalid responses in the window that pause the client (default 8,000; Discord bans at 10,000). */
  invalidRequestLimit?: number;
  /** Window of the invalid-request guard (default 10 minutes). */
  invalidRequestWindowMs?: number;
  /** Retries of idempotent requests on 5xx / network errors (default 3). */
  maxRetries?: number;
  /** Retries after a 429 (default 5). */
  maxRateLimitRetries?: number;
  /** Backoff base and cap for 5xx / network retries (defaults 500 ms and 10 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Per-attempt timeout, response body included (default 15 s). */
  timeoutMs?: number;
  /** [0, 1) source for jitter; injectable for tests. */
  random?: () => number;
  /** Default `DiscordBot (https://ethos.network, <version>)`. */
  userAgent?: string;
  /** Metrics hook; exceptions thrown by it are ignored. */
  onEvent?: (event: RestEvent) => void;
  /** Safety margin added to every bucket reset time (default 10 ms). */
  bucketMarginMs?: number;
  /** Slack added to the global limiter's one-second window (default 20 ms). */
  globalSlackMs?: number;
  /** Poll interval while another isolate holds a bucket's probe (default 50 ms). */
  sharedPollMs?: number;
}

export interface RestStats {
  /** HTTP attempts sent. */
  requests: number;
  /** Responses by status code; "network" counts attempts without a response. */
  byStatus: Record<string, number>;
  rateLimited: { user: number; global: number; shared: number };
  retries: number;
  serverErrors: number;
  networkErrors: number;
  invalidRequests: { used: number; limit: number; pausedUntil: number | null };
  globalPausedUntil: number | null;
  queues: Record<string, ReturnType<Bucket["stats"]>>;
  shared: { ops: number; errors: number; available: boolean } | null;
  /** The KV-shared global limit, when on. */
  globalBudget: GlobalBudgetStats | null;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "PATCH"]);
const MAX_REASON = 512;
/** How long to stop everything after a Cloudflare ban answer without Retry-After. */
const CLOUDFLARE_PAUSE_MS = 60_000;

export class RestClient {
  readonly #token: string;
  readonly #apiBase: string;
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #global: GlobalGate;
  readonly #budget: SharedGlobalLimiter | null;
  #leaving: Promise<void> | null = null;
  readonly #guard: InvalidRequestGuard;
  readonly #shared: SharedState | null;
  readonly #maxRetries: number;
  readonly #maxRateLimitRetries: number;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #timeoutMs: number;
  readonly #random: () => number;
  readonly #userAgent: string;
  readonly #onEvent?: (event: RestEvent) => void;
  readonly #closed = new AbortController();
  readonly #buckets = new Map<string, Bucket>();
  readonly #templateHash = new Map<string, string>();
  readonly #host: BucketHost;
  #seq = 0;
  #lastSweep = 0;
  readonly #stats = {
    requests: 0,
    byStatus: {} as Record<string, number>,
    rateLimited: { user: 0, global: 0, shared: 0 },
    retries: 0,
    serverErrors: 0,
    networkErrors: 0,
  };

  constructor(options: RestClientOptions) {
    if (!options.token) throw new Error("RestClient: token is required");
    this.#token = options.token;
    registerSecret(options.token);
    this.#apiBase = options.apiBase.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#maxRateLimitRetries = options.maxRateLimitRetries ?? 5;
    this.#retryBaseMs = options.retryBaseMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#random = options.random ?? Math.random;
    this.#userAgent = options.userAgent ?? `DiscordBot (https://ethos.network, ${VERSION})`;
    this.#onEvent = options.onEvent;
    this.#budget = options.kv && options.sharedGlobalLimit !== false
      ? new SharedGlobalLimiter(options.kv, this.#clock, {
        perSecond: options.globalLimit ?? 50,
        slackMs: options.globalSlackMs,
        log: this.#log,
      })
      : null;
    this.#global = this.#budget ?? new GlobalLimiter(this.#clock, {
      perSecond: options.globalLimit ?? 50,
      slackMs: options.globalSlackMs,
    });
    this.#guard = new InvalidRequestGuard(this.#clock, {
      limit: options.invalidRequestLimit ?? 8_000,
      windowMs: options.invalidRequestWindowMs,
      log: this.#log,
      onTrip: (_count, until) => {
        this.#emit({ type: "paused", reason: "invalid_requests", until });
        void this.#shared?.publishPause("invalid", until);
      },
    });
    this.#shared = options.kv
      ? new SharedState(options.kv, {
        clock: this.#clock,
        log: this.#log,
        random: this.#random,
        marginMs: options.bucketMarginMs ?? 10,
      })
      : null;
    this.#host = {
      clock: this.#clock,
      global: this.#global,
      guard: this.#guard,
      shared: this.#shared,
      closed: this.#closed.signal,
      marginMs: options.bucketMarginMs ?? 10,
      pollMs: options.sharedPollMs ?? 50,
      random: this.#random,
      learnHash: (bucket, template, hash) => this.#learnHash(bucket, template, hash),
      adoptPauses: (globalUntil, invalidUntil) => {
        if (globalUntil > this.#clock.now()) this.#global.pause(globalUntil);
        if (invalidUntil > this.#clock.now()) this.#guard.adoptPause(invalidUntil);
      },
      onLoopError: (bucket, err) => {
        this.#log.error("rest: bucket queue failed", {
          bucket: bucket.id,
          error: err instanceof Error ? err.message : String(err),
        });
        bucket.rejectAll(err);
      },
    };
  }

  get<T = unknown>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>("GET", path, opts);
  }
  post<T = unknown>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>("POST", path, opts);
  }
  put<T = unknown>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>("PUT", path, opts);
  }
  patch<T = unknown>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>("PATCH", path, opts);
  }
  delete<T = unknown>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>("DELETE", path, opts);
  }

  /** Sends one request through the rate limiters; JSON in and out, 204 → undefined. */
  async request<T = unknown>(
    method: HttpMethod | string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    if (this.#closed.signal.aborted) throw new RestClosedError();
    const route = parseRoute(method, path.startsWith("/") ? path : `/${path}`);
    const url = this.#url(path, opts.query);
    const headers = this.#headers(opts);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const idempotent = opts.idempotent ?? IDEMPOTENT.has(route.method);
    const maxRetries = opts.retries ?? this.#maxRetries;
    const maxPauseWaitMs = opts.maxPauseWaitMs ?? Infinity;
    let attempt = 0;
    let serverRetries = 0;
    let rateLimitRetries = 0;
    let seq = -1;
    this.#sweep();

    for (;;) {
      opts.signal?.throwIfAborted();
      const pausedUntil = this.#guard.pausedUntil();
      if (pausedUntil && pausedUntil - this.#clock.now() > maxPauseWaitMs) {
        throw new RestPausedError(route.method, route.path, pausedUntil);
      }
      const bucket = this.#bucketFor(route);
      if (seq < 0) seq = ++this.#seq;
      const ticket = await this.#enqueue(bucket, route, seq, attempt > 0, maxPauseWaitMs, opts);
      attempt++;
      const started = this.#clock.now();
      bucket.sent(ticket, started);
      this.#stats.requests++;
      let res: Response;
      let text: string;
      let receivedAt: number;
      try {
        ({ res, text, receivedAt } = await this.#send(url, route.method, headers, body, opts));
      } catch (err) {
        bucket.complete(ticket, route.template, null, this.#clock.now(), 0);
        opts.signal?.throwIfAborted();
        if (this.#closed.signal.aborted) throw new RestClosedError();
        this.#stats.networkErrors++;
        this.#count("network");
        const detail = this.#scrub(err instanceof Error ? err.message : String(err));
        this.#log.warn("rest: network error", {
          method: route.method,
          route: route.path,
          attempt,
          error: detail,
        });
        if (idempotent && serverRetries < maxRetries) {
          await this.#backoff(route, "network", serverRetries++, opts.signal);
          continue;
        }
        throw new DiscordHttpError(0, route.method, route.path, detail);
      }

      const info = parseRateLimitHeaders(res.headers, receivedAt);
      const owner = bucket.complete(ticket, route.template, info, receivedAt, res.status);
      const status = res.status;
      this.#count(String(status));
      this.#emit({
        type: "response",
        method: route.method,
        route: route.path,
        bucket: owner.id,
        status,
        durationMs: receivedAt - started,
        attempt,
      });
      this.#log.debug("rest: response", {
        method: route.method,
        route: route.path,
        bucket: owner.id,
        status,
        ms: receivedAt - started,
      });
      const data = parseBody(res, text);

      if (status === 401 || status === 403 || (status === 429 && info.scope !== "shared")) {
        this.#countInvalid(status);
      }

      if (status === 429) {
        const scope = this.#handle429(route, owner, info, data, receivedAt);
        if (scope.retry && rateLimitRetries < this.#maxRateLimitRetries) {
          rateLimitRetries++;
          this.#stats.retries++;
          this.#emit({
            type: "retry",
            method: route.method,
            route: route.path,
            reason: "rate_limit",
            attempt: rateLimitRetries,
            delayMs: scope.retryAfterMs,
          });
          continue;
        }
        throw new DiscordRateLimitError(
          route.method,
          route.path,
          scope.scope,
          scope.retryAfterMs,
        );
      }

      if (status >= 500) {
        this.#stats.serverErrors++;
        if (idempotent && serverRetries < maxRetries) {
          this.#log.warn("rest: server error, retrying", {
            method: route.method,
            route: route.path,
            status,
            attempt,
          });
          await this.#backoff(route, "server_error", serverRetries++, opts.signal);
          continue;
        }
        throw this.#error(route, status, data, text);
      }

      if (status >= 200 && status < 300) {
        return (status === 204 || text.length === 0 ? undefined : data) as T;
      }
      throw this.#error(route, status, data, text);
    }
  }

  /**
   * What the client has learned about the rate-limit bucket a route falls in: its limit and
   * window (the longest Reset-After seen), or null until a response taught them (or when the
   * route answered without rate-limit headers). Lets callers pace work to the real limits.
   */
  bucketInfo(method: string, path: string): { limit: number; windowMs: number } | null {
    const route = parseRoute(method, path.startsWith("/") ? path : `/${path}`);
    const hash = this.#templateHash.get(route.template);
    const bucket = this.#buckets.get(hash ? `${hash}:${route.major}` : route.key)?.owner;
    if (!bucket || !bucket.known || bucket.unlimited || bucket.limit <= 0 || bucket.windowMs <= 0) {
      return null;
    }
    return { limit: bucket.limit, windowMs: bucket.windowMs };
  }

  /**
   * `bucketInfo`, or else what an earlier client (another chunk, another isolate) learned about
   * the route in the last day, kept in KV with the shared state; for the same limit, the longer
   * window. Lets a job plan with Discord's real limits before its first request on the route.
   */
  async learnedLimits(
    method: string,
    path: string,
  ): Promise<{ limit: number; windowMs: number } | null> {
    const local = this.bucketInfo(method, path);
    const route = parseRoute(method, path.startsWith("/") ? path : `/${path}`);
    const stored = this.#shared && !route.hasToken
      ? await this.#shared.learnedLimit(route.template)
      : null;
    if (!stored || (local && local.limit !== stored.limit)) return local;
    return local
      ? { limit: local.limit, windowMs: Math.max(local.windowMs, stored.windowMs) }
      : stored;
  }

  /** A snapshot of counters, the invalid-request budget and the queues. */
  stats(): RestStats {
    const now = this.#clock.now();
    const queues: RestStats["queues"] = {};
    for (const [id, b] of this.#buckets) queues[id] = b.stats();
    const paused = this.#guard.pausedUntil();
    return {
      requests: this.#stats.requests,
      byStatus: { ...this.#stats.byStatus },
      rateLimited: { ...this.#stats.rateLimited },
      retries: this.#stats.retries,
      serverErrors: this.#stats.serverErrors,
      networkErrors: this.#stats.networkErrors,
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

  /**
   * Requests per second of the global limit this client can expect: the whole limit, or with a
   * shared budget its share among the clients claiming from it now (for planners).
   */
  globalShare(): number {
    return this.#budget?.share() ?? this.#global.perSecond;
  }

  /**
   * Rejects every queued request with `RestClosedError`, aborts those in flight and stops the
   * queues. The promise resolves once background KV writes have finished (awaiting it is only
   * needed before closing the KV handle). Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closed.signal.aborted) {
      this.#closed.abort(new RestClosedError());
      for (const b of this.#buckets.values()) b.rejectAll(new RestClosedError());
      this.#leaving = this.#budget?.close() ?? null;
    }
    return Promise.all([this.#shared?.settled(), this.#leaving]).then(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------------

  #enqueue(
    bucket: Bucket,
    route: RouteInfo,
    seq: number,
    front: boolean,
    maxPauseWaitMs: number,
    opts: RequestOptions,
  ) {
    return new Promise<Parameters<QueueEntry["resolve"]>[0]>((resolve, reject) => {
      const signal = opts.signal;
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

  async #send(
    url: string,
    method: string,
    headers: Headers,
    body: string | undefined,
    opts: RequestOptions,
  ): Promise<{ res: Response; text: string; receivedAt: number }> {
    const ctl = new AbortController();
    const timer = new AbortController();
    const onAbort = () => ctl.abort(opts.signal?.reason);
    const onClose = () => ctl.abort(new RestClosedError());
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    this.#closed.signal.addEventListener("abort", onClose, { once: true });
    this.#clock.sleep(this.#timeoutMs, timer.signal).then(
      () => ctl.abort(new DOMException(`timed out after ${this.#timeoutMs} ms`, "TimeoutError")),
      () => {},
    );
    try {
      const res = await this.#fetch(url, { method, headers, body, signal: ctl.signal });
      const receivedAt = this.#clock.now();
      const text = await res.text();
      return { res, text, receivedAt };
    } catch (err) {
      if (ctl.signal.aborted && ctl.signal.reason instanceof DOMException) {
        throw ctl.signal.reason;
      }
      throw err;
    } finally {
      timer.abort();
      opts.signal?.removeEventListener("abort", onAbort);
      this.#closed.signal.removeEventListener("abort", onClose);
    }
  }

  #handle429(
    route: RouteInfo,
    bucket: Bucket,
    info: RateLimitInfo,
    data: unknown,
    receivedAt: number,
  ): { scope: RateLimitScope; retryAfterMs: number; retry: boolean } {
    const body = (data && typeof data === "object" ? data : {}) as {
      retry_after?: unknown;
      global?: unknown;
    };
    const bodyRetry = typeof body.retry_after === "number" ? body.retry_after * 1000 : undefined;
    const retryAfterMs = Math.max(
      0,
      bodyRetry ?? info.retryAfterMs ?? info.resetAfterMs ?? 1000,
    );
    const hasRateLimitHeaders = info.scope !== undefined || info.limit !== undefined;
    // No Discord JSON and no rate-limit headers: Cloudflare's IP ban, not Discord's limiter.
    const banned = !hasRateLimitHeaders && !info.global && typeof body.retry_after !== "number";
    const scope: RateLimitScope = info.scope === "shared"
      ? "shared"
      : info.scope === "global" || info.global || body.global === true || !hasRateLimitHeaders
      ? "global"
      : "user";
    if (banned) {
      const pauseMs = Math.max(info.retryAfterMs ?? 0, CLOUDFLARE_PAUSE_MS);
      const until = receivedAt + pauseMs;
      this.#stats.rateLimited.global++;
      this.#guard.adoptPause(until);
      this.#emit({ type: "paused", reason: "invalid_requests", until });
      void this.#shared?.publishPause("invalid", until);
      this.#log.error("rest: refused by Cloudflare (IP ban); pausing every request", {
        method: route.method,
        route: route.path,
        until: new Date(until).toISOString(),
      });
      return { scope: "global", retryAfterMs: pauseMs, retry: false };
    }
    const until = receivedAt + retryAfterMs + this.#host.marginMs;
    this.#stats.rateLimited[scope]++;
    this.#emit({
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
      this.#emit({ type: "paused", reason: "global_rate_limit", until });
      void this.#shared?.publishPause("global", until);
      bucket.kick();
    } else {
      bucket.pause(until, scope);
    }
    return { scope, retryAfterMs, retry: true };
  }

  #countInvalid(status: number): void {
    this.#guard.record();
    this.#emit({
      type: "invalid_request",
      status,
      used: this.#guard.used(),
      limit: this.#guard.limit,
    });
  }

  async #backoff(
    route: RouteInfo,
    reason: "server_error" | "network",
    retry: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const cap = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** retry);
    const delayMs = Math.floor(this.#random() * cap);
    this.#stats.retries++;
    this.#emit({
      type: "retry",
      method: route.method,
      route: route.path,
      reason,
      attempt: retry + 1,
      delayMs,
    });
    const signals = [this.#closed.signal, ...(signal ? [signal] : [])];
    await this.#clock.sleep(delayMs, AbortSignal.any(signals));
  }

  #error(route: RouteInfo, status: number, data: unknown, text: string): Error {
    const body = data as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
    if (body && typeof body === "object" && (typeof body.code === "number" || body.message)) {
      return new DiscordApiError(
        status,
        typeof body.code === "number" ? body.code : undefined,
        this.#scrub(String(body.message ?? "")),
        body.errors,
        route.method,
        route.path,
      );
    }
    return new DiscordHttpError(
      status,
      route.method,
      route.path,
      this.#scrub(text.replace(/\s+/g, " ").trim().slice(0, 200)),
    );
  }

  #bucketFor(route: RouteInfo): Bucket {
    const hash = this.#templateHash.get(route.template);
    const id = hash ? `${hash}:${route.major}` : route.key;
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      bucket = new Bucket(this.#host, id, route.template, route.major, route.hasToken);
      bucket.hash = hash;
      this.#buckets.set(id, bucket);
    }
    return bucket;
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

  /** Drops idle buckets now and then (interaction tokens create one each). */
  #sweep(): void {
    const now = this.#clock.now();
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [id, b] of this.#buckets) {
      if (b.idle && now - b.lastUsed > 300_000) this.#buckets.delete(id);
    }
  }

  #url(path: string, query?: RequestOptions["query"]): string {
    const p = path.startsWith("/") ? path : `/${path}`;
    let qs = "";
    if (query instanceof URLSearchParams) qs = query.toString();
    else if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null) params.set(k, String(v));
      }
      qs = params.toString();
    }
    return `${this.#apiBase}${p}${qs ? (p.includes("?") ? "&" : "?") + qs : ""}`;
  }

  #headers(opts: RequestOptions): Headers {
    const h = new Headers(opts.headers);
    h.set("User-Agent", this.#userAgent);
    if (opts.auth !== false) h.set("Authorization", `Bot ${this.#token}`);
    else h.delete("Authorization");
    if (opts.body !== undefined) h.set("Content-Type", "application/json");
    if (opts.reason) {
      h.set(
        "X-Audit-Log-Reason",
        encodeURIComponent(Array.from(opts.reason).slice(0, MAX_REASON).join("")),
      );
    }
    return h;
  }

  #scrub(text: string): string {
    return redactString(text.split(this.#token).join("[redacted]"));
  }

  #count(key: string): void {
    this.#stats.byStatus[key] = (this.#stats.byStatus[key] ?? 0) + 1;
  }

  #emit(event: RestEvent): void {
    if (!this.#onEvent) return;
    try {
      this.#onEvent(event);
    } catch {
      // Metrics must never break a request.
    }
  }
}

/** Reads Discord's rate-limit headers. Reset times are relative to local receipt (no skew). */
export function parseRateLimitHeaders(h: Headers, receivedAt: number): RateLimitInfo {
  const num = (name: string): number | undefined => {
    const v = h.get(name);
    if (v === null || v.trim() === "") return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const resetAfter = num("x-ratelimit-reset-after");
  let resetAfterMs = resetAfter !== undefined ? resetAfter * 1000 : undefined;
  if (resetAfterMs === undefined) {
    const reset = num("x-ratelimit-reset");
    if (reset !== undefined) {
      // Only an absolute time: measure it against the server's own clock when it sent a Date.
      const serverNow = Date.parse(h.get("date") ?? "");
      const base = Number.isFinite(serverNow) ? serverNow : receivedAt;
      resetAfterMs = Math.max(0, reset * 1000 - base) + (Number.isFinite(serverNow) ? 1000 : 0);
    }
  }
  const retryAfter = num("retry-after");
  return {
    bucket: h.get("x-ratelimit-bucket") ?? undefined,
    limit: num("x-ratelimit-limit"),
    remaining: num("x-ratelimit-remaining"),
    resetAfterMs,
    scope: h.get("x-ratelimit-scope")?.toLowerCase() ?? undefined,
    global: h.get("x-ratelimit-global")?.toLowerCase() === "true",
    retryAfterMs: retryAfter !== undefined ? retryAfter * 1000 : undefined,
  };
}

function parseBody(res: Response, text: string): unknown {
  if (!text) return undefined;
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json") || /^[[{]/.test(text.trimStart())) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
