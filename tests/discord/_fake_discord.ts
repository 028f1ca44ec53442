/**
 * A scriptable fake of Discord's HTTP surface for RestClient unit tests, used as the injected
 * `fetch`. It keeps fixed-window buckets (a window starts with the first request after the
 * previous one ended, as Discord's do) and an optional per-second global window, on whatever clock
 * the test gives it, and it records every call. Scripted answers (`script`) take precedence.
 */
import { setImmediate } from "node:timers";
import type { Clock } from "../../lib/clock.ts";
import { ManualClock } from "../_clock.ts";

export interface BucketRule {
  /** Matches "METHOD /path" (path without the API base or query). */
  match: RegExp;
  hash?: string;
  limit: number;
  windowMs: number;
  /** Groups requests into buckets; default: the hash plus the first two path segments. */
  key?: (method: string, path: string) => string;
}

export interface Call {
  method: string;
  path: string;
  url: string;
  headers: Headers;
  body: string | null;
  at: number;
}

export type Scripted = (call: Call) => Response | undefined;

export interface FakeOptions {
  rules?: BucketRule[];
  /** Requests per second over all non-exempt routes; 0: no global limit. */
  globalLimit?: number;
  /** Simulated latency per request on the injected clock. */
  latencyMs?: number;
  /** Default answer body for successful requests. */
  respond?: (call: Call) => Response;
}

export class FakeDiscord {
  readonly calls: Call[] = [];
  readonly statuses: Record<number, number> = {};
  readonly limited = { user: 0, global: 0 };
  /** One-off answers; each is tried in order and removed once it answers. */
  script: Scripted[] = [];
  /** Times of requests that passed the bucket check, per bucket key. */
  readonly accepted = new Map<string, number[]>();
  #windows = new Map<string, { count: number; resetAt: number }>();
  #global = { count: 0, resetAt: 0 };
  #inflight = 0;
  maxInflight = 0;

  constructor(readonly clock: Clock, readonly options: FakeOptions = {}) {}

  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const u = new URL(url);
    const path = u.pathname.replace(/^\/api\/v10/, "");
    const method = (init?.method ?? "GET").toUpperCase();
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === "string" ? init.body : null;
    this.#inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.#inflight);
    try {
      if (this.options.latencyMs) {
        await this.clock.sleep(this.options.latencyMs / 2, init?.signal ?? undefined);
      }
      init?.signal?.throwIfAborted();
      const call: Call = { method, path, url, headers, body, at: this.clock.now() };
      this.calls.push(call);
      const res = this.#answer(call);
      this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
      if (this.options.latencyMs) {
        await this.clock.sleep(this.options.latencyMs / 2, init?.signal ?? undefined);
      }
      return res;
    } finally {
      this.#inflight--;
    }
  };

  #answer(call: Call): Response {
    for (let i = 0; i < this.script.length; i++) {
      const res = this.script[i](call);
      if (res) {
        this.script.splice(i, 1);
        return res;
      }
    }
    const now = call.at;
    const exempt = /^\/(interactions\/\d+\/[^/]+\/callback|webhooks\/\d+\/[^/]+)/.test(call.path);
    if (this.options.globalLimit && !exempt) {
      if (this.#global.resetAt <= now) this.#global = { count: 0, resetAt: now + 1000 };
      if (this.#global.count >= this.options.globalLimit) {
        this.limited.global++;
        return json(429, {
          message: "You are being rate limited.",
          retry_after: (this.#global.resetAt - now) / 1000,
          global: true,
        }, { "x-ratelimit-global": "true", "x-ratelimit-scope": "global" });
      }
      this.#global.count++;
    }
    const line = `${call.method} ${call.path}`;
    const rule = this.options.rules?.find((r) => r.match.test(line));
    const extra: Record<string, string> = {};
    if (rule) {
      const hash = rule.hash ?? "h-" + line.replace(/\d{15,}/g, ":id");
      const key = rule.key?.(call.method, call.path) ??
        `${hash}:${call.path.split("/").slice(1, 3).join("/")}`;
      let w = this.#windows.get(key);
      if (!w || w.resetAt <= now) {
        w = { count: 0, resetAt: now + rule.windowMs };
        this.#windows.set(key, w);
      }
      const resetAfter = ((w.resetAt - now) / 1000).toFixed(3);
      if (w.count >= rule.limit) {
        this.limited.user++;
        return json(429, {
          message: "You are being rate limited.",
          retry_after: (w.resetAt - now) / 1000,
          global: false,
        }, {
          "x-ratelimit-limit": String(rule.limit),
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset-after": resetAfter,
          "x-ratelimit-bucket": hash,
          "x-ratelimit-scope": "user",
          "retry-after": String(Math.ceil((w.resetAt - now) / 1000)),
        });
      }
      w.count++;
      const times = this.accepted.get(key) ?? [];
      times.push(now);
      this.accepted.set(key, times);
      Object.assign(extra, {
        "x-ratelimit-limit": String(rule.limit),
        "x-ratelimit-remaining": String(rule.limit - w.count),
        "x-ratelimit-reset-after": resetAfter,
        "x-ratelimit-reset": ((w.resetAt) / 1000).toFixed(3),
        "x-ratelimit-bucket": hash,
      });
    }
    const res = this.options.respond?.(call) ?? json(200, { ok: true, path: call.path });
    // An answer marked "x-fake-bare" goes out without rate-limit headers (like a proxy's 502).
    if (res.headers.has("x-fake-bare")) res.headers.delete("x-fake-bare");
    else for (const [k, v] of Object.entries(extra)) res.headers.set(k, v);
    return res;
  }

  /** Calls whose "METHOD /path" matches. */
  callsTo(re: RegExp): Call[] {
    return this.calls.filter((c) => re.test(`${c.method} ${c.path}`));
  }

  get total429(): number {
    return this.statuses[429] ?? 0;
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * Runs `promise` to completion while moving `clock` forward in `stepMs` steps, yielding to the
 * event loop between steps so every ready continuation runs first. Fails after `maxMs` of
 * simulated time.
 */
export async function drive<T>(
  clock: ManualClock,
  promise: Promise<T>,
  { stepMs = 5, maxMs = 3_600_000 }: { stepMs?: number; maxMs?: number } = {},
): Promise<T> {
  let done = false;
  const watched = promise.finally(() => (done = true));
  watched.catch(() => {});
  let elapsed = 0;
  while (!done) {
    await tick();
    if (done) break;
    clock.advance(stepMs);
    elapsed += stepMs;
    if (elapsed > maxMs) throw new Error(`drive: not settled after ${maxMs} ms of clock time`);
  }
  return await watched;
}

/** Lets every queued microtask run (setImmediate: no 4 ms clamp of nested timers). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Settles the promise without an unhandled rejection; returns the error (or undefined). */
export async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err;
  }
}

export { ManualClock };
