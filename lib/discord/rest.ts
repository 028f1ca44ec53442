/**
 * The Discord REST client: every Discord HTTP call of the bot goes through one `RestClient`. It
 * runs each request's attempts and leaves the rest to its parts:
 *
 * - pacing (pacer.ts): rate limits are respected *before* sending rather than discovered through
 *   429s. Per-route buckets learned from `X-RateLimit-*` headers (one FIFO queue each, saturating
 *   `remaining`, then waiting for the reset); the global limit (evenly spaced sends, at most
 *   `globalLimit` per second except interaction callbacks and webhook-token routes; with a `kv`,
 *   one send timeline for every isolate); the invalid-request guard (401/403/429, not `shared`
 *   429s, in a sliding 10-minute window: at `invalidRequestLimit` every request waits); with a
 *   `kv`, bucket slots reserved in Deno KV so isolates do not spend the same bucket twice;
 * - the wire (transport.ts): URL, headers, one fetch under a per-attempt timeout;
 * - the answer (response.ts): its rate-limit headers, body, outcome and typed error;
 * - retrying (retry.ts): a 429 that still happens is honoured by scope (global: every non-exempt
 *   request pauses; user / shared: that bucket) and retried up to `maxRateLimitRetries` times;
 *   5xx and network errors are retried (exponential backoff, full jitter, `maxRetries` times) for
 *   idempotent requests only: GET, HEAD, PUT, DELETE and PATCH. Discord's PATCH bodies set fields
 *   to absolute values (a member PATCH with `roles` replaces the whole role list), so repeating
 *   one yields the same state. POST is not retried on 5xx/network errors (a create may have
 *   landed) unless the caller passes `idempotent: true`.
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
import {
  DiscordHttpError,
  DiscordRateLimitError,
  RestClosedError,
  RestPausedError,
} from "./errors.ts";
import { eventReporter, type RestEvent } from "./events.ts";
import { type BucketLimits, Pacer, type PacerStats, type PacingOptions } from "./pacer.ts";
import {
  classifyResponse,
  countsAsInvalid,
  parseBody,
  parseRateLimitHeaders,
  responseError,
} from "./response.ts";
import {
  decideRetry,
  isIdempotent,
  jitter,
  NO_RETRIES,
  type RetryPolicy,
  type RetryState,
} from "./retry.ts";
import { parseRoute, type RouteInfo } from "./route_key.ts";
import { type Query, Transport } from "./transport.ts";

export type { RestEvent } from "./events.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

export interface RequestOptions {
  query?: Query;
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

export interface RestClientOptions extends PacingOptions {
  token: string;
  /** e.g. https://discord.com/api/v10 (DISCORD_API_BASE). */
  apiBase: string;
  fetch?: typeof fetch;
  clock?: Clock;
  log?: Logger;
  /** Retries of idempotent requests on 5xx / network errors (default 3). */
  maxRetries?: number;
  /** Retries after a 429 (default 5). */
  maxRateLimitRetries?: number;
  /** Backoff base and cap for 5xx / network retries (defaults 500 ms and 10 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Per-attempt timeout, response body included (default 15 s). */
  timeoutMs?: number;
  /** [0, 1) source for jitter (and the shared state's ids); injectable for tests. */
  random?: () => number;
  /** Default `DiscordBot (https://ethos.network, <version>)`. */
  userAgent?: string;
  /** Metrics hook; exceptions thrown by it are ignored. */
  onEvent?: (event: RestEvent) => void;
}

/** A snapshot of the client's counters, with the pacing's (429s, invalid requests, queues). */
export interface RestStats extends PacerStats {
  /** HTTP attempts sent. */
  requests: number;
  /** Responses by status code; "network" counts attempts without a response. */
  byStatus: Record<string, number>;
  retries: number;
  serverErrors: number;
  networkErrors: number;
}

export class RestClient {
  readonly #token: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pacer: Pacer;
  readonly #transport: Transport;
  #leaving: Promise<void> | null = null;
  /** The retry policy, but for each request's idempotency (and its own `retries`). */
  readonly #retry: Omit<RetryPolicy, "idempotent">;
  readonly #random: () => number;
  readonly #report: (event: RestEvent) => void;
  readonly #closed = new AbortController();
  readonly #stats = {
    requests: 0,
    byStatus: {} as Record<string, number>,
    retries: 0,
    serverErrors: 0,
    networkErrors: 0,
  };

  constructor(options: RestClientOptions) {
    if (!options.token) throw new Error("RestClient: token is required");
    this.#token = options.token;
    registerSecret(options.token);
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#retry = {
      maxRetries: options.maxRetries ?? 3,
      maxRateLimitRetries: options.maxRateLimitRetries ?? 5,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 10_000,
    };
    this.#random = options.random ?? Math.random;
    this.#report = eventReporter(options.onEvent);
    this.#transport = new Transport({
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      clock: this.#clock,
      apiBase: options.apiBase.replace(/\/+$/, ""),
      token: options.token,
      userAgent: options.userAgent ?? `DiscordBot (https://ethos.network, ${VERSION})`,
      timeoutMs: options.timeoutMs ?? 15_000,
      closed: this.#closed.signal,
    });
    this.#pacer = new Pacer(options, {
      clock: this.#clock,
      log: this.#log,
      closed: this.#closed.signal,
      report: this.#report,
      random: this.#random,
    });
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
    const route = routeOf(method, path);
    const outgoing = this.#transport.prepare(route.method, path, opts);
    const policy: RetryPolicy = {
      ...this.#retry,
      idempotent: isIdempotent(route.method, opts.idempotent),
      maxRetries: opts.retries ?? this.#retry.maxRetries,
    };
    const maxWait = opts.maxPauseWaitMs ?? Infinity;
    const pacer = this.#pacer;
    let retries: RetryState = NO_RETRIES;
    let attempt = 0;
    let seq = -1;
    pacer.sweep();

    for (;;) {
      opts.signal?.throwIfAborted();
      const pausedUntil = pacer.pausedUntil();
      if (pausedUntil && pausedUntil - this.#clock.now() > maxWait) {
        throw new RestPausedError(route.method, route.path, pausedUntil);
      }
      const bucket = pacer.bucketFor(route);
      if (seq < 0) seq = pacer.nextSeq();
      const ticket = await pacer.ticket(bucket, route, seq, attempt > 0, maxWait, opts.signal);
      attempt++;
      const started = this.#clock.now();
      bucket.sent(ticket, started);
      this.#stats.requests++;
      let answer;
      try {
        answer = await this.#transport.send(outgoing);
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
        const action = decideRetry(retries, { kind: "network" }, policy);
        if (action.type !== "backoff") {
          throw new DiscordHttpError(0, route.method, route.path, detail);
        }
        retries = action.next;
        await this.#backoff(route, action.reason, action.attempt, action.capMs, opts.signal);
        continue;
      }

      const { res, text, receivedAt } = answer;
      const status = res.status;
      const info = parseRateLimitHeaders(res.headers, receivedAt);
      const owner = bucket.complete(ticket, route.template, info, receivedAt, status);
      this.#count(String(status));
      this.#report({
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
      const data = parseBody(res.headers.get("content-type"), text);
      if (countsAsInvalid(status, info)) pacer.countInvalid(status);
      const outcome = classifyResponse(status, info, data);
      if (outcome.kind === "rate_limited") {
        pacer.rateLimited(route, owner, outcome.rateLimit, receivedAt);
      } else if (outcome.kind === "server_error") {
        this.#stats.serverErrors++;
      }

      const action = decideRetry(retries, outcome, policy);
      switch (action.type) {
        case "done":
          return (status === 204 || text.length === 0 ? undefined : data) as T;
        case "rate_limit":
          retries = action.next;
          this.#stats.retries++;
          this.#report({
            type: "retry",
            method: route.method,
            route: route.path,
            reason: "rate_limit",
            attempt: action.attempt,
            delayMs: action.delayMs,
          });
          continue;
        case "backoff":
          this.#log.warn("rest: server error, retrying", {
            method: route.method,
            route: route.path,
            status,
            attempt,
          });
          retries = action.next;
          await this.#backoff(route, action.reason, action.attempt, action.capMs, opts.signal);
          continue;
        case "fail":
          if (outcome.kind === "rate_limited") {
            const { scope, retryAfterMs } = outcome.rateLimit;
            throw new DiscordRateLimitError(route.method, route.path, scope, retryAfterMs);
          }
          throw responseError(route.method, route.path, status, data, text, (t) => this.#scrub(t));
      }
    }
  }

  /**
   * What the client has learned about the rate-limit bucket a route falls in: its limit and
   * window (the longest Reset-After seen), or null until a response taught them (or when the
   * route answered without rate-limit headers). Lets callers pace work to the real limits.
   */
  bucketInfo(method: string, path: string): BucketLimits | null {
    return this.#pacer.bucketInfo(routeOf(method, path));
  }

  /**
   * `bucketInfo`, or else what an earlier client (another chunk, another isolate) learned about
   * the route in the last day, kept in KV with the shared state; for the same limit, the longer
   * window. Lets a job plan with Discord's real limits before its first request on the route.
   */
  learnedLimits(method: string, path: string): Promise<BucketLimits | null> {
    return this.#pacer.learnedLimits(routeOf(method, path));
  }

  /** A snapshot of counters, the invalid-request budget and the queues. */
  stats(): RestStats {
    // A copy: the counters keep moving after the caller has its snapshot.
    return { ...this.#pacer.stats(), ...this.#stats, byStatus: { ...this.#stats.byStatus } };
  }

  /**
   * Requests per second of the global limit this client can expect: the whole limit, or with a
   * shared budget its share among the clients claiming from it now (for planners).
   */
  globalShare(): number {
    return this.#pacer.share();
  }

  /**
   * Rejects every queued request with `RestClosedError`, aborts those in flight and stops the
   * queues. The promise resolves once background KV writes have finished (awaiting it is only
   * needed before closing the KV handle). Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closed.signal.aborted) {
      this.#closed.abort(new RestClosedError());
      this.#leaving = this.#pacer.close();
    }
    return Promise.all([this.#pacer.settled(), this.#leaving]).then(() => {});
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sleeps a random time under `capMs` before a 5xx / network retry (cut short by close). */
  async #backoff(
    route: RouteInfo,
    reason: "server_error" | "network",
    attempt: number,
    capMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const delayMs = jitter(capMs, this.#random());
    this.#stats.retries++;
    this.#report({
      type: "retry",
      method: route.method,
      route: route.path,
      reason,
      attempt,
      delayMs,
    });
    const signals = [this.#closed.signal, ...(signal ? [signal] : [])];
    await this.#clock.sleep(delayMs, AbortSignal.any(signals));
  }

  #scrub(text: string): string {
    return redactString(text.split(this.#token).join("[redacted]"));
  }

  #count(key: string): void {
    this.#stats.byStatus[key] = (this.#stats.byStatus[key] ?? 0) + 1;
  }
}

function routeOf(method: string, path: string): RouteInfo {
  return parseRoute(method, path.startsWith("/") ? path : `/${path}`);
}
