/**
 * The freshness pass's intake: Ethos's updates feed into per-guild backlogs, once per update,
 * whatever the feed does (repeats, out of order, other services, future times, failures, bursts).
 */
import assert from "node:assert/strict";
import { createTestApp, GUILD_ID, type TestApp } from "../_harness.ts";
import { EthosClient } from "../../lib/ethos/client.ts";
import { type BacklogEntry, freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import { intakeUpdates, MAX_SKEW_MS, OVERLAP_MS } from "../../lib/sync/fresh_intake.ts";
import { updateSetup } from "../../lib/guilds/setup.ts";
import { acquireLease } from "../../lib/kv/lease.ts";

const SECOND = "200000000000000002";
const ENV = {
  VERIFIED_ROLE_ID: "210000000000000009",
  ETHOS_ROLE_EXEMPLARY: "210000000000000001",
  ETHOS_ROLE_REPUTABLE: "210000000000000002",
  ETHOS_ROLE_NEUTRAL: "210000000000000003",
  ETHOS_ROLE_QUESTIONABLE: "210000000000000004",
  ETHOS_ROLE_UNTRUSTED: "210000000000000005",
};
const user = (n: number) => String(300000000000000000n + BigInt(n));
const discord = (n: number) => `service:discord:${user(n)}`;

interface Update {
  userkey: string;
  lastUpdatedAt: string;
}

/** An Ethos client over a scripted feed: `feed(after, offset)` answers each call (or throws). */
function feedClient(feed: (after: string, offset: number, limit: number) => Update[] | Response) {
  const calls: { after: string; offset: number }[] = [];
  const ethos = new EthosClient({
    apiBase: "https://ethos.test/api/v2",
    client: "test@1",
    retries: 1,
    retryBaseMs: 1,
    retryMaxMs: 2,
    fetch: (input) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      const after = url.searchParams.get("after")!;
      const offset = Number(url.searchParams.get("offset"));
      const limit = Number(url.searchParams.get("limit"));
      calls.push({ after, offset });
      const answer = feed(after, offset, limit);
      if (answer instanceof Response) return Promise.resolve(answer);
      return Promise.resolve(
        Response.json({ values: answer, total: answer.length, limit, offset }),
      );
    },
  });
  return { ethos, calls };
}

async function twoGuilds(): Promise<TestApp> {
  const t = await createTestApp({ env: ENV });
  await updateSetup(t.deps, SECOND, { id: "1" }, "map", (s) => ({
    ...s,
    roles: { ...s.roles, neutral: "220000000000000003", known: "220000000000000004" },
    verifiedNone: true,
  }));
  return t;
}

async function backlog(t: TestApp, guildId: string) {
  const out = new Map<string, BacklogEntry>();
  for await (const e of t.deps.kv.list<BacklogEntry>({ prefix: freshKeys.backlogOf(guildId) })) {
    out.set(String(e.key[3]), e.value);
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("fresh intake: Discord updates go into every configured guild's backlog, once", async () => {
  const t = await twoGuilds();
  try {
    const now = t.clock.now();
    const values = [
      { userkey: discord(1), lastUpdatedAt: iso(now - 30_000) },
      { userkey: "address:0x0000000000000000000000000000000000000001", lastUpdatedAt: iso(now) },
      { userkey: discord(2), lastUpdatedAt: iso(now - 10_000) },
      // Repeated and out of order within the page.
      { userkey: discord(1), lastUpdatedAt: iso(now - 30_000) },
      { userkey: discord(3), lastUpdatedAt: "not a time" },
    ];
    const { ethos, calls } = feedClient(() => values);
    const r = await intakeUpdates(t.deps, { ethos });
    assert.deepStrictEqual([r.ran, r.queued, r.otherService, r.badTime], [true, 2, 1, 1]);
    assert.deepStrictEqual(
      calls[0].after,
      iso(now - OVERLAP_MS),
      "a first pass starts at the overlap",
    );
    for (const g of [GUILD_ID, SECOND]) {
      const b = await backlog(t, g);
      assert.deepStrictEqual([...b.keys()].sort(), [user(1), user(2)]);
      assert.deepStrictEqual(b.get(user(2))!.updatedAt, now - 10_000);
    }
    // The cursor never moves back: these updates were older than where the first pass started.
    assert.deepStrictEqual(r.cursor.after, now);

    // The next pass reads the overlap again: the same updates are not queued twice, even after
    // the backlog was worked off.
    await t.deps.kv.delete(freshKeys.backlog(GUILD_ID, user(1)));
    t.clock.advance(60_000);
    const again = await intakeUpdates(t.deps, { ethos });
    assert.deepStrictEqual([again.queued, again.repeated], [0, 2]);
    assert.deepStrictEqual(calls[1].after, iso(now - OVERLAP_MS));
    assert.deepStrictEqual((await backlog(t, GUILD_ID)).has(user(1)), false);

    // A newer change of the same member is queued again, with its time.
    values.push({ userkey: discord(1), lastUpdatedAt: iso(now + 50_000) });
    const newer = await intakeUpdates(t.deps, { ethos });
    assert.deepStrictEqual(newer.queued, 1);
    assert.deepStrictEqual((await backlog(t, SECOND)).get(user(1))!.updatedAt, now + 50_000);
  } finally {
    await t.close();
  }
});

Deno.test("fresh intake: a failing feed moves nothing; a pass already running is not doubled", async () => {
  const t = await twoGuilds();
  try {
    const before = (await t.deps.kv.get(freshKeys.cursor())).value;
    const { ethos } = feedClient(() => new Response("upstream down", { status: 503 }));
    await assert.rejects(() => intakeUpdates(t.deps, { ethos }));
    assert.deepStrictEqual((await t.deps.kv.get(freshKeys.cursor())).value, before);
    assert.deepStrictEqual((await backlog(t, GUILD_ID)).size, 0);

    // Another isolate holds the pass: this one reads nothing.
    await acquireLease(t.deps.kv, "fresh-intake", "other", 55_000, t.clock);
    const ok = feedClient(() => [{ userkey: discord(1), lastUpdatedAt: iso(t.clock.now()) }]);
    const r = await intakeUpdates(t.deps, { ethos: ok.ethos });
    assert.deepStrictEqual([r.ran, ok.calls.length], [false, 0]);
  } finally {
    await t.close();
  }
});

Deno.test("fresh intake: a cursor in the future starts again from now; future times are skipped", async () => {
  const t = await twoGuilds();
  try {
    const now = t.clock.now();
    await t.deps.kv.set(freshKeys.cursor(), { after: now + 3_600_000, at: now });
    const { ethos, calls } = feedClient(() => [
      { userkey: discord(1), lastUpdatedAt: iso(now - 5_000) },
      { userkey: discord(2), lastUpdatedAt: iso(now + MAX_SKEW_MS + 60_000) },
    ]);
    const r = await intakeUpdates(t.deps, { ethos });
    assert.ok(r.cursorReset);
    assert.deepStrictEqual(calls[0].after, iso(now - OVERLAP_MS), "from now less the overlap");
    assert.deepStrictEqual([r.queued, r.badTime], [1, 1]);
    assert.deepStrictEqual(r.cursor.after, now);
  } finally {
    await t.close();
  }
});

Deno.test("fresh intake: a burst beyond one pass goes on from the next offset, nothing lost", async () => {
  const t = await twoGuilds();
  try {
    const now = t.clock.now();
    // 2,500 changes within one second: more than the overlap window could page through again.
    const all = Array.from({ length: 2500 }, (_, i) => ({
      userkey: discord(i + 1),
      lastUpdatedAt: iso(now - 1000 + Math.floor(i / 10)),
    }));
    const { ethos, calls } = feedClient((_after, offset, limit) =>
      all.slice(offset, offset + limit)
    );
    const first = await intakeUpdates(t.deps, { ethos, maxPages: 1 });
    assert.deepStrictEqual([first.queued, first.more], [1000, true]);
    const second = await intakeUpdates(t.deps, { ethos, maxPages: 1 });
    assert.deepStrictEqual([second.queued, second.more], [1000, true]);
    assert.deepStrictEqual(calls[1].offset, 1000);
    const third = await intakeUpdates(t.deps, { ethos, maxPages: 1 });
    assert.deepStrictEqual([third.queued, third.more], [500, false]);
    assert.deepStrictEqual((await backlog(t, GUILD_ID)).size, 2500);
    assert.deepStrictEqual((await backlog(t, SECOND)).size, 2500);
    // Caught up: the next pass starts at the overlap again.
    await intakeUpdates(t.deps, { ethos, maxPages: 1 });
    assert.deepStrictEqual(calls.at(-1)!.offset, 0);
  } finally {
    await t.close();
  }
});

Deno.test("fresh intake: a feed that skips a page holds the cursor; the next pass reads it", async () => {
  const t = await twoGuilds();
  try {
    const now = t.clock.now();
    const all = Array.from({ length: 2500 }, (_, i) => ({
      userkey: discord(i + 1),
      lastUpdatedAt: iso(now - 60_000 + i),
    }));
    let skipping = true;
    const { ethos } = feedClient((_after, offset, limit) => {
      // The second page comes back as the third: short, while the total says 2,500.
      const from = skipping && offset === 1000 ? 2000 : offset;
      const values = all.slice(from, from + limit);
      return Response.json({ values, total: all.length, limit, offset });
    });
    const first = await intakeUpdates(t.deps, { ethos });
    assert.deepStrictEqual([first.gap, first.queued], [true, 1500]);
    assert.deepStrictEqual(
      first.cursor.after,
      now,
      "the cursor did not move past the skipped span",
    );
    skipping = false;
    t.clock.advance(60_000);
    const second = await intakeUpdates(t.deps, { ethos });
    assert.deepStrictEqual([second.gap, second.queued, second.repeated], [false, 1000, 1500]);
    assert.deepStrictEqual((await backlog(t, GUILD_ID)).size, 2500);
  } finally {
    await t.close();
  }
});

Deno.test("fresh intake: a 429 mid-pass loses nothing and queues nothing twice", async () => {
  const t = await twoGuilds();
  try {
    const now = t.clock.now();
    const all = Array.from({ length: 1500 }, (_, i) => ({
      userkey: discord(i + 1),
      lastUpdatedAt: iso(now - 30_000 + i),
    }));
    let limited = true;
    const { ethos } = feedClient((_after, offset, limit) => {
      if (limited && offset === 1000) {
        return new Response(JSON.stringify({ message: "slow down" }), {
          status: 429,
          headers: { "retry-after": "0" },
        });
      }
      return Response.json({
        values: all.slice(offset, offset + limit),
        total: all.length,
        limit,
        offset,
      });
    });
    await assert.rejects(() => intakeUpdates(t.deps, { ethos }));
    // The first page was queued; the cursor did not move.
    assert.deepStrictEqual((await backlog(t, GUILD_ID)).size, 1000);
    assert.deepStrictEqual((await t.deps.kv.get(freshKeys.cursor())).value, null);
    limited = false;
    const r = await intakeUpdates(t.deps, { ethos, startAfter: now });
    assert.deepStrictEqual([r.queued, r.repeated], [500, 1000]);
    assert.deepStrictEqual((await backlog(t, SECOND)).size, 1500);
  } finally {
    await t.close();
  }
});
