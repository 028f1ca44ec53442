/**
 * The REST client's typed errors (lib/discord/errors.ts): what each one says (method and route
 * only, never a token or URL), Discord's nested validation errors flattened, and the predicates
 * callers branch on.
 */
import assert from "node:assert/strict";
import {
  DiscordApiError,
  DiscordHttpError,
  DiscordRateLimitError,
  DiscordRestError,
  flattenDiscordErrors,
  hasDiscordCode,
  isUnknownMember,
  RestClosedError,
  RESTJSONErrorCodes,
  RestPausedError,
} from "../../lib/discord/errors.ts";

const ROUTE = "/guilds/123/members/:id";

Deno.test("errors: flattens Discord's nested errors into path, code and message", () => {
  const errors = {
    roles: {
      0: { _errors: [{ code: "NUMBER_TYPE_COERCE", message: "Value is not snowflake." }] },
      1: { _errors: [{ code: "A", message: "a" }, { code: "B", message: "b" }] },
    },
    nick: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Too long" }] },
    _errors: [{ code: "BODY", message: "whole body" }],
  };
  assert.deepStrictEqual(flattenDiscordErrors(errors), [
    { path: "roles.0", code: "NUMBER_TYPE_COERCE", message: "Value is not snowflake." },
    { path: "roles.1", code: "A", message: "a" },
    { path: "roles.1", code: "B", message: "b" },
    { path: "nick", code: "BASE_TYPE_MAX_LENGTH", message: "Too long" },
    { path: "(body)", code: "BODY", message: "whole body" },
  ]);
  // A prefix is the path of the object given.
  assert.deepStrictEqual(flattenDiscordErrors({ x: { _errors: [{ code: 1, message: 2 }] } }, "p"), [
    { path: "p.x", code: "1", message: "2" },
  ]);
});

Deno.test("errors: flattening takes anything without throwing", () => {
  for (const input of [undefined, null, 0, "text", true, [], {}]) {
    assert.deepStrictEqual(flattenDiscordErrors(input), [], String(input));
  }
  // Leaves without code or message become empty strings; a non-array _errors is walked into.
  assert.deepStrictEqual(flattenDiscordErrors({ a: { _errors: [null, {}] } }), [
    { path: "a", code: "", message: "" },
    { path: "a", code: "", message: "" },
  ]);
  assert.deepStrictEqual(
    flattenDiscordErrors({ _errors: { inner: { _errors: [{ code: "C", message: "m" }] } } }),
    [{ path: "_errors.inner", code: "C", message: "m" }],
  );
  // A hostile, deeply nested body stops at depth 10 instead of walking on.
  let deep: Record<string, unknown> = { _errors: [{ code: "DEEP", message: "deep" }] };
  for (let i = 0; i < 20; i++) deep = { n: deep };
  assert.deepStrictEqual(flattenDiscordErrors(deep), []);
  let shallow: Record<string, unknown> = { _errors: [{ code: "OK", message: "ok" }] };
  for (let i = 0; i < 10; i++) shallow = { n: shallow };
  assert.deepStrictEqual(flattenDiscordErrors(shallow).map((f) => f.code), ["OK"]);
});

Deno.test("errors: DiscordApiError names the route, status, code and at most three field errors", () => {
  const plain = new DiscordApiError(404, 10007, "Unknown Member", undefined, "GET", ROUTE);
  assert.equal(plain.message, `GET ${ROUTE} failed: 404 10007 Unknown Member`);
  assert.equal(plain.name, "DiscordApiError");
  assert.deepStrictEqual([plain.status, plain.code, plain.discordMessage], [
    404,
    10007,
    "Unknown Member",
  ]);
  assert.deepStrictEqual([plain.method, plain.route], ["GET", ROUTE]);
  assert.deepStrictEqual(plain.fieldErrors, []);

  const noCode = new DiscordApiError(400, undefined, "Bad", undefined, "PATCH", ROUTE);
  assert.equal(noCode.code, 0);
  assert.equal(noCode.message, `PATCH ${ROUTE} failed: 400 0 Bad`);

  const field = (i: number) => ({ _errors: [{ code: `C${i}`, message: `m${i}` }] });
  const two = new DiscordApiError(
    400,
    50035,
    "Invalid Form Body",
    {
      roles: { 0: field(0), 1: field(1) },
    },
    "PATCH",
    ROUTE,
  );
  assert.equal(
    two.message,
    `PATCH ${ROUTE} failed: 400 50035 Invalid Form Body (roles.0: C0 m0; roles.1: C1 m1)`,
  );
  const errors = { roles: { 0: field(0), 1: field(1), 2: field(2), 3: field(3), 4: field(4) } };
  const five = new DiscordApiError(400, 50035, "Invalid Form Body", errors, "PATCH", ROUTE);
  assert.equal(
    five.message,
    `PATCH ${ROUTE} failed: 400 50035 Invalid Form Body ` +
      "(roles.0: C0 m0; roles.1: C1 m1; roles.2: C2 m2; +2 more)",
  );
  // The raw object is kept as sent; fieldErrors lists every leaf, not just the three shown.
  assert.equal(five.errors, errors);
  assert.deepStrictEqual(five.fieldErrors.map((f) => f.code), ["C0", "C1", "C2", "C3", "C4"]);
});

Deno.test("errors: DiscordHttpError tells a network failure from an HTTP status", () => {
  const net = new DiscordHttpError(0, "GET", ROUTE, "connection reset");
  assert.equal(net.message, `GET ${ROUTE} failed: network error: connection reset`);
  const page = new DiscordHttpError(502, "PUT", ROUTE, "<html>Bad gateway</html>");
  assert.equal(page.message, `PUT ${ROUTE} failed: HTTP 502: <html>Bad gateway</html>`);
  const bare = new DiscordHttpError(503, "PUT", ROUTE, "");
  assert.equal(bare.message, `PUT ${ROUTE} failed: HTTP 503`);
  assert.deepStrictEqual([bare.status, bare.method, bare.route, bare.detail], [
    503,
    "PUT",
    ROUTE,
    "",
  ]);
  const cause = new TypeError("fetch failed");
  assert.equal(new DiscordHttpError(0, "GET", ROUTE, "x", { cause }).cause, cause);
  assert.equal(page.name, "DiscordHttpError");
});

Deno.test("errors: rate limit, pause and close errors carry what the caller needs", () => {
  const limited = new DiscordRateLimitError("PATCH", ROUTE, "shared", 1500);
  assert.equal(limited.message, `PATCH ${ROUTE} still rate limited (shared) after retries`);
  assert.deepStrictEqual([limited.scope, limited.retryAfterMs, limited.name], [
    "shared",
    1500,
    "DiscordRateLimitError",
  ]);
  const until = Date.UTC(2026, 0, 1, 12, 30);
  const paused = new RestPausedError("GET", ROUTE, until);
  assert.equal(paused.until, until);
  assert.equal(
    paused.message,
    `GET ${ROUTE} not sent: requests are paused by the invalid-request guard until ` +
      "2026-01-01T12:30:00.000Z",
  );
  assert.equal(paused.name, "RestPausedError");
  const closed = new RestClosedError();
  assert.equal(closed.message, "the REST client was closed");
  assert.equal(closed.name, "RestClosedError");
});

Deno.test("errors: every client error is one DiscordRestError, and an Error", () => {
  const all = [
    new DiscordApiError(403, 50013, "Missing Permissions", undefined, "PUT", ROUTE),
    new DiscordHttpError(500, "GET", ROUTE, ""),
    new DiscordRateLimitError("GET", ROUTE, "user", 10),
    new RestPausedError("GET", ROUTE, 0),
    new RestClosedError(),
  ];
  for (const e of all) {
    assert.ok(e instanceof DiscordRestError, e.name);
    assert.ok(e instanceof Error, e.name);
  }
  assert.equal(new DiscordRestError("x").name, "DiscordRestError");
  // Five distinct classes: none is an instance of another.
  assert.ok(!(all[1] instanceof DiscordApiError));
  assert.ok(!(all[0] instanceof DiscordHttpError));
});

Deno.test("errors: predicates match a DiscordApiError by JSON code only", () => {
  const api = (status: number, code: number) =>
    new DiscordApiError(status, code, "m", undefined, "GET", ROUTE);
  const member = api(404, RESTJSONErrorCodes.UnknownMember);
  const role = api(404, RESTJSONErrorCodes.UnknownRole);
  const guild = api(404, RESTJSONErrorCodes.UnknownGuild);
  const perms = api(403, RESTJSONErrorCodes.MissingPermissions);
  const cases: [unknown, boolean[]][] = [
    [member, [true, false, false, false]],
    [role, [false, true, false, false]],
    [guild, [false, false, true, false]],
    [perms, [false, false, false, true]],
    // The status alone says nothing: a 404 without a JSON code is not "unknown member".
    [new DiscordHttpError(404, "GET", ROUTE, ""), [false, false, false, false]],
    [api(404, 0), [false, false, false, false]],
    [new Error("10007"), [false, false, false, false]],
    [{ code: 10007, status: 404 }, [false, false, false, false]],
    [undefined, [false, false, false, false]],
    [null, [false, false, false, false]],
  ];
  for (const [err, expected] of cases) {
    assert.deepStrictEqual(
      [
        isUnknownMember(err),
        hasDiscordCode(err, RESTJSONErrorCodes.UnknownRole),
        hasDiscordCode(err, RESTJSONErrorCodes.UnknownGuild),
        hasDiscordCode(err, RESTJSONErrorCodes.MissingPermissions),
      ],
      expected,
      String(err),
    );
  }
  assert.equal(hasDiscordCode(perms, 1, 2, RESTJSONErrorCodes.MissingPermissions), true);
  assert.equal(hasDiscordCode(perms), false);
  assert.equal(hasDiscordCode(perms, RESTJSONErrorCodes.UnknownMember), false);
  assert.equal(hasDiscordCode("50013", 50013), false);
});
