import assert from "node:assert/strict";
import { discordIdOf, EthosClient, EthosError } from "../../lib/ethos/client.ts";
import { ManualClock } from "../_clock.ts";

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

function fakeEthos(answer: (req: Seen, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = async (input: Request | URL | string, init?: RequestInit) => {
    const req = new Request(input, init);
    const text = await req.text();
    const s = {
      method: req.method,
      url: new URL(req.url),
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    seen.push(s);
    return await answer(s, seen.length);
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => String(300000000000000000n + BigInt(i)));
const client = (
  fetch: typeof globalThis.fetch,
  extra: Partial<ConstructorParameters<typeof EthosClient>[0]> = {},
) =>
  new EthosClient({
    apiBase: "https://ethos.test/api/v2/",
    client: "ethos-discord-bot@9.9.9",
    fetch,
    retryBaseMs: 1,
    retryMaxMs: 5,
    random: () => 0.5,
    ...extra,
  });

Deno.test("ethos: bulk asks at most 500 userkeys per call and sends X-Ethos-Client", async () => {
  const users = ids(1203);
  const { fetch, seen } = fakeEthos((req) => {
    const keys = (req.body as { userkeys: string[] }).userkeys;
    const out: Record<string, unknown> = {};
    // Every other user has a score.
    keys.forEach((k, i) => i % 2 === 0 && (out[k] = { score: 1000 + i, level: "neutral" }));
    return Response.json(out);
  });
  const r = await client(fetch).scores(users);
  assert.deepStrictEqual(seen.map((s) => (s.body as { userkeys: string[] }).userkeys.length), [
    500,
    500,
    203,
  ]);
  for (const s of seen) {
    assert.deepStrictEqual(s.method, "POST");
    assert.deepStrictEqual(s.url.pathname, "/api/v2/score/userkeys");
    assert.deepStrictEqual(s.headers.get("x-ethos-client"), "ethos-discord-bot@9.9.9");
  }
  assert.deepStrictEqual(
    (seen[0].body as { userkeys: string[] }).userkeys[0],
    `service:discord:${users[0]}`,
  );
  assert.deepStrictEqual(r.failed.size, 0);
  assert.deepStrictEqual(r.scores.size, 250 + 250 + 102);
  assert.deepStrictEqual(r.scores.get(users[0])?.score, 1000);
  assert.deepStrictEqual(r.scores.has(users[1]), false);
});

Deno.test("ethos: retries 5xx and 429 with backoff, then succeeds", async () => {
  const { fetch, seen } = fakeEthos((_req, n) =>
    n === 1
      ? new Response("busy", { status: 503 })
      : n === 2
      ? new Response("slow down", { status: 429, headers: { "retry-after": "0" } })
      : Response.json({ [`service:discord:${ids(1)[0]}`]: { score: 1500, level: "known" } })
  );
  const c = client(fetch);
  const r = await c.scores(ids(1));
  assert.deepStrictEqual(seen.length, 3);
  assert.deepStrictEqual(r.scores.get(ids(1)[0])?.score, 1500);
  assert.deepStrictEqual(c.stats.retries, 2);
});

Deno.test("ethos: a bulk call that keeps failing reports its users as failed, never as no score", async () => {
  const { fetch, seen } = fakeEthos(() => new Response("down", { status: 500 }));
  const r = await client(fetch, { retries: 2 }).scores(ids(600));
  assert.deepStrictEqual(seen.length, 6); // two batches x three attempts
  assert.deepStrictEqual(r.scores.size, 0);
  assert.deepStrictEqual(r.failed.size, 600);
});

Deno.test("ethos: a 4xx answer is not retried", async () => {
  const { fetch, seen } = fakeEthos(() => new Response("bad", { status: 400 }));
  const r = await client(fetch).scores(ids(3));
  assert.deepStrictEqual(seen.length, 1);
  assert.deepStrictEqual(r.failed.size, 3);
});

Deno.test("ethos: single lookup answers null on 404 and throws after retries", async () => {
  const user = ids(1)[0];
  const { fetch, seen } = fakeEthos((req) =>
    req.url.searchParams.get("userkey") === `service:discord:${user}`
      ? new Response(JSON.stringify({ ok: false }), { status: 404 })
      : Response.json({ score: 2100, level: "exemplary" })
  );
  const c = client(fetch);
  assert.deepStrictEqual(await c.score(user), null);
  assert.deepStrictEqual(seen[0].url.pathname, "/api/v2/score/userkey");
  assert.deepStrictEqual((await c.score("300000000000000999"))?.score, 2100);
  const down = client(fakeEthos(() => new Response("x", { status: 502 })).fetch, { retries: 1 });
  await assert.rejects(() => down.score(user), EthosError);
});

Deno.test("ethos: network errors and timeouts are retried", async () => {
  const clock = new ManualClock();
  let n = 0;
  const fetch = ((_i: unknown, init?: RequestInit) => {
    n++;
    if (n === 1) return Promise.reject(new TypeError("connection refused"));
    if (n === 2) {
      // Never answers until aborted by the timeout.
      return new Promise((_r, reject) =>
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))
      );
    }
    return Promise.resolve(Response.json({ score: 900, level: "questionable" }));
  }) as typeof globalThis.fetch;
  const c = client(fetch, { clock, timeoutMs: 1000 });
  const p = c.score(ids(1)[0]);
  for (let i = 0; i < 50 && n < 3; i++) {
    await new Promise((r) => setTimeout(r, 1));
    clock.advance(600);
  }
  assert.deepStrictEqual((await p)?.score, 900);
  assert.deepStrictEqual(n, 3);
});

Deno.test("ethos: updates feed and userkey parsing", async () => {
  const { fetch, seen } = fakeEthos(() =>
    Response.json({
      values: [{
        userkey: "service:discord:300000000000000001",
        lastUpdatedAt: "2026-01-01T00:00:00.000Z",
      }],
      total: 1,
      limit: 1000,
      offset: 0,
    })
  );
  const page = await client(fetch).updates("2025-12-31T00:00:00.000Z", { limit: 5000, offset: 10 });
  assert.deepStrictEqual(page.total, 1);
  assert.deepStrictEqual(seen[0].url.searchParams.get("limit"), "1000");
  assert.deepStrictEqual(seen[0].url.searchParams.get("offset"), "10");
  assert.deepStrictEqual(discordIdOf("service:discord:300000000000000001"), "300000000000000001");
  assert.deepStrictEqual(discordIdOf("address:0xabc"), undefined);
  assert.ok(discordIdOf("service:discord:abc") === undefined);
});
