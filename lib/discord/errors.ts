/**
 * Typed errors thrown by the Discord REST client.
 *
 * - `DiscordApiError`: Discord answered with a JSON error body (`{ code, message, errors }`), e.g.
 *   404 + 10007 Unknown Member, 403 + 50013 Missing Permissions. Use `hasDiscordCode()` (or
 *   `isUnknownMember()`) to branch on it.
 * - `DiscordHttpError`: the request failed without a Discord JSON error (5xx HTML page, proxy
 *   error, network failure, timeout), after the client's bounded retries. `status` is 0 for
 *   network failures and timeouts.
 * - `DiscordRateLimitError`: a request was still rate limited after the bounded 429 retries.
 * - `RestPausedError`: the invalid-request guard has paused all requests and the caller asked not
 *   to wait that long (`maxPauseWaitMs`). By default requests wait for the pause to end instead.
 * - `RestClosedError`: the client was closed while the request was queued.
 *
 * Every error carries `method` and `route` (the path with ids other than the guild/channel/webhook
 * id as `:id` and tokens as `:token`, e.g. `/guilds/123/members/:id`). Messages name only those,
 * never the bot token, an interaction token or a full URL.
 */
import { RESTJSONErrorCodes } from "discord-api-types/v10";

export { RESTJSONErrorCodes };

/** One leaf of Discord's nested `errors` object, flattened: `roles.0: NUMBER_TYPE_COERCE ...`. */
export interface DiscordFieldError {
  path: string;
  code: string;
  message: string;
}

/** Base class, so callers can catch every client error with one `instanceof`. */
export class DiscordRestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DiscordRestError";
  }
}

export class DiscordApiError extends DiscordRestError {
  /** The JSON error code (`RESTJSONErrorCodes`), 0 when the body had none. */
  readonly code: number;
  /** Discord's own message, e.g. "Unknown Member". */
  readonly discordMessage: string;
  /** Discord's nested `errors` object as sent (form body validation errors). */
  readonly errors: unknown;
  constructor(
    readonly status: number,
    code: number | undefined,
    discordMessage: string,
    errors: unknown,
    readonly method: string,
    readonly route: string,
  ) {
    const fields = flattenDiscordErrors(errors);
    const detail = fields.length
      ? ` (${fields.slice(0, 3).map((f) => `${f.path}: ${f.code} ${f.message}`).join("; ")}${
        fields.length > 3 ? `; +${fields.length - 3} more` : ""
      })`
      : "";
    super(`${method} ${route} failed: ${status} ${code ?? 0} ${discordMessage}${detail}`);
    this.name = "DiscordApiError";
    this.code = code ?? 0;
    this.discordMessage = discordMessage;
    this.errors = errors;
  }

  /** Discord's validation errors as a flat list. */
  get fieldErrors(): DiscordFieldError[] {
    return flattenDiscordErrors(this.errors);
  }
}

export class DiscordHttpError extends DiscordRestError {
  constructor(
    /** HTTP status, or 0 for a network failure / timeout. */
    readonly status: number,
    readonly method: string,
    readonly route: string,
    /** A short, redacted excerpt of the body (or the network error's description). */
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(
      status === 0
        ? `${method} ${route} failed: network error: ${detail}`
        : `${method} ${route} failed: HTTP ${status}${detail ? `: ${detail}` : ""}`,
      options,
    );
    this.name = "DiscordHttpError";
  }
}

export type RateLimitScope = "user" | "global" | "shared";

export class DiscordRateLimitError extends DiscordRestError {
  constructor(
    readonly method: string,
    readonly route: string,
    readonly scope: RateLimitScope,
    readonly retryAfterMs: number,
  ) {
    super(`${method} ${route} still rate limited (${scope}) after retries`);
    this.name = "DiscordRateLimitError";
  }
}

export class RestPausedError extends DiscordRestError {
  constructor(
    readonly method: string,
    readonly route: string,
    /** Epoch ms when the invalid-request pause ends. */
    readonly until: number,
  ) {
    super(
      `${method} ${route} not sent: requests are paused by the invalid-request guard until ${
        new Date(until).toISOString()
      }`,
    );
    this.name = "RestPausedError";
  }
}

export class RestClosedError extends DiscordRestError {
  constructor() {
    super("the REST client was closed");
    this.name = "RestClosedError";
  }
}

/** Flattens Discord's `{ roles: { 0: { _errors: [{code, message}] } } }` into path/code pairs. */
export function flattenDiscordErrors(errors: unknown, prefix = ""): DiscordFieldError[] {
  const out: DiscordFieldError[] = [];
  const walk = (node: unknown, path: string, depth: number) => {
    if (!node || typeof node !== "object" || depth > 10) return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === "_errors" && Array.isArray(value)) {
        for (const e of value) {
          const err = e as { code?: unknown; message?: unknown };
          out.push({
            path: path || "(body)",
            code: String(err?.code ?? ""),
            message: String(err?.message ?? ""),
          });
        }
      } else {
        walk(value, path ? `${path}.${key}` : key, depth + 1);
      }
    }
  };
  walk(errors, prefix, 0);
  return out;
}

/** True when `err` is a Discord JSON error with one of `codes`. */
export function hasDiscordCode(err: unknown, ...codes: number[]): err is DiscordApiError {
  return err instanceof DiscordApiError && codes.includes(err.code);
}

export const isUnknownMember = (err: unknown): err is DiscordApiError =>
  hasDiscordCode(err, RESTJSONErrorCodes.UnknownMember);
