/**
 * RestClient unit tests: an injected fake fetch (tests/discord/_fake_discord.ts) and a manual
 * clock, so every wait is simulated and the assertions are about counts, order and state.
 * Kept in one file past 400 lines: every case drives the one client through the same fake and
 * clock.
 */
import assert from "node:assert/strict";
import { memoryLogger } from "../_log.ts";
import { RestClient, type RestClientOptions, type RestEvent } from "../../lib/discord/rest.ts";
import {
  DiscordApiError,
  DiscordHttpError,
  DiscordRateLimitError,
  hasDiscordCode,
  isUnknownMember,
  RestClosedError,
  RESTJSONErrorCodes,
  RestPausedError,
} from "../../lib/discord/errors.ts";
import { caught, drive, FakeDiscord, json, ManualClock, tick } from "./_fake_discord.ts";

const TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm";
const BASE = "https://discord.test/api/v10";
const G = "200000000000000001";
const G2 = "200000000000000002";
const u = (i: number) => String(300000000000000000n + BigInt(i));

function setup(
  fakeOptions: ConstructorParameters<typeof FakeDiscord>[1] = {},
  opts: Partial<RestClientOptions> = {},
) {
  const clock = new ManualClock();
  const fake = new FakeDiscord(clock, fakeOptions);
  const log = memoryLogger();
  const events: RestEvent[] = [];
  const rest = new RestClient({
    token: TOKEN,
    apiBase: BASE,
    fetch: fake.fetch,
    clock,
    log,
    globalLimit: 1000,
    random: () => 0.5,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  return { clock, fake, log, rest, events, t0: clock.now() };
}

const memberRule = {
  match: /^PATCH \/guilds\/\d+\/members\/\d+$/,
  limit: 5,
  windowMs: 1000,
  hash: "members",
};

Deno.test("rest: learns a bucket with one request, then saturates it with zero 429s", async () => {
  const { clock, fake, rest } = setup({ rules: [memberRule], latencyMs: 20 });
  const writes = Array.from(
    { length: 23 },
    (_, i) => rest.patch(`/guilds/${G}/members/${u(i)}`, { body: { roles: [] }, reason: "sync" }),
  );
  await drive(clock, Promise.all(writes));
  assert.deepStrictEqual(fake.total429, 0);
  assert.deepStrictEqual(fake.calls.length, 23);
  // The first request went out alone; the next ones only after its answer taught the bucket.
  assert.ok(fake.calls[1].at >= fake.calls[0].at + 20, "second request waited for the probe");
  // Concurrency up to `remaining` was used, never more than the limit in one server window.
  assert.ok(fake.maxInflight >= 4, `max in flight ${fake.maxInflight}`);
  const times = fake.accepted.get(`members:guilds/${G}`)!;
  assert.deepStrictEqual(times.length, 23);
  // 23 writes at 5 per window: 5 windows, so at least 4 full windows of waiting.
  assert.ok(times[22] - times[0] >= 4000);
  const s = rest.stats();
  assert.deepStrictEqual(s.rateLimited, { user: 0, global: 0, shared: 0 });
  assert.deepStrictEqual(s.byStatus["200"], 23);
  assert.deepStrictEqual(Object.keys(s.queues), [`members:${G}`]);
  assert.deepStrictEqual(s.queues[`members:${G}`].limit, 5);
});

Deno.test("rest: separate major parameters get separate buckets", async () => {
  const { clock, fake, rest } = setup({ rules: [memberRule] });
  const a = Array.from(
    { length: 5 },
    (_, i) => rest.patch(`/guilds/${G}/members/${u(i)}`, { body: {} }),
  );
  const b = Array.from(
    { length: 5 },
    (_, i) => rest.patch(`/guilds/${G2}/members/${u(i)}`, { body: {} }),
  );
  await drive(clock, Promise.all([...a, ...b]));
  assert.deepStrictEqual(fake.total429, 0);
  // Both guilds finished within their first window: nobody waited for a reset.
  assert.ok(fake.calls.every((c) => c.at < fake.calls[0].at + 1000));
  assert.deepStrictEqual(Object.keys(rest.stats().queues).sort(), [
    `members:${G}`,
    `members:${G2}`,
  ]);
});

Deno.test("rest: routes that report the same bucket hash share one queue", async () => {
  const rule = {
    match: /^GET \/channels\/\d+\/(a|b)$/,
    hash: "shared-hash",
    limit: 3,
    windowMs: 1000,
    key: (_m: string, p: string) => `shared:${p.split("/")[2]}`,
  };
  const { clock, fake, rest } = setup({ rules: [rule] });
  await drive(clock, rest.get(`/channels/${G}/a`));
  await drive(clock, rest.get(`/channels/${G}/b`));
  assert.deepStrictEqual(Object.keys(rest.stats().queues), [`shared-hash:${G}`]);
  clock.advance(2000);
  const mixed = Array.from(
    { length: 12 },
    (_, i) => rest.get(`/channels/${G}/${i % 2 ? "a" : "b"}`),
  );
  await drive(clock, Promise.all(mixed));
  assert.deepStrictEqual(fake.total429, 0);
  assert.deepStrictEqual(Object.keys(rest.stats().queues), [`shared-hash:${G}`]);
});

Deno.test("rest: member role PUT and DELETE share a queue from the first request", async () => {
  const rule = {
    match: /^(PUT|DELETE) \/guilds\/\d+\/members\/\d+\/roles\/\d+$/,
    hash: "member-role",
    limit: 4,
    windowMs: 1000,
    key: () => "member-role",
  };
  const { clock, fake, rest } = setup({ rules: [rule] });
  const ops = Array.from(
    { length: 14 },
    (_, i) =>
      i % 2
        ? rest.put(`/guilds/${G}/members/${u(i)}/roles/${u(99)}`, { reason: "r" })
        : rest.delete(`/guilds/${G}/members/${u(i)}/roles/${u(99)}`, { reason: "r" }),
  );
  await drive(clock, Promise.all(ops));
  assert.deepStrictEqual(fake.total429, 0);
  assert.deepStrictEqual(fake.calls.length, 14);
});

Deno.test("rest: the global limit holds across routes and buckets", async () => {
  const { clock, fake, rest } = setup({ globalLimit: 10 }, { globalLimit: 10 });
  const calls = Array.from({ length: 35 }, (_, i) => rest.get(`/channels/${u(i)}`));
  await drive(clock, Promise.all(calls), { stepMs: 2 });
  assert.deepStrictEqual(fake.limited.global, 0);
  const times = fake.calls.map((c) => c.at);
  for (const t of times) {
    const n = times.filter((x) => x >= t && x < t + 1000).length;
    assert.ok(n <= 10, `${n} requests in one second`);
  }
});

Deno.test("rest: a global 429 pauses every non-exempt request, exempt routes keep going", async () => {
  const { clock, fake, rest, t0 } = setup();
  fake.script.push((c) =>
    c.path === "/users/@me"
      ? json(429, { message: "slow down", retry_after: 3.5, global: true }, {
        "x-ratelimit-global": "true",
        "x-ratelimit-scope": "global",
        "retry-after": "4",
      })
      : undefined
  );
  const me = rest.get("/users/@me");
  await drive(
    clock,
    (async () => {
      while (fake.calls.length < 1) await tick();
    })(),
  );
  const other = rest.get(`/guilds/${G}/roles`);
  const callback = rest.post(`/interactions/${u(1)}/aW50ZXJhY3Rpb246tokentokentoken/callback`, {
    body: { type: 5 },
    auth: false,
  });
  await drive(clock, Promise.all([me, other, callback]));
  const at = (re: RegExp) => fake.callsTo(re).map((c) => c.at);
  assert.ok(at(/^GET \/guilds\/\d+\/roles$/)[0] >= t0 + 3500, "other route waited out the pause");
  assert.ok(at(/^GET \/users\/@me$/)[1] >= t0 + 3500, "the limited request was retried after it");
  assert.ok(at(/callback$/)[0] < t0 + 3500, "interaction callback is exempt");
  assert.ok(!fake.callsTo(/callback$/)[0].headers.has("authorization"));
  const s = rest.stats();
  assert.deepStrictEqual(s.rateLimited.global, 1);
  assert.deepStrictEqual(s.invalidRequests.used, 1);
});

Deno.test("rest: a user 429 pauses only its bucket, then the request is retried", async () => {
  const { clock, fake, rest, t0, events } = setup({ rules: [memberRule] });
  let forced = false;
  fake.script.push((c) => {
    if (forced || c.method !== "PATCH") return undefined;
    forced = true;
    return json(429, { message: "rl", retry_after: 2.5, global: false }, {
      "x-ratelimit-limit": "5",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset-after": "2.500",
      "x-ratelimit-bucket": "members",
      "x-ratelimit-scope": "user",
    });
  });
  const patch = rest.patch(`/guilds/${G}/members/${u(1)}`, { body: { roles: [] } });
  await drive(
    clock,
    (async () => {
      while (fake.calls.length < 1) await tick();
    })(),
  );
  const get = rest.get(`/guilds/${G}`);
  await drive(clock, Promise.all([patch, get]));
  const patches = fake.callsTo(/^PATCH/);
  assert.deepStrictEqual(patches.length, 2);
  assert.ok(patches[1].at >= t0 + 2500);
  assert.ok(fake.callsTo(/^GET/)[0].at < t0 + 2500, "another bucket is not paused");
  const s = rest.stats();
  assert.deepStrictEqual(s.rateLimited, { user: 1, global: 0, shared: 0 });
  assert.deepStrictEqual(s.retries, 1);
  assert.deepStrictEqual(s.invalidRequests.used, 1);
  assert.ok(events.some((e) => e.type === "rate_limited" && e.scope === "user"));
  assert.ok(events.some((e) => e.type === "retry" && e.reason === "rate_limit"));
});

Deno.test("rest: a shared 429 pauses the bucket but does not count as invalid", async () => {
  const { clock, fake, rest, t0 } = setup({ rules: [memberRule] });
  fake.script.push(() =>
    json(429, { message: "shared", retry_after: 1.5, global: false }, {
      "x-ratelimit-scope": "shared",
      "x-ratelimit-limit": "5",
      "x-ratelimit-remaining": "4",
      "x-ratelimit-reset-after": "0.200",
      "x-ratelimit-bucket": "members",
    })
  );
  await drive(clock, rest.patch(`/guilds/${G}/members/${u(1)}`, { body: {} }));
  assert.deepStrictEqual(fake.calls.length, 2);
  assert.ok(fake.calls[1].at >= t0 + 1500);
  const s = rest.stats();
  assert.deepStrictEqual(s.rateLimited.shared, 1);
  assert.deepStrictEqual(s.invalidRequests.used, 0);
});

Deno.test("rest: 5xx on GET is retried with exponential backoff, then succeeds", async () => {
  const { clock, fake, rest, events } = setup({}, { retryBaseMs: 100, random: () => 0.99 });
  let failures = 2;
  fake.script.push(function fail() {
    if (failures-- <= 0) return undefined;
    fake.script.push(fail);
    return new Response("<html>bad gateway</html>", { status: 502 });
  });
  const res = await drive(clock, rest.get<{ path: string }>(`/guilds/${G}`), { stepMs: 1 });
  assert.deepStrictEqual(res.path, `/guilds/${G}`);
  assert.deepStrictEqual(fake.calls.length, 3);
  const gaps = [fake.calls[1].at - fake.calls[0].at, fake.calls[2].at - fake.calls[1].at];
  // Full jitter with random() = 0.99: 99 ms, then 198 ms.
  assert.ok(gaps[0] >= 99 && gaps[0] < 150, `first gap ${gaps[0]}`);
  assert.ok(gaps[1] >= 198 && gaps[1] < 250, `second gap ${gaps[1]}`);
  assert.deepStrictEqual(
    events.filter((e) => e.type === "retry").map((e) => (e as { reason: string }).reason),
    [
      "server_error",
      "server_error",
    ],
  );
  assert.deepStrictEqual(rest.stats().serverErrors, 2);
});

Deno.test("rest: 5xx after every retry ends in a typed error", async () => {
  const { clock, fake, rest } = setup({
    respond: () => new Response("upstream exploded", { status: 503 }),
  }, { retryBaseMs: 10, maxRetries: 3 });
  const err = await drive(clock, caught(rest.put(`/guilds/${G}/members/${u(1)}/roles/${u(2)}`)));
  assert.ok(err instanceof DiscordHttpError);
  assert.deepStrictEqual(err.status, 503);
  assert.deepStrictEqual(err.method, "PUT");
  assert.deepStrictEqual(err.route, `/guilds/${G}/members/:id/roles/:id`);
  assert.match(err.message, /upstream exploded/);
  assert.deepStrictEqual(fake.calls.length, 4);
  assert.deepStrictEqual(rest.stats().retries, 3);
});

Deno.test("rest: POST is not retried on 5xx unless the caller opts in", async () => {
  const { clock, fake, rest } = setup({
    respond: () => json(500, { message: "500: Internal Server Error", code: 0 }),
  }, { retryBaseMs: 10 });
  const err = await drive(clock, caught(rest.post(`/guilds/${G}/roles`, { body: { name: "x" } })));
  assert.ok(err instanceof DiscordApiError);
  assert.deepStrictEqual(err.status, 500);
  assert.deepStrictEqual(fake.calls.length, 1);
  const err2 = await drive(
    clock,
    caught(rest.post(`/guilds/${G}/roles`, { body: { name: "x" }, idempotent: true, retries: 2 })),
  );
  assert.ok(err2 instanceof DiscordApiError);
  assert.deepStrictEqual(fake.calls.length, 1 + 3);
});

Deno.test("rest: network errors are retried for GET, not for POST", async () => {
  const { clock, fake, rest } = setup({}, { retryBaseMs: 10 });
  let broken = 2;
  fake.script.push(function cut() {
    if (broken-- <= 0) return undefined;
    fake.script.push(cut);
    throw new TypeError("connection reset");
  });
  const ok = await drive(clock, rest.get(`/guilds/${G}`));
  assert.ok(ok);
  assert.deepStrictEqual(rest.stats().networkErrors, 2);
  fake.script.push(() => {
    throw new TypeError("connection reset");
  });
  const err = await drive(clock, caught(rest.post(`/channels/${G}/messages`, { body: {} })));
  assert.ok(err instanceof DiscordHttpError);
  assert.deepStrictEqual(err.status, 0);
  assert.match(err.message, /network error/);
});

Deno.test("rest: the invalid-request guard pauses everything once the limit is reached", async () => {
  const log = memoryLogger();
  const { clock, fake, rest, t0 } = setup({
    respond: () => json(403, { message: "Missing Permissions", code: 50013 }),
  }, { invalidRequestLimit: 5, log });
  for (let i = 0; i < 5; i++) {
    const err = await drive(
      clock,
      caught(rest.patch(`/guilds/${G}/members/${u(i)}`, { body: {} })),
    );
    assert.ok(hasDiscordCode(err, RESTJSONErrorCodes.MissingPermissions));
  }
  const s = rest.stats();
  assert.deepStrictEqual(s.invalidRequests.used, 5);
  const until = s.invalidRequests.pausedUntil!;
  assert.ok(until >= t0 + 600_000);
  // Caller that cannot wait: fails fast, nothing sent.
  const impatient = await caught(rest.get(`/guilds/${G}`, { maxPauseWaitMs: 1000 }));
  assert.ok(impatient instanceof RestPausedError);
  assert.deepStrictEqual(impatient.until, until);
  // Caller that waits: nothing goes out until the window slides.
  fake.script.push(() => json(200, { id: G }));
  const waiting = rest.get(`/guilds/${G}`);
  clock.advance(300_000);
  await tick();
  assert.deepStrictEqual(fake.calls.length, 5);
  await drive(clock, waiting, { stepMs: 1000 });
  assert.deepStrictEqual(fake.calls.length, 6);
  assert.ok(fake.calls[5].at >= until);
  const warns = log.lines.filter((l) => String(l.msg).startsWith("invalid-request guard tripped"));
  assert.deepStrictEqual(warns.length, 1);
  const warning = String(warns[0].msg);
  assert.match(warning, /5 invalid responses/);
  assert.ok(warning.includes(new Date(until).toISOString()), warning);
});

Deno.test("rest: headers: auth, user agent, audit-log reason, JSON body, query; 204 → undefined", async () => {
  const { clock, fake, rest } = setup({
    respond: (c) =>
      c.method === "DELETE" ? new Response(null, { status: 204 }) : json(200, { ok: 1 }),
  });
  await drive(
    clock,
    rest.patch(`/guilds/${G}/members/${u(1)}`, {
      body: { roles: ["1"] },
      reason: "Ethos sync: score 1,234 → Reputable",
    }),
  );
  const c = fake.calls[0];
  assert.deepStrictEqual(c.headers.get("authorization"), `Bot ${TOKEN}`);
  assert.ok(/^DiscordBot \(https?:\/\/\S+, [\w.-]+\)$/.test(c.headers.get("user-agent")!));
  assert.deepStrictEqual(
    decodeURIComponent(c.headers.get("x-audit-log-reason")!),
    "Ethos sync: score 1,234 → Reputable",
  );
  assert.ok(!(/[^\x20-\x7e]/.test(c.headers.get("x-audit-log-reason")!)), "header is ASCII");
  assert.deepStrictEqual(c.headers.get("content-type"), "application/json");
  assert.deepStrictEqual(JSON.parse(c.body!), { roles: ["1"] });
  const res = await drive(clock, rest.delete(`/guilds/${G}/members/${u(1)}/roles/${u(2)}`));
  assert.deepStrictEqual(res, undefined);
  await drive(
    clock,
    rest.get(`/guilds/${G}/members`, { query: { limit: 1000, after: "0", x: undefined } }),
  );
  assert.deepStrictEqual(new URL(fake.calls[2].url).search, "?limit=1000&after=0");
  await drive(clock, rest.get("/users/@me", { reason: "x".repeat(600) }));
  assert.deepStrictEqual(fake.calls[3].headers.get("x-audit-log-reason")!.length, 512);
});

Deno.test("rest: typed errors for Discord JSON codes", async () => {
  const answers: Record<string, Response> = {
    [`/guilds/${G}/members/${u(1)}`]: json(404, { message: "Unknown Member", code: 10007 }),
    [`/guilds/${G}/roles/${u(2)}`]: json(404, { message: "Unknown Role", code: 10011 }),
    [`/guilds/${G2}`]: json(404, { message: "Unknown Guild", code: 10004 }),
    [`/guilds/${G}/roles`]: json(400, {
      message: "Invalid Form Body",
      code: 50035,
      errors: { name: { _errors: [{ code: "BASE_TYPE_REQUIRED", message: "required" }] } },
    }),
  };
  const { clock, rest } = setup({ respond: (c) => answers[c.path].clone() });
  const member = await drive(clock, caught(rest.get(`/guilds/${G}/members/${u(1)}`)));
  assert.ok(isUnknownMember(member));
  assert.deepStrictEqual(member.status, 404);
  assert.deepStrictEqual(member.route, `/guilds/${G}/members/:id`);
  assert.ok(
    hasDiscordCode(
      await drive(clock, caught(rest.patch(`/guilds/${G}/roles/${u(2)}`, { body: {} }))),
      RESTJSONErrorCodes.UnknownRole,
    ),
  );
  assert.ok(
    hasDiscordCode(
      await drive(clock, caught(rest.get(`/guilds/${G2}`))),
      RESTJSONErrorCodes.UnknownGuild,
    ),
  );
  const form = await drive(clock, caught(rest.post(`/guilds/${G}/roles`, { body: {} })));
  assert.ok(form instanceof DiscordApiError);
  assert.deepStrictEqual(form.code, 50035);
  assert.deepStrictEqual(form.fieldErrors, [{
    path: "name",
    code: "BASE_TYPE_REQUIRED",
    message: "required",
  }]);
  assert.match(form.message, /name: BASE_TYPE_REQUIRED/);
});

Deno.test("rest: the token never appears in errors or logs", async () => {
  const log = memoryLogger();
  const interactionToken = "aW50ZXJhY3Rpb246MTIzOnNlY3JldC1pbnRlcmFjdGlvbi10b2tlbg";
  const { clock, fake, rest } = setup({
    respond: (c) =>
      c.path.startsWith("/webhooks")
        ? new Response(`bad gateway for ${c.url}`, { status: 502 })
        : json(401, { message: `401: Unauthorized (${TOKEN})`, code: 0 }),
  }, { log, maxRetries: 1, retryBaseMs: 1 });
  const errors = [
    await drive(clock, caught(rest.get("/users/@me"))),
    await drive(
      clock,
      caught(rest.post(`/webhooks/${u(1)}/${interactionToken}`, { body: {}, auth: false })),
    ),
    await drive(
      clock,
      caught(
        rest.patch(`/webhooks/${u(1)}/${interactionToken}/messages/@original`, {
          body: {},
          auth: false,
        }),
      ),
    ),
  ];
  fake.script.push(() => {
    throw new TypeError(
      `error sending request for url (${BASE}/webhooks/${u(1)}/${interactionToken})`,
    );
  });
  errors.push(
    await drive(
      clock,
      caught(
        rest.delete(`/webhooks/${u(1)}/${interactionToken}/messages/@original`, { auth: false }),
      ),
    ),
  );
  for (const err of errors) {
    assert.ok(err instanceof Error);
    const text = `${err.message}\n${err.stack}\n${JSON.stringify(err)}`;
    assert.ok(!text.includes(TOKEN), text);
    assert.ok(!text.includes(interactionToken), text);
  }
  const logged = JSON.stringify(log.lines);
  assert.ok(log.lines.length > 0);
  assert.ok(!logged.includes(TOKEN));
  assert.ok(!logged.includes(interactionToken));
  assert.ok(!JSON.stringify(rest.stats()).includes(interactionToken));
});

Deno.test("rest: aborting a queued request removes it; close() rejects the rest", async () => {
  const { clock, fake, rest } = setup({ rules: [{ ...memberRule, limit: 1, windowMs: 10_000 }] });
  await drive(clock, rest.patch(`/guilds/${G}/members/${u(0)}`, { body: {} }));
  const ctl = new AbortController();
  const aborted = caught(
    rest.patch(`/guilds/${G}/members/${u(1)}`, { body: {}, signal: ctl.signal }),
  );
  const closed = caught(rest.patch(`/guilds/${G}/members/${u(2)}`, { body: {} }));
  await tick();
  ctl.abort(new Error("caller gave up"));
  assert.deepStrictEqual(((await aborted) as Error).message, "caller gave up");
  assert.deepStrictEqual(rest.stats().queues[`members:${G}`].queued, 1);
  await rest.close();
  assert.ok((await closed) instanceof RestClosedError);
  await assert.rejects(() => rest.get("/users/@me"), RestClosedError);
  assert.deepStrictEqual(fake.calls.length, 1);
});

Deno.test("rest: unknown-bucket routes send one request at a time until headers arrive", async () => {
  const { clock, fake, rest } = setup({ rules: [memberRule], latencyMs: 50 });
  const first = Array.from(
    { length: 3 },
    (_, i) => rest.patch(`/guilds/${G}/members/${u(i)}`, { body: {} }),
  );
  await drive(
    clock,
    (async () => {
      while (fake.calls.length < 1) await tick();
    })(),
    { stepMs: 1 },
  );
  // During the first 50 ms only the probe is out.
  clock.advance(10);
  await tick();
  assert.deepStrictEqual(fake.calls.length, 1);
  await drive(clock, Promise.all(first));
  assert.deepStrictEqual(fake.calls.length, 3);
  assert.deepStrictEqual(fake.total429, 0);
});

Deno.test("rest: routes without rate-limit headers are limited only globally", async () => {
  const { clock, fake, rest } = setup({ latencyMs: 30 });
  await drive(clock, rest.get("/users/@me"));
  const many = Array.from({ length: 10 }, () => rest.get("/users/@me"));
  await drive(clock, Promise.all(many), { stepMs: 1 });
  assert.ok(fake.maxInflight >= 5, `max in flight ${fake.maxInflight}`);
});

Deno.test("rest: events report responses with bucket and duration", async () => {
  const { clock, rest, events } = setup({ rules: [memberRule], latencyMs: 40 });
  await drive(clock, rest.patch(`/guilds/${G}/members/${u(1)}`, { body: {} }), { stepMs: 1 });
  const res = events.find((e) => e.type === "response");
  assert.ok(res && res.type === "response");
  assert.deepStrictEqual(res.bucket, `members:${G}`);
  assert.deepStrictEqual(res.status, 200);
  assert.deepStrictEqual(res.method, "PATCH");
  assert.deepStrictEqual(res.route, `/guilds/${G}/members/:id`);
  assert.ok(res.durationMs >= 40);
});

Deno.test("rest: a window whose answers all lack headers is waited out, not probed", async () => {
  const rule = { match: /^GET \/guilds\/\d+$/, limit: 3, windowMs: 1000, hash: "guild" };
  let n = 0;
  const { clock, fake, rest } = setup({
    rules: [rule],
    respond: () =>
      ++n >= 2 && n <= 4
        ? new Response("<html>502</html>", { status: 502, headers: { "x-fake-bare": "1" } })
        : json(200, { id: G }),
  }, { retryBaseMs: 10 });
  await drive(clock, rest.get(`/guilds/${G}`));
  clock.advance(2000);
  await drive(clock, Promise.all(Array.from({ length: 6 }, () => rest.get(`/guilds/${G}`))));
  assert.deepStrictEqual(n, 1 + 3 + 6);
  assert.deepStrictEqual(fake.total429, 0);
  assert.deepStrictEqual(rest.stats().serverErrors, 3);
});

Deno.test("rest: a Cloudflare ban answer pauses everything and is not retried", async () => {
  const { clock, fake, rest, t0 } = setup();
  fake.script.push(() =>
    new Response("error code: 1015", { status: 429, headers: { "content-type": "text/plain" } })
  );
  const err = await drive(clock, caught(rest.get(`/guilds/${G}`)));
  assert.ok(err instanceof DiscordRateLimitError);
  assert.deepStrictEqual(err.scope, "global");
  assert.deepStrictEqual(fake.calls.length, 1);
  const next = rest.post(`/interactions/${u(1)}/aW50ZXJhY3Rpb246tokentokentoken/callback`, {
    body: { type: 5 },
    auth: false,
  });
  await drive(clock, next, { stepMs: 500 });
  assert.ok(fake.calls[1].at >= t0 + 60_000, "even exempt routes wait out the ban pause");
  assert.deepStrictEqual(rest.stats().invalidRequests.used, 1);
});

Deno.test("rest: after a shared 429 the bucket keeps its window (no refill)", async () => {
  const rule = { ...memberRule, limit: 5, windowMs: 10_000 };
  const { clock, fake, rest, t0 } = setup({ rules: [rule] });
  await drive(clock, rest.patch(`/guilds/${G}/members/${u(0)}`, { body: {} }));
  fake.script.push(() =>
    json(429, { message: "shared", retry_after: 1, global: false }, {
      "x-ratelimit-scope": "shared",
      "x-ratelimit-limit": "5",
      "x-ratelimit-remaining": "4",
      "x-ratelimit-reset-after": "9.990",
      "x-ratelimit-bucket": "members",
    })
  );
  const writes = Array.from(
    { length: 8 },
    (_, i) => rest.patch(`/guilds/${G}/members/${u(i + 1)}`, { body: {} }),
  );
  await drive(clock, Promise.all(writes), { stepMs: 20 });
  assert.deepStrictEqual(fake.limited.user, 0);
  assert.deepStrictEqual(fake.total429, 1);
  const accepted = fake.accepted.get(`members:guilds/${G}`)!;
  assert.deepStrictEqual(accepted.length, 9);
  // The shared 429 did not reopen the bucket: nothing beyond its 5 slots in the first window,
  // and the limited request went again only after its retry_after.
  assert.ok(accepted.filter((t) => t < t0 + 10_000).length <= 5);
  const retried = fake.calls.findIndex((c, i) => i > 0 && c.at >= t0 + 1000);
  assert.ok(retried > 0);
  assert.deepStrictEqual(rest.stats().rateLimited.shared, 1);
});
