/**
 * What the REST client reports to its metrics hook, and how: both the request loop (responses,
 * retries) and the pacing (429s, pauses, invalid requests) report, so the event type and the
 * reporting rule (a failing hook never breaks a request) live here, below both.
 */
import type { RateLimitScope } from "./errors.ts";

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

/** Reports events to `onEvent` (if any), swallowing what it throws. */
export function eventReporter(onEvent?: (event: RestEvent) => void): (event: RestEvent) => void {
  if (!onEvent) return () => {};
  return (event) => {
    try {
      onEvent(event);
    } catch {
      // Metrics must never break a request.
    }
  };
}
