/**
 * Ethos API v2 client for Discord users' scores. fetch, clock and randomness are injected.
 *
 * - Every request sends `X-Ethos-Client: <app>@<version>` (anonymous callers share one limit).
 * - Bulk lookups ask at most 500 userkeys per call; users without a score are absent from the
 *   answer. A bulk call that still fails after retries reports its users in `failed`, so the
 *   caller skips them rather than treating them as "no score".
 * - The single lookup answers null on 404 (no score): the confirmation the rule needs before a
 *   member loses roles for having no score.
 * - Retries on 408, 429 (honouring Retry-After), 5xx, timeouts and network errors, with
 *   exponential backoff and full jitter; other 4xx answers fail at once.
 */
import { z } from "zod";
import { type Clock, systemClock } from "../clock.ts";
import { type Logger, silentLogger } from "../log/log.ts";

const MAX_BULK = 500;
const DISCORD_USERKEY = "service:discord:";

export interface EthosScore {
  score: number;
  level?: string;
}

export class EthosError extends Error {
  constructor(
    readonly endpoint: string,
    /** HTTP status, 0 for network errors and timeouts. */
    readonly status: number,
    detail: string,
  ) {
    super(`Ethos ${endpoint} failed: ${status ? `HTTP ${status}` : "network error"}: ${detail}`);
    this.name = "EthosError";
  }
}

export interface EthosClientOptions {
  /** e.g. https://api.ethos.network/api/v2 (ETHOS_API_BASE). */
  apiBase: string;
  /** `<app>@<version>`, sent as X-Ethos-Client. */
  client: string;
  fetch?: typeof fetch;
  clock?: Clock;
  log?: Logger;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  timeoutMs?: number;
  random?: () => number;
  /** Userkeys per bulk call (default and maximum 500). */
  bulkSize?: number;
  /** Bulk calls in flight at once (default 2). */
  bulkConcurrency?: number;
}

export interface EthosStats {
  calls: Record<string, number>;
  retries: number;
  failures: number;
}

export interface BulkResult {
  scores: Map<string, EthosScore>;
  /** Users whose bulk call failed after retries: unknown, not "no score". */
  failed: Set<string>;
}

export interface ScoreUpdatesPage {
  values: { userkey: string; lastUpdatedAt: string }[];
  total: number;
  limit: number;
  offset: number;
}

const scoreSchema = z.object({ score: z.number(), level: z.string().optional() });
const bulkSchema = z.record(z.string(), z.unknown());
const updatesSchema = z.object({
  values: z.array(z.object({ userkey: z.string(), lastUpdatedAt: z.string() })),
  total: z.number().int().nonnegative(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const discordUserkey = (userId: string): string => DISCORD_USERKEY + userId;

/** The Discord user id of a `service:discord:<id>` userkey, else undefined. */
export function discordIdOf(userkey: string): string | undefined {
  if (!userkey.startsWith(DISCORD_USERKEY)) return undefined;
  const id = userkey.slice(DISCORD_USERKEY.length);
  return /^\d{15,21}$/.test(id) ? id : undefined;
}

class Retryable extends Error {
  constructor(readonly status: number, detail: string, readonly retryAfterMs?: number) {
    super(detail);
  }
}

export class EthosClient {
  readonly #o: Required<Omit<EthosClientOptions, "fetch" | "clock" | "log" | "random">>;
  readonly #fetch: typeof fetch;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly stats: EthosStats = { calls: {}, retries: 0, failures: 0 };

  constructor(options: EthosClientOptions) {
    this.#o = {
      apiBase: options.apiBase.replace(/\/+$/, ""),
      client: options.client,
      retries: options.retries ?? 3,
      retryBaseMs: options.retryBaseMs ?? 500,
      retryMaxMs: options.retryMaxMs ?? 8_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      bulkSize: Math.min(MAX_BULK, Math.max(1, options.bulkSize ?? MAX_BULK)),
      bulkConcurrency: Math.max(1, options.bulkConcurrency ?? 2),
    };
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? silentLogger;
    this.#random = options.random ?? Math.random;
  }

  /** Scores of Discord users, in bulk calls of at most 500. Users without a score are absent. */
  async scores(userIds: readonly string[], signal?: AbortSignal): Promise<BulkResult> {
    const out: BulkResult = { scores: new Map(), failed: new Set() };
    const unique = [...new Set(userIds)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += this.#o.bulkSize) {
      batches.push(unique.slice(i, i + this.#o.bulkSize));
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        try {
          const answer = await this.request("POST /score/userkeys", "/score/userkeys", {
            method: "POST",
            body: JSON.stringify({ userkeys: batch.map(discordUserkey) }),
          }, signal);
          const map = bulkSchema.parse(answer);
          for (const id of batch) {
            const parsed = scoreSchema.safeParse(map[discordUserkey(id)]);
            if (parsed.success) out.scores.set(id, parsed.data);
          }
        } catch (error) {
          signal?.throwIfAborted();
          this.#log.warn("ethos: bulk score lookup failed; its members are skipped", {
            users: batch.length,
            error: error instanceof Error ? error.message : String(error),
          });
          for (const id of batch) out.failed.add(id);
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#o.bulkConcurrency, batches.length) }, worker),
    );
    return out;
  }

  /** One user's score; null when Ethos answers 404 (the user has no score). Throws EthosError. */
  async score(userId: string, signal?: AbortSignal): Promise<EthosScore | null> {
    const query = new URLSearchParams({ userkey: discordUserkey(userId) });
    const answer = await this.request(
      "GET /score/userkey",
      `/score/userkey?${query}`,
      {
        method: "GET",
      },
      signal,
      true,
    );
    if (answer === NOT_FOUND) return null;
    const parsed = scoreSchema.safeParse(answer);
    if (!parsed.success) throw new EthosError("GET /score/userkey", 200, "unexpected answer");
    return parsed.data;
  }

  /** Userkeys whose score changed after `after` (ISO time), oldest first. */
  async updates(
    after: string,
    page: { limit?: number; offset?: number } = {},
    signal?: AbortSignal,
  ): Promise<ScoreUpdatesPage> {
    const query = new URLSearchParams({
      after,
      limit: String(Math.min(1000, Math.max(1, page.limit ?? 1000))),
      offset: String(Math.max(0, page.offset ?? 0)),
    });
    const answer = await this.request("GET /score/updates", `/score/updates?${query}`, {
      method: "GET",
    }, signal);
    const parsed = updatesSchema.safeParse(answer);
    if (!parsed.success) throw new EthosError("GET /score/updates", 200, "unexpected answer");
    return parsed.data;
  }

  /**
   * One Ethos call with retries and backoff, for this client and its siblings (the profile
   * client): parsed JSON, or NOT_FOUND on a 404 when `notFoundIsNull`. Throws EthosError.
   */
  async request(
    endpoint: string,
    path: string,
    init: { method: string; body?: string },
    signal?: AbortSignal,
    notFoundIsNull = false,
  ): Promise<unknown> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= this.#o.retries; attempt++) {
      signal?.throwIfAborted();
      if (attempt > 0) {
        this.stats.retries++;
        const cap = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** (attempt - 1));
        let wait = Math.floor(this.#random() * cap);
        if (lastError instanceof Retryable && lastError.retryAfterMs !== undefined) {
          wait = Math.max(wait, Math.min(lastError.retryAfterMs, this.#o.retryMaxMs));
        }
        await this.#clock.sleep(wait, signal);
      }
      this.stats.calls[endpoint] = (this.stats.calls[endpoint] ?? 0) + 1;
      try {
        return await this.#once(endpoint, path, init, signal, notFoundIsNull);
      } catch (error) {
        if (!(error instanceof Retryable)) {
          this.stats.failures++;
          throw error;
        }
        lastError = error;
        this.#log.debug("ethos: retrying", { endpoint, attempt, status: error.status });
      }
    }
    this.stats.failures++;
    const status = lastError instanceof Retryable ? lastError.status : 0;
    throw new EthosError(endpoint, status, lastError?.message ?? "failed");
  }

  async #once(
    endpoint: string,
    path: string,
    init: { method: string; body?: string },
    signal: AbortSignal | undefined,
    notFoundIsNull: boolean,
  ): Promise<unknown> {
    const timeout = new AbortController();
    const stopTimer = new AbortController();
    this.#clock.sleep(this.#o.timeoutMs, stopTimer.signal).then(
      () => timeout.abort(new DOMException("timed out", "TimeoutError")),
      () => {},
    );
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(this.#o.apiBase + path, {
        method: init.method,
        body: init.body,
        signal: combined,
        headers: {
          "accept": "application/json",
          "x-ethos-client": this.#o.client,
          ...(init.body ? { "content-type": "application/json" } : {}),
        },
      });
      text = await res.text();
    } catch (error) {
      signal?.throwIfAborted();
      throw new Retryable(0, error instanceof Error ? error.message : String(error));
    } finally {
      stopTimer.abort();
    }
    if (res.status === 404 && notFoundIsNull) return NOT_FOUND;
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const after = Number(res.headers.get("retry-after"));
      throw new Retryable(
        res.status,
        `HTTP ${res.status}`,
        Number.isFinite(after) && after >= 0 ? after * 1000 : undefined,
      );
    }
    if (!res.ok) throw new EthosError(endpoint, res.status, text.slice(0, 200));
    try {
      return JSON.parse(text);
    } catch {
      throw new EthosError(endpoint, res.status, "answer is not JSON");
    }
  }
}

export const NOT_FOUND = Symbol("not found");
