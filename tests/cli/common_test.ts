/**
 * What the operator CLIs share (lib/cli/common.ts): the option parser, the connection settings,
 * and the one call to the bot with its messages, against a fake fetch.
 */
import assert from "node:assert/strict";
import {
  type ArgSpec,
  type BaseIO,
  baseUrl,
  callBot,
  connection,
  operatorToken,
  parseArgs,
  request,
  UsageError,
  utcTime,
} from "../../lib/cli/common.ts";

const spec = (over: Partial<ArgSpec> = {}): ArgSpec => ({
  valued: ["guild"],
  flags: ["force"],
  allowEmpty: false,
  positional: () => {},
  ...over,
});

Deno.test("common: options, switches (also =true/=false), help and positionals", () => {
  const seen: string[] = [];
  const p = parseArgs(
    ["diff", "--guild=1", "--url", "http://x", "--force", "--json", "--no-color", "-h", "more"],
    spec({ positional: (a) => seen.push(a) }),
  );
  assert.deepEqual(p.values, { guild: "1", url: "http://x" });
  assert.deepEqual([[...p.flags], p.json, p.color, p.help, seen], [
    ["force"],
    true,
    false,
    true,
    ["diff", "more"],
  ]);
  assert.equal(parseArgs(["--force=true"], spec()).flags.has("force"), true);
  assert.equal(parseArgs(["--force", "--force=false"], spec()).flags.has("force"), false);
  assert.equal(parseArgs(["--guild="], spec({ allowEmpty: true })).values.guild, "");
  for (
    const [argv, message] of [
      [["--guild"], "--guild needs a value"],
      [["--guild", "--force"], "--guild needs a value"],
      [["--guild="], "--guild needs a value"],
      [["--force=yes"], "--force takes true or false"],
      [["--json=1"], "--json takes no value"],
      [["--nope"], "unknown option --nope"],
    ] as const
  ) {
    assert.throws(() => parseArgs([...argv], spec()), new UsageError(message));
  }
});

Deno.test("common: the base URL and token, from the flags, else the environment", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(baseUrl(undefined, env({})), "http://localhost:8000");
  assert.equal(baseUrl(undefined, env({ SYNC_URL: "" })), "http://localhost:8000");
  assert.equal(baseUrl(undefined, env({ SYNC_URL: "https://b.test//" })), "https://b.test");
  assert.equal(baseUrl("http://a.test/", env({ SYNC_URL: "https://b.test" })), "http://a.test");
  assert.throws(() => baseUrl("ftp://a", env({})), UsageError);
  assert.throws(() => baseUrl("", env({ SYNC_URL: "https://b.test" })), UsageError);
  assert.equal(operatorToken(undefined, env({ SYNC_AUTH_TOKEN: "e" })), "e");
  assert.equal(operatorToken("f", env({ SYNC_AUTH_TOKEN: "e" })), "f");
  assert.equal(operatorToken(undefined, env({ SYNC_AUTH_TOKEN: "" })), undefined);
  const io = { ...fake(200, ""), env: env({ SYNC_URL: "nope" }) };
  assert.deepEqual(connection(io, { json: false }, "x"), {
    usage: "--url must be an http(s) URL, got nope",
  });
  assert.equal(utcTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), "2026-01-02 03:04:05 UTC");
  assert.equal(utcTime(null), "-");
});

/** A BaseIO whose fetch answers `status` with `text`. */
function fake(status: number, text: string, headers: Headers[] = []): BaseIO {
  return {
    stdout: () => {},
    stderr: () => {},
    env: () => undefined,
    isTTY: false,
    fetch: (_input, init) => {
      headers.push(new Headers(init?.headers));
      return Promise.resolve(new Response(text, { status }));
    },
  };
}

const B = "http://bot.test";

Deno.test("common: callBot gives 2xx JSON, and a message for every other answer", async () => {
  const sent: Headers[] = [];
  const ok = await callBot(fake(200, '{"a":1}', sent), B, "tok", "POST", "/x", {}, {
    timeoutMs: 1000,
  });
  assert.deepEqual(ok.ok && ok.body, { a: 1 });
  assert.equal(sent[0].get("authorization"), "Bearer tok");
  assert.equal(sent[0].get("content-type"), "application/json");
  const raw = await callBot(fake(200, "not json", []), B, "t", "GET", "/x", undefined, {
    timeoutMs: 1000,
    raw: true,
  });
  assert.equal(raw.ok && new TextDecoder().decode(raw.raw), "not json");
  const failures: [number, string, string][] = [
    [200, "not json", "the bot answered /x without JSON"],
    [401, '{"error":"unauthorized"}', "unauthorized (401): unauthorized. The token does not match"],
    [404, '{"error":"not found"}', "http://bot.test/x answered 404: is this the bot's URL?"],
    [404, '{"error":"no backup with id abc123"}', "the bot answered 404: no backup with id abc123"],
    [429, '{"error":"try again in 5 s"}', "the bot answered 429: try again in 5 s"],
    [500, "Internal Server Error", "the bot answered 500: Internal Server Error"],
  ];
  for (const [status, text, message] of failures) {
    const r = await callBot(fake(status, text), B, "t", "GET", "/x", undefined, {
      timeoutMs: 1000,
    });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.message.startsWith(message), `${status}: ${!r.ok && r.message}`);
    assert.equal(!r.ok && r.status, status);
  }
});

Deno.test("common: request without a token sends none; unreachable and slow bots", async () => {
  const sent: Headers[] = [];
  await request(fake(200, "{}", sent), B, undefined, "GET", "/x", undefined, { timeoutMs: 1000 });
  assert.equal(sent[0].has("authorization"), false);
  const noToken = await request(fake(401, ""), B, undefined, "GET", "/x", undefined, {
    timeoutMs: 1000,
  });
  assert.equal(
    !noToken.ok && noToken.message,
    "unauthorized (401): bad token. Pass --token or set SYNC_AUTH_TOKEN to the bot's " +
      "SYNC_AUTH_TOKEN.",
  );
  const down = await request(
    { ...fake(200, ""), fetch: () => Promise.reject(new TypeError("connection refused")) },
    B,
    "t",
    "GET",
    "/x",
    undefined,
    { timeoutMs: 1000 },
  );
  assert.equal(
    !down.ok && down.message,
    "cannot reach the bot at http://bot.test (connection refused). Is it running? Set --url or " +
      "SYNC_URL.",
  );
  const hang: BaseIO = {
    ...fake(200, ""),
    fetch: (_i, init) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new Error()))
      ),
  };
  const slow = await request(hang, B, "t", "GET", "/x", undefined, { timeoutMs: 10 });
  assert.match(!slow.ok ? slow.message : "", /\(no answer within 0\.01 s\)/);
});
