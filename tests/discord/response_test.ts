/**
 * Reading one Discord answer (lib/discord/response.ts): rate-limit headers, the body, the 429's
 * scope and wait, the outcome, what counts as invalid, and the typed error.
 */
import assert from "node:assert/strict";
import {
  classifyResponse,
  CLOUDFLARE_PAUSE_MS,
  countsAsInvalid,
  parseBody,
  parseRateLimitHeaders,
  type RateLimitInfo,
  readRateLimit,
  responseError,
} from "../../lib/discord/response.ts";
import { DiscordApiError, DiscordHttpError } from "../../lib/discord/errors.ts";

const AT = Date.UTC(2026, 0, 1);
const info = (over: Partial<RateLimitInfo> = {}): RateLimitInfo => ({ global: false, ...over });

Deno.test("response: rate-limit headers, relative to local receipt", () => {
  const h = new Headers({
    "x-ratelimit-bucket": "abc",
    "x-ratelimit-limit": "10",
    "x-ratelimit-remaining": "3",
    "x-ratelimit-reset-after": "1.250",
    "x-ratelimit-scope": "User",
    "x-ratelimit-global": "TRUE",
    "retry-after": "2",
  });
  assert.deepStrictEqual(parseRateLimitHeaders(h, AT), {
    bucket: "abc",
    limit: 10,
    remaining: 3,
    resetAfterMs: 1250,
    scope: "user",
    global: true,
    retryAfterMs: 2000,
  });
  assert.deepStrictEqual(parseRateLimitHeaders(new Headers(), AT), {
    bucket: undefined,
    limit: undefined,
    remaining: undefined,
    resetAfterMs: undefined,
    scope: undefined,
    global: false,
    retryAfterMs: undefined,
  });
  // Blank or non-numeric values are absent, not 0.
  const junk = parseRateLimitHeaders(
    new Headers({ "x-ratelimit-limit": " ", "x-ratelimit-remaining": "many" }),
    AT,
  );
  assert.equal(junk.limit, undefined);
  assert.equal(junk.remaining, undefined);
});

Deno.test("response: an absolute reset is measured against the server's Date when it sent one", () => {
  const serverNow = AT - 5_000; // the server's clock is 5 s behind ours
  const withDate = parseRateLimitHeaders(
    new Headers({
      "x-ratelimit-reset": String((serverNow + 2_000) / 1000),
      date: new Date(serverNow).toUTCString(),
    }),
    AT,
  );
  // 2 s on the server's clock, plus a second for the Date header's whole-second resolution.
  assert.equal(withDate.resetAfterMs, 3_000);
  const without = parseRateLimitHeaders(
    new Headers({ "x-ratelimit-reset": String((AT + 1_500) / 1000) }),
    AT,
  );
  assert.equal(without.resetAfterMs, 1_500);
  const past = parseRateLimitHeaders(
    new Headers({ "x-ratelimit-reset": String((AT - 9_000) / 1000) }),
    AT,
  );
  assert.equal(past.resetAfterMs, 0);
  // Reset-After wins over Reset.
  const both = parseRateLimitHeaders(
    new Headers({ "x-ratelimit-reset-after": "0.5", "x-ratelimit-reset": "99999999999" }),
    AT,
  );
  assert.equal(both.resetAfterMs, 500);
});

Deno.test("response: the body is JSON when it says or looks so, else text", () => {
  assert.equal(parseBody("application/json", ""), undefined);
  assert.deepStrictEqual(parseBody("application/json", '{"a":1}'), { a: 1 });
  assert.deepStrictEqual(parseBody(null, "  [1,2]"), [1, 2]);
  assert.deepStrictEqual(parseBody("text/plain", '{"a":1}'), { a: 1 });
  assert.equal(parseBody("application/json", "{broken"), "{broken");
  assert.equal(parseBody("text/html", "<html>502</html>"), "<html>502</html>");
});

Deno.test("response: 401, 403 and non-shared 429s count as invalid requests", () => {
  const shared = info({ scope: "shared" });
  const cases: [number, RateLimitInfo, boolean][] = [
    [401, info(), true],
    [403, info(), true],
    [429, info({ scope: "user" }), true],
    [429, info({ scope: "global" }), true],
    [429, info(), true],
    [429, shared, false],
    [404, info(), false],
    [400, info(), false],
    [500, info(), false],
    [200, info(), false],
    [403, shared, true],
  ];
  for (const [status, i, expected] of cases) {
    assert.equal(countsAsInvalid(status, i), expected, `${status} ${i.scope}`);
  }
});

Deno.test("response: a 429's scope and wait, body first, then headers", () => {
  const cases: [string, RateLimitInfo, unknown, ReturnType<typeof readRateLimit>][] = [
    [
      "user, body retry_after",
      info({ scope: "user", limit: 5, retryAfterMs: 3_000, resetAfterMs: 2_000 }),
      { retry_after: 2.5, global: false },
      { scope: "user", retryAfterMs: 2_500, banned: false },
    ],
    [
      "user, Retry-After header",
      info({ scope: "user", limit: 5, retryAfterMs: 3_000, resetAfterMs: 2_000 }),
      undefined,
      { scope: "user", retryAfterMs: 3_000, banned: false },
    ],
    [
      "user, Reset-After only",
      info({ limit: 5, resetAfterMs: 2_000 }),
      "text",
      { scope: "user", retryAfterMs: 2_000, banned: false },
    ],
    [
      "user, nothing about the wait",
      info({ limit: 5 }),
      {},
      { scope: "user", retryAfterMs: 1_000, banned: false },
    ],
    [
      "shared",
      info({ scope: "shared", limit: 5 }),
      { retry_after: 1.5 },
      { scope: "shared", retryAfterMs: 1_500, banned: false },
    ],
    [
      "global by scope header",
      info({ scope: "global" }),
      { retry_after: 1 },
      { scope: "global", retryAfterMs: 1_000, banned: false },
    ],
    [
      "global by X-RateLimit-Global",
      info({ global: true, limit: 5 }),
      { retry_after: 1 },
      { scope: "global", retryAfterMs: 1_000, banned: false },
    ],
    [
      "global by the body",
      info({ limit: 5 }),
      { retry_after: 1, global: true },
      { scope: "global", retryAfterMs: 1_000, banned: false },
    ],
    [
      "no headers, Discord's body: global",
      info(),
      { retry_after: 0.25 },
      { scope: "global", retryAfterMs: 250, banned: false },
    ],
    [
      "negative wait is none",
      info({ scope: "user", limit: 5 }),
      { retry_after: -1 },
      { scope: "user", retryAfterMs: 0, banned: false },
    ],
    [
      "Cloudflare ban: no headers, no Discord body",
      info(),
      "error code: 1015",
      { scope: "global", retryAfterMs: CLOUDFLARE_PAUSE_MS, banned: true },
    ],
    [
      "Cloudflare ban with a longer Retry-After",
      info({ retryAfterMs: 120_000 }),
      undefined,
      { scope: "global", retryAfterMs: 120_000, banned: true },
    ],
  ];
  for (const [name, i, body, expected] of cases) {
    assert.deepStrictEqual(readRateLimit(i, body), expected, name);
  }
});

Deno.test("response: outcomes by status", () => {
  const cases: [number, string][] = [
    [200, "success"],
    [201, "success"],
    [204, "success"],
    [299, "success"],
    [304, "failed"],
    [400, "failed"],
    [401, "failed"],
    [403, "failed"],
    [404, "failed"],
    [429, "rate_limited"],
    [500, "server_error"],
    [502, "server_error"],
    [503, "server_error"],
  ];
  for (const [status, kind] of cases) {
    assert.equal(classifyResponse(status, info(), undefined).kind, kind, String(status));
  }
  assert.deepStrictEqual(
    classifyResponse(429, info({ scope: "user", limit: 1 }), { retry_after: 2 }),
    { kind: "rate_limited", rateLimit: { scope: "user", retryAfterMs: 2_000, banned: false } },
  );
});

Deno.test("response: Discord's JSON error becomes DiscordApiError, anything else DiscordHttpError", () => {
  const scrub = (t: string) => t.replaceAll("SECRET", "[redacted]");
  const api = responseError(
    "PATCH",
    "/guilds/1/members/:id",
    404,
    { code: 10007, message: "Unknown Member SECRET" },
    "",
    scrub,
  );
  assert.ok(api instanceof DiscordApiError);
  assert.deepStrictEqual([api.status, api.code, api.discordMessage], [
    404,
    10007,
    "Unknown Member [redacted]",
  ]);
  assert.deepStrictEqual([api.method, api.route], ["PATCH", "/guilds/1/members/:id"]);
  // A message without a code is still Discord's (code 0).
  const noCode = responseError("GET", "/x", 401, { message: "401: Unauthorized" }, "", scrub);
  assert.ok(noCode instanceof DiscordApiError);
  assert.equal(noCode.code, 0);
  const html = responseError(
    "GET",
    "/x",
    502,
    "<html>\n  bad   gateway SECRET </html>",
    "<html>\n  bad   gateway SECRET </html>",
    scrub,
  );
  assert.ok(html instanceof DiscordHttpError);
  assert.equal(html.detail, "<html> bad gateway [redacted] </html>");
  const long = responseError("GET", "/x", 500, undefined, "x".repeat(500), scrub);
  assert.ok(long instanceof DiscordHttpError);
  assert.equal(long.detail.length, 200);
  const other = responseError("GET", "/x", 400, { unrelated: true }, '{"unrelated":true}', scrub);
  assert.ok(other instanceof DiscordHttpError);
});
