/**
 * What one Discord answer means, read without side effects: its rate-limit headers, its body, what
 * kind of outcome it is (success, 429 by scope, 5xx, another failure), whether Discord counts it
 * as an invalid request, and the typed error a failure becomes. The request loop acts on these
 * (rest.ts); the retry decision (retry.ts) and the pacing (pacer.ts) are kept apart from them.
 */
import { DiscordApiError, DiscordHttpError, type RateLimitScope } from "./errors.ts";

/** Rate-limit facts read from one response's headers. */
export interface RateLimitInfo {
  bucket?: string;
  limit?: number;
  remaining?: number;
  /** From `X-RateLimit-Reset-After` (or `Reset` against the `Date` header). */
  resetAfterMs?: number;
  scope?: string;
  global: boolean;
  /** From the `Retry-After` header (seconds → ms). */
  retryAfterMs?: number;
}

/** A 429, read from its headers and body. */
export interface RateLimit {
  scope: RateLimitScope;
  /** How long Discord asks us to wait (for a ban: how long every request pauses). */
  retryAfterMs: number;
  /** No Discord JSON and no rate-limit headers: Cloudflare's IP ban, not Discord's limiter. */
  banned: boolean;
}

/** One answer, as the retry decision sees it. */
export type Outcome =
  | { kind: "success" }
  | { kind: "rate_limited"; rateLimit: RateLimit }
  | { kind: "server_error" }
  /** Any other status: final, it becomes the request's error. */
  | { kind: "failed" };

/** How long every request stops after a Cloudflare ban answer without Retry-After. */
export const CLOUDFLARE_PAUSE_MS = 60_000;

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

/** The body: JSON when it says or looks so (text when that fails), else text; empty: undefined. */
export function parseBody(contentType: string | null, text: string): unknown {
  if (!text) return undefined;
  if ((contentType ?? "").includes("json") || /^[[{]/.test(text.trimStart())) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * Discord counts 401, 403 and 429 answers toward its invalid-request ban, except 429s of scope
 * `shared` (a resource behind the route was busy, not our bucket).
 */
export function countsAsInvalid(status: number, info: RateLimitInfo): boolean {
  return status === 401 || status === 403 || (status === 429 && info.scope !== "shared");
}

/**
 * A 429's scope and wait. The body's `retry_after` wins over the headers; without rate-limit
 * headers the limit was global (a ban when the body is not Discord's either).
 */
export function readRateLimit(info: RateLimitInfo, data: unknown): RateLimit {
  const body = (data && typeof data === "object" ? data : {}) as {
    retry_after?: unknown;
    global?: unknown;
  };
  const bodyRetry = typeof body.retry_after === "number" ? body.retry_after * 1000 : undefined;
  const hasRateLimitHeaders = info.scope !== undefined || info.limit !== undefined;
  const banned = !hasRateLimitHeaders && !info.global && typeof body.retry_after !== "number";
  if (banned) {
    return {
      scope: "global",
      retryAfterMs: Math.max(info.retryAfterMs ?? 0, CLOUDFLARE_PAUSE_MS),
      banned,
    };
  }
  const scope: RateLimitScope = info.scope === "shared"
    ? "shared"
    : info.scope === "global" || info.global || body.global === true || !hasRateLimitHeaders
    ? "global"
    : "user";
  const retryAfterMs = Math.max(0, bodyRetry ?? info.retryAfterMs ?? info.resetAfterMs ?? 1000);
  return { scope, retryAfterMs, banned };
}

/** Sorts an answer: 2xx success, 429 (with its scope and wait), 5xx, or a final failure. */
export function classifyResponse(status: number, info: RateLimitInfo, data: unknown): Outcome {
  if (status === 429) return { kind: "rate_limited", rateLimit: readRateLimit(info, data) };
  if (status >= 500) return { kind: "server_error" };
  if (status >= 200 && status < 300) return { kind: "success" };
  return { kind: "failed" };
}

/**
 * The error a failed answer becomes: `DiscordApiError` for a Discord JSON error body (a numeric
 * `code` or a `message`), else `DiscordHttpError` with a short excerpt of the body. `scrub`
 * removes secrets from what Discord echoed back.
 */
export function responseError(
  method: string,
  route: string,
  status: number,
  data: unknown,
  text: string,
  scrub: (text: string) => string,
): DiscordApiError | DiscordHttpError {
  const body = data as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  if (body && typeof body === "object" && (typeof body.code === "number" || body.message)) {
    return new DiscordApiError(
      status,
      typeof body.code === "number" ? body.code : undefined,
      scrub(String(body.message ?? "")),
      body.errors,
      method,
      route,
    );
  }
  return new DiscordHttpError(
    status,
    method,
    route,
    scrub(text.replace(/\s+/g, " ").trim().slice(0, 200)),
  );
}
