/**
 * One HTTP attempt (lib/discord/transport.ts): URL and headers, and the fetch under its timeout,
 * the caller's abort and the client's close.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { RestClosedError } from "../../lib/discord/errors.ts";
import { requestHeaders, requestUrl, Transport } from "../../lib/discord/transport.ts";
import { caught, tick } from "./_fake_discord.ts";

const BASE = "https://discord.test/api/v10";

Deno.test("transport: the URL keeps defined query values and joins a query the path has", () => {
  assert.equal(requestUrl(BASE, "/users/@me"), `${BASE}/users/@me`);
  assert.equal(requestUrl(BASE, "users/@me"), `${BASE}/users/@me`);
  assert.equal(
    requestUrl(BASE, "/guilds/1/members", { limit: 1000, after: "0", x: undefined, y: null }),
    `${BASE}/guilds/1/members?limit=1000&after=0`,
  );
  assert.equal(
    requestUrl(BASE, "/guilds/1?with_counts=true", { a: true }),
    `${BASE}/guilds/1?with_counts=true&a=true`,
  );
  assert.equal(
    requestUrl(BASE, "/x", new URLSearchParams([["a", "1"], ["a", "2"]])),
    `${BASE}/x?a=1&a=2`,
  );
  assert.equal(requestUrl(BASE, "/x", {}), `${BASE}/x`);
});

Deno.test("transport: headers carry the token unless auth is off, JSON and an encoded reason", () => {
  const h = requestHeaders(
    { json: true, reason: "Ethos sync: 1,234 → Reputable", headers: { "X-Extra": "1" } },
    "TOKEN",
    "DiscordBot (x, 1)",
  );
  assert.equal(h.get("authorization"), "Bot TOKEN");
  assert.equal(h.get("user-agent"), "DiscordBot (x, 1)");
  assert.equal(h.get("content-type"), "application/json");
  assert.equal(h.get("x-extra"), "1");
  assert.equal(decodeURIComponent(h.get("x-audit-log-reason")!), "Ethos sync: 1,234 → Reputable");
  const webhook = requestHeaders(
    { json: false, auth: false, headers: { Authorization: "Bot leaked" } },
    "TOKEN",
    "ua",
  );
  assert.equal(webhook.get("authorization"), null);
  assert.equal(webhook.get("content-type"), null);
  assert.equal(webhook.get("x-audit-log-reason"), null);
  // The reason is cut to 512 characters (not UTF-16 units) before encoding.
  const long = requestHeaders({ json: false, reason: "é".repeat(600) }, "T", "ua");
  assert.equal(decodeURIComponent(long.get("x-audit-log-reason")!), "é".repeat(512));
});

function setup(fetch: typeof globalThis.fetch, timeoutMs = 1_000) {
  const clock = new ManualClock();
  const closed = new AbortController();
  const transport = new Transport({
    fetch,
    clock,
    apiBase: BASE,
    token: "TOKEN",
    userAgent: "ua",
    timeoutMs,
    closed: closed.signal,
  });
  return { clock, closed, transport };
}

/** A fetch that never answers until its signal aborts. */
const hanging: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => {
    init!.signal!.addEventListener("abort", () => reject(new TypeError("aborted by signal")));
  });

Deno.test("transport: prepare builds the attempt once; send reads the whole body", async () => {
  const seen: { url: string; init: RequestInit }[] = [];
  const { clock, transport } = setup((input, init) => {
    seen.push({ url: String(input), init: init! });
    return Promise.resolve(new Response('{"ok":true}', { status: 201 }));
  });
  const attempt = transport.prepare("PATCH", "/guilds/1", {
    body: { name: "x" },
    query: { a: 1 },
    reason: "r",
  });
  assert.deepStrictEqual([attempt.url, attempt.method, attempt.body], [
    `${BASE}/guilds/1?a=1`,
    "PATCH",
    '{"name":"x"}',
  ]);
  const answer = await transport.send(attempt);
  assert.equal(answer.res.status, 201);
  assert.equal(answer.text, '{"ok":true}');
  assert.equal(answer.receivedAt, clock.now());
  assert.equal(seen[0].init.method, "PATCH");
  assert.equal(new Headers(seen[0].init.headers).get("x-audit-log-reason"), "r");
  assert.equal(transport.prepare("GET", "/x", {}).body, undefined);
  // The timeout's timer is gone once the attempt is over.
  assert.equal(clock.pending, 0);
});

Deno.test("transport: an attempt with no answer times out with a TimeoutError", async () => {
  const { clock, transport } = setup(hanging, 1_000);
  const err = caught(transport.send(transport.prepare("GET", "/x", {})));
  await tick();
  clock.advance(999);
  await tick();
  clock.advance(1);
  const e = await err;
  assert.ok(e instanceof DOMException);
  assert.equal(e.name, "TimeoutError");
  assert.match(e.message, /timed out after 1000 ms/);
});

Deno.test("transport: the caller's abort and the client's close end an attempt in flight", async () => {
  const { closed, transport } = setup(hanging);
  const ctl = new AbortController();
  const aborted = caught(transport.send(transport.prepare("GET", "/x", { signal: ctl.signal })));
  const reason = new Error("caller gave up");
  ctl.abort(reason);
  // The fetch rejects with its own error once its signal aborts; a caller's reason that is not
  // a DOMException leaves the fetch's error as it is.
  assert.ok((await aborted) instanceof TypeError);
  const closing = caught(transport.send(transport.prepare("GET", "/x", {})));
  closed.abort();
  assert.ok((await closing) instanceof TypeError);
  // A fetch that reports the abort reason passes it on.
  const { closed: closed2, transport: t2 } = setup((_input, init) =>
    new Promise((_resolve, reject) => {
      init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason));
    })
  );
  const closing2 = caught(t2.send(t2.prepare("GET", "/x", {})));
  closed2.abort();
  assert.ok((await closing2) instanceof RestClosedError);
});
