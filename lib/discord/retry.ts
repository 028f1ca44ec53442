/**
 * Whether a request goes again, as one pure function of what has been retried so far, what the
 * last attempt gave and the request's policy, so every retry rule sits in one table-tested place:
 *
 * - a 429 (Discord's, not a Cloudflare ban) goes again up to `maxRateLimitRetries` times; the
 *   pacing holds it until the 429's retry time, so there is no delay of its own;
 * - a 5xx or a network failure goes again only when the request is idempotent, up to `maxRetries`
 *   times in all, after an exponential backoff whose cap doubles each time (`retryBaseMs`, at most
 *   `retryMaxMs`); the caller draws the delay under the cap (full jitter);
 * - a success is done, anything else fails with the attempt's error.
 */
import type { Outcome } from "./response.ts";

/** Retries used so far by one request. */
export interface RetryState {
  /** 5xx and network retries. */
  serverRetries: number;
  rateLimitRetries: number;
}

export interface RetryPolicy {
  /** The request may be repeated (GET, HEAD, PUT, DELETE, PATCH, or a POST marked safe). */
  idempotent: boolean;
  maxRetries: number;
  maxRateLimitRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** What the last attempt gave: an answer, or no answer at all. */
export type AttemptResult = Outcome | { kind: "network" };

export type RetryAction =
  | { type: "done" }
  | { type: "fail" }
  /**
   * Queue again at the front of its bucket, which the pacing holds for `delayMs` (the 429's
   * wait); `attempt` counts the 429 retries, this one too.
   */
  | { type: "rate_limit"; attempt: number; delayMs: number; next: RetryState }
  /** Wait a random time under `capMs`, then queue again; `attempt` counts these retries. */
  | {
    type: "backoff";
    reason: "server_error" | "network";
    attempt: number;
    capMs: number;
    next: RetryState;
  };

export const NO_RETRIES: RetryState = { serverRetries: 0, rateLimitRetries: 0 };

/** Methods whose repetition leaves the same state (Discord's PATCH bodies set absolute values). */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "PATCH"]);

/** Whether `method` may be retried after a 5xx or network failure, unless the caller says. */
export function isIdempotent(method: string, override?: boolean): boolean {
  return override ?? IDEMPOTENT.has(method);
}

/** The backoff cap of the `retry`-th retry (from 0): base·2^retry, at most `maxMs`. */
export function backoffCapMs(retry: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** retry);
}

/** Full jitter: a whole number of ms in [0, capMs), from a [0, 1) draw. */
export function jitter(capMs: number, draw: number): number {
  return Math.floor(draw * capMs);
}

export function decideRetry(
  state: RetryState,
  result: AttemptResult,
  policy: RetryPolicy,
): RetryAction {
  switch (result.kind) {
    case "success":
      return { type: "done" };
    case "failed":
      return { type: "fail" };
    case "rate_limited": {
      if (result.rateLimit.banned || state.rateLimitRetries >= policy.maxRateLimitRetries) {
        return { type: "fail" };
      }
      const attempt = state.rateLimitRetries + 1;
      return {
        type: "rate_limit",
        attempt,
        delayMs: result.rateLimit.retryAfterMs,
        next: { ...state, rateLimitRetries: attempt },
      };
    }
    case "server_error":
    case "network": {
      if (!policy.idempotent || state.serverRetries >= policy.maxRetries) return { type: "fail" };
      return {
        type: "backoff",
        reason: result.kind,
        attempt: state.serverRetries + 1,
        capMs: backoffCapMs(state.serverRetries, policy.retryBaseMs, policy.retryMaxMs),
        next: { ...state, serverRetries: state.serverRetries + 1 },
      };
    }
  }
}
