/**
 * The retry decision (lib/discord/retry.ts): every kind of attempt result, against every retry
 * count up to past the limits, idempotent or not; the backoff caps and the jitter.
 */
import assert from "node:assert/strict";
import {
  type AttemptResult,
  backoffCapMs,
  decideRetry,
  isIdempotent,
  jitter,
  NO_RETRIES,
  type RetryAction,
  type RetryPolicy,
} from "../../lib/discord/retry.ts";

const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({
  idempotent: true,
  maxRetries: 3,
  maxRateLimitRetries: 5,
  retryBaseMs: 500,
  retryMaxMs: 10_000,
  ...over,
});

const userLimit: AttemptResult = {
  kind: "rate_limited",
  rateLimit: { scope: "user", retryAfterMs: 2_500, banned: false },
};
const ban: AttemptResult = {
  kind: "rate_limited",
  rateLimit: { scope: "global", retryAfterMs: 60_000, banned: true },
};

Deno.test("retry: a success is done and a final failure fails, whatever was retried before", () => {
  for (const idempotent of [true, false]) {
    for (let s = 0; s <= 4; s++) {
      for (let r = 0; r <= 6; r++) {
        const state = { serverRetries: s, rateLimitRetries: r };
        assert.deepStrictEqual(
          decideRetry(state, { kind: "success" }, policy({ idempotent })),
          { type: "done" },
        );
        assert.deepStrictEqual(
          decideRetry(state, { kind: "failed" }, policy({ idempotent })),
          { type: "fail" },
        );
      }
    }
  }
});

Deno.test("retry: a 429 goes again up to maxRateLimitRetries, idempotent or not, with its wait", () => {
  for (const idempotent of [true, false]) {
    for (let r = 0; r <= 7; r++) {
      for (const s of [0, 3, 9]) {
        const action = decideRetry(
          { serverRetries: s, rateLimitRetries: r },
          userLimit,
          policy({ idempotent }),
        );
        const expected: RetryAction = r < 5
          ? {
            type: "rate_limit",
            attempt: r + 1,
            delayMs: 2_500,
            next: { serverRetries: s, rateLimitRetries: r + 1 },
          }
          : { type: "fail" };
        assert.deepStrictEqual(action, expected, `idempotent=${idempotent} r=${r} s=${s}`);
      }
    }
  }
});

Deno.test("retry: a Cloudflare ban is never retried", () => {
  for (const idempotent of [true, false]) {
    for (let r = 0; r <= 6; r++) {
      assert.deepStrictEqual(
        decideRetry({ serverRetries: 0, rateLimitRetries: r }, ban, policy({ idempotent })),
        { type: "fail" },
      );
    }
  }
});

Deno.test("retry: 5xx and network failures back off only when idempotent, up to maxRetries in all", () => {
  for (const kind of ["server_error", "network"] as const) {
    for (const idempotent of [true, false]) {
      for (let s = 0; s <= 5; s++) {
        for (const r of [0, 2, 5]) {
          const action = decideRetry(
            { serverRetries: s, rateLimitRetries: r },
            { kind },
            policy({ idempotent }),
          );
          const expected: RetryAction = idempotent && s < 3
            ? {
              type: "backoff",
              reason: kind,
              attempt: s + 1,
              capMs: [500, 1_000, 2_000][s],
              next: { serverRetries: s + 1, rateLimitRetries: r },
            }
            : { type: "fail" };
          assert.deepStrictEqual(action, expected, `${kind} idempotent=${idempotent} s=${s}`);
        }
      }
    }
  }
});

Deno.test("retry: 5xx and network retries share one count", () => {
  let state = NO_RETRIES;
  const kinds = ["network", "server_error", "network"] as const;
  for (const kind of kinds) {
    const action = decideRetry(state, { kind }, policy());
    assert.ok(action.type === "backoff");
    state = action.next;
  }
  assert.deepStrictEqual(state, { serverRetries: 3, rateLimitRetries: 0 });
  assert.deepStrictEqual(decideRetry(state, { kind: "server_error" }, policy()), { type: "fail" });
  // 429 retries have their own count.
  assert.equal(decideRetry(state, userLimit, policy()).type, "rate_limit");
});

Deno.test("retry: no retries allowed means the first failure is final", () => {
  const none = policy({ maxRetries: 0, maxRateLimitRetries: 0 });
  for (const result of [userLimit, { kind: "server_error" }, { kind: "network" }] as const) {
    assert.deepStrictEqual(decideRetry(NO_RETRIES, result, none), { type: "fail" });
  }
});

Deno.test("retry: the decision does not change the state it is given", () => {
  const state = { serverRetries: 1, rateLimitRetries: 1 };
  decideRetry(state, userLimit, policy());
  decideRetry(state, { kind: "network" }, policy());
  assert.deepStrictEqual(state, { serverRetries: 1, rateLimitRetries: 1 });
  assert.deepStrictEqual(NO_RETRIES, { serverRetries: 0, rateLimitRetries: 0 });
});

Deno.test("retry: backoff caps double from the base up to the maximum", () => {
  assert.deepStrictEqual(
    [0, 1, 2, 3, 4, 5, 6].map((n) => backoffCapMs(n, 500, 10_000)),
    [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000],
  );
  assert.deepStrictEqual([0, 1, 2].map((n) => backoffCapMs(n, 100, 10_000)), [100, 200, 400]);
  const capped = decideRetry(
    { serverRetries: 6, rateLimitRetries: 0 },
    { kind: "network" },
    policy({ maxRetries: 10 }),
  );
  assert.ok(capped.type === "backoff");
  assert.equal(capped.capMs, 10_000);
});

Deno.test("retry: full jitter draws a whole number of ms under the cap", () => {
  assert.equal(jitter(1_000, 0), 0);
  assert.equal(jitter(1_000, 0.5), 500);
  assert.equal(jitter(200, 0.99), 198);
  assert.equal(jitter(100, 0.999999), 99);
});

Deno.test("retry: idempotent methods, and the caller's override either way", () => {
  for (const m of ["GET", "HEAD", "PUT", "DELETE", "PATCH"]) assert.ok(isIdempotent(m), m);
  assert.equal(isIdempotent("POST"), false);
  assert.equal(isIdempotent("POST", true), true);
  assert.equal(isIdempotent("PUT", false), false);
});
