/**
 * How the manifest engine makes one Discord call: under a real-time deadline, never waiting on the
 * client's invalid-request guard, and waiting out one short 429 itself (the engine's client does
 * not retry 429s, see env.ts). A longer 429 or a paused client becomes "rate limited until".
 */
import type { CallOptions } from "../discord/api.ts";
import { DiscordRateLimitError, RestPausedError } from "../discord/errors.ts";
import type { ManifestEnv } from "./env.ts";

export class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer from Discord within ${ms} ms (queued behind a rate limit, or unreachable)`);
    this.name = "DeadlineError";
  }
}

/** Runs `fn` with a signal aborted after `ms` of real time (a guard on I/O, not business time). */
export async function withDeadline<T>(
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new DeadlineError(ms)), ms);
  try {
    return await fn(ctl.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** Discord requests made so far for one scope (a retried request counts twice). */
export interface CallCounter {
  calls: number;
}

/**
 * One Discord call: never waits for the invalid-request guard, times out, and waits out one short
 * 429 (the client holds the retry in its paused bucket until Discord's reset).
 */
export async function discordCall<T>(
  env: Pick<ManifestEnv, "tuning" | "log">,
  counter: CallCounter,
  fn: (opts: CallOptions) => Promise<T>,
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    counter.calls++;
    try {
      return await withDeadline(
        env.tuning.callTimeoutMs,
        (signal) => fn({ signal, maxPauseWaitMs: 0 }),
      );
    } catch (error) {
      const short = error instanceof DiscordRateLimitError &&
        error.retryAfterMs <= env.tuning.shortRateLimitMs;
      if (attempt > 0 || !short) throw error;
      env.log.info("command sync: short 429, waiting it out once", {
        route: error.route,
        retryAfterMs: error.retryAfterMs,
      });
    }
  }
}

/** When a failure is a rate limit: until when, per Discord. */
export function rateLimitedUntil(error: unknown, now: number): number | null {
  if (error instanceof DiscordRateLimitError) return now + Math.max(1_000, error.retryAfterMs);
  if (error instanceof RestPausedError) return Math.max(error.until, now + 1_000);
  return null;
}

/** A failure's text, for the log and the sync report. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
