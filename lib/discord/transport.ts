/**
 * One HTTP attempt, and nothing about rate limits or retries: the URL with its query, the headers
 * (bot token, user agent, JSON, audit-log reason), and the fetch itself under a per-attempt
 * timeout that also covers reading the body, cut short by the caller's signal or the client's
 * close.
 */
import type { Clock } from "../clock.ts";
import { RestClosedError } from "./errors.ts";

export type QueryValue = string | number | boolean | undefined | null;

export type Query = Record<string, QueryValue> | URLSearchParams;

/** What the headers depend on, besides the client's token and user agent. */
export interface HeaderInput {
  headers?: Record<string, string>;
  /** false for interaction / webhook-token routes (no Authorization header). */
  auth?: boolean;
  /** A JSON body goes with the request. */
  json: boolean;
  /** Audit-log reason, sent URI-encoded and cut to 512 characters. */
  reason?: string;
}

export interface Attempt {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
  /** The caller's signal (an abort rejects with its reason). */
  signal?: AbortSignal;
}

export interface Answer {
  res: Response;
  text: string;
  /** When the response's head arrived (rate-limit times are measured from it). */
  receivedAt: number;
}

const MAX_REASON = 512;

/** `apiBase` + `path` + the query's defined values (appended to a query the path has). */
export function requestUrl(apiBase: string, path: string, query?: Query): string {
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
  return `${apiBase}${p}${qs ? (p.includes("?") ? "&" : "?") + qs : ""}`;
}

export function requestHeaders(input: HeaderInput, token: string, userAgent: string): Headers {
  const h = new Headers(input.headers);
  h.set("User-Agent", userAgent);
  if (input.auth !== false) h.set("Authorization", `Bot ${token}`);
  else h.delete("Authorization");
  if (input.json) h.set("Content-Type", "application/json");
  if (input.reason) {
    h.set(
      "X-Audit-Log-Reason",
      encodeURIComponent(Array.from(input.reason).slice(0, MAX_REASON).join("")),
    );
  }
  return h;
}

/** What one request asks of the wire. */
export interface Outgoing {
  query?: Query;
  /** JSON-serialised. */
  body?: unknown;
  reason?: string;
  auth?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface TransportOptions {
  fetch: typeof globalThis.fetch;
  clock: Clock;
  /** e.g. https://discord.com/api/v10, without a trailing slash. */
  apiBase: string;
  token: string;
  userAgent: string;
  /** Per attempt, the body included. */
  timeoutMs: number;
  /** Aborts every attempt in flight (the client closed). */
  closed: AbortSignal;
}

/** Builds and sends attempts with one fetch, clock, token, timeout and close signal. */
export class Transport {
  constructor(private readonly options: TransportOptions) {}

  /** The attempt for `method` `path` (sent as often as the request is retried). */
  prepare(method: string, path: string, out: Outgoing): Attempt {
    const { apiBase, token, userAgent } = this.options;
    const json = out.body !== undefined;
    return {
      url: requestUrl(apiBase, path, out.query),
      method,
      headers: requestHeaders({ ...out, json }, token, userAgent),
      body: json ? JSON.stringify(out.body) : undefined,
      signal: out.signal,
    };
  }

  /**
   * Sends one attempt and reads the whole body. Rejects with the fetch's error, a `TimeoutError`
   * DOMException, the caller's abort reason, or `RestClosedError`.
   */
  async send(attempt: Attempt): Promise<Answer> {
    const { signal } = attempt;
    const { clock, timeoutMs, closed } = this.options;
    const ctl = new AbortController();
    const timer = new AbortController();
    const onAbort = () => ctl.abort(signal?.reason);
    const onClose = () => ctl.abort(new RestClosedError());
    signal?.addEventListener("abort", onAbort, { once: true });
    closed.addEventListener("abort", onClose, { once: true });
    clock.sleep(timeoutMs, timer.signal).then(
      () => ctl.abort(new DOMException(`timed out after ${timeoutMs} ms`, "TimeoutError")),
      () => {},
    );
    try {
      const res = await this.options.fetch(attempt.url, {
        method: attempt.method,
        headers: attempt.headers,
        body: attempt.body,
        signal: ctl.signal,
      });
      const receivedAt = clock.now();
      const text = await res.text();
      return { res, text, receivedAt };
    } catch (err) {
      if (ctl.signal.aborted && ctl.signal.reason instanceof DOMException) {
        throw ctl.signal.reason;
      }
      throw err;
    } finally {
      timer.abort();
      signal?.removeEventListener("abort", onAbort);
      closed.removeEventListener("abort", onClose);
    }
  }
}
