import assert from "node:assert/strict";
import { EthosClient } from "../../lib/ethos/client.ts";
import { ScoreCache } from "../../lib/sync/score_cache.ts";
import { emptyScoreStats, resolveScores } from "../../lib/sync/scores.ts";
import type { ScoreInput, Standing } from "../../lib/sync/rule.ts";

/** The bare scores of a result (flags and levels checked separately). */
const scoresOf = (m: Map<string, ScoreInput>) =>
  Object.fromEntries(
    [...m].map(([id, v]) => [id, v && typeof v === "object" ? v.score : v]),
  );
import { ManualClock } from "../_clock.ts";
import { withKv } from "../kv/_kv.ts";

const A = "300000000000000001"; // score 2100
const B = "300000000000000002"; // no score anywhere
const C = "300000000000000003"; // omitted from bulk answers but has a score (1300)
const D = "300000000000000004"; // no score, holds no managed role

function ethosFake(opts: { down?: boolean; usersDown?: boolean } = {}) {
  const calls: string[] = [];
  const scores: Record<string, number> = { [A]: 2100, [C]: 1300 };
  const fetch = (async (input: Request | URL | string, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    calls.push(`${req.method} ${url.pathname}`);
    if (opts.down) return new Response("down", { status: 503 });
    if (url.pathname === "/users/by/discord") {
      if (opts.usersDown) return new Response("down", { status: 503 });
      const { discordIds } = await req.json() as { discordIds: string[] };
      // A holds a validator NFT; C has no address or XP, but a score of 1300: not a default.
      const users = discordIds.filter((id) => id === A || id === C).map((id) => ({
        displayName: id,
        score: scores[id],
        userkeys: [`service:discord:${id}`, ...(id === A ? ["address:0x1"] : [])],
        validatorNftCount: id === A ? 1 : 0,
        humanVerificationStatus: null,
        xpTotal: id === A ? 10 : 0,
        stats: { review: { received: { positive: 0, neutral: 0, negative: 0 } } },
      }));
      return Response.json(users);
    }
    if (req.method === "POST") {
      const { userkeys } = await req.json() as { userkeys: string[] };
      const out: Record<string, unknown> = {};
      for (const k of userkeys) {
        const id = k.split(":")[2];
        if (scores[id] !== undefined && id !== C) out[k] = { score: scores[id], level: "x" };
      }
      return Response.json(out);
    }
    const id = url.searchParams.get("userkey")!.split(":")[2];
    return scores[id] === undefined
      ? new Response("{}", { status: 404 })
      : Response.json({ score: scores[id] });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

/** A fake Ethos, a client over it (no retries unless asked) and a score cache on `kv`. */
function parts(kv: Deno.Kv, fakeOpts: Parameters<typeof ethosFake>[0] = {}, retries?: number) {
  const clock = new ManualClock();
  const fake = ethosFake(fakeOpts);
  const ethos = new EthosClient({
    apiBase: "https://e.test",
    client: "t@1",
    fetch: fake.fetch,
    clock,
    ...(retries === undefined ? {} : { retries }),
  });
  const cache = new ScoreCache(kv, clock, { ttlMs: 60_000, noScoreTtlMs: 10_000 });
  return { clock, fake, ethos, cache };
}

Deno.test("scores: bulk, confirmation of missing userkeys only when roles are at stake, cache", async () => {
  await withKv(async (kv) => {
    const { clock, fake, ethos, cache } = parts(kv);
    const stats = emptyScoreStats();
    const reqs = [
      { id: A, holdsManaged: false },
      { id: B, holdsManaged: true },
      { id: C, holdsManaged: true },
      { id: D, holdsManaged: false },
    ];
    const first = await resolveScores(reqs, { ethos, cache }, { stats });
    assert.deepStrictEqual(scoresOf(first), { [A]: 2100, [B]: null, [C]: 1300, [D]: null });
    assert.deepStrictEqual((first.get(A) as Standing).level, "x", "the API's level is kept");
    // One bulk call; single lookups only for B and C (D holds nothing, so nothing to confirm).
    assert.deepStrictEqual(fake.calls, [
      "POST /score/userkeys",
      "GET /score/userkey",
      "GET /score/userkey",
    ]);
    assert.deepStrictEqual(stats.singleLookups, 2);

    // Cached: A (score), B (confirmed none), C (score). D was not confirmed, so it is asked again.
    fake.calls.length = 0;
    const second = await resolveScores(reqs, { ethos, cache });
    assert.deepStrictEqual(scoresOf(second), { [A]: 2100, [B]: null, [C]: 1300, [D]: null });
    assert.deepStrictEqual(fake.calls, ["POST /score/userkeys"]);

    // "No score" expires sooner than a score.
    clock.advance(11_000);
    fake.calls.length = 0;
    await resolveScores([{ id: A, holdsManaged: true }, { id: B, holdsManaged: true }], {
      ethos,
      cache,
    });
    assert.deepStrictEqual(fake.calls, ["POST /score/userkeys", "GET /score/userkey"]);

    // fresh: the cache is bypassed.
    fake.calls.length = 0;
    await resolveScores([{ id: A, holdsManaged: true }], { ethos, cache }, { fresh: true });
    assert.deepStrictEqual(fake.calls, ["POST /score/userkeys"]);
  });
});

Deno.test("scores: Ethos down means error for everyone asked, never no score", async () => {
  await withKv(async (kv) => {
    const { ethos, cache } = parts(kv, { down: true }, 0);
    const out = await resolveScores(
      [{ id: A, holdsManaged: true }, { id: B, holdsManaged: true }],
      {
        ethos,
        cache,
      },
    );
    assert.deepStrictEqual(Object.fromEntries(out), { [A]: "error", [B]: "error" });
    // Nothing was cached.
    assert.deepStrictEqual((await cache.getMany([A, B])).size, 0);
  });
});

Deno.test("scores: with flags, one bulk users call per 500 gives score and flags, cached together", async () => {
  await withKv(async (kv) => {
    const { fake, ethos, cache } = parts(kv);
    const stats = emptyScoreStats();
    const reqs = [{ id: A, holdsManaged: true }, { id: C, holdsManaged: true }];
    const out = await resolveScores(reqs, { ethos, cache }, { stats, flags: true });
    assert.deepStrictEqual(out.get(A), {
      score: 2100,
      validator: true,
      human: false,
      isDefault: false,
    });
    assert.deepStrictEqual(out.get(C), {
      score: 1300,
      validator: false,
      human: false,
      isDefault: false,
    });
    // One users call and no scores call: the user objects carry the scores.
    assert.deepStrictEqual(fake.calls.filter((c) => c === "POST /users/by/discord").length, 1);
    assert.deepStrictEqual(fake.calls.filter((c) => c === "POST /score/userkeys").length, 0);
    assert.deepStrictEqual(stats.flagsAsked, 2);
    // Cached with the flags: no second call of either kind.
    fake.calls.length = 0;
    const again = await resolveScores(reqs, { ethos, cache }, { flags: true });
    assert.deepStrictEqual(again.get(A), out.get(A));
    assert.deepStrictEqual(fake.calls, []);
    // An entry cached without flags (before flags were needed) gets only the flags call.
    await cache.putMany([[A, 2100]]);
    fake.calls.length = 0;
    const upgraded = await resolveScores([{ id: A, holdsManaged: true }], { ethos, cache }, {
      flags: true,
    });
    assert.deepStrictEqual((upgraded.get(A) as Standing).validator, true);
    assert.deepStrictEqual(fake.calls, ["POST /users/by/discord"]);
  });
});

Deno.test("scores: a failed flags call makes its members errors, never stripped", async () => {
  await withKv(async (kv) => {
    const { ethos, cache } = parts(kv, { usersDown: true }, 0);
    const out = await resolveScores(
      [{ id: A, holdsManaged: true }, { id: B, holdsManaged: true }],
      { ethos, cache },
      { flags: true },
    );
    // The users call failing leaves both unknown: skipped, not stripped.
    assert.deepStrictEqual(Object.fromEntries(out), { [A]: "error", [B]: "error" });
    // A's score without flags was not cached as complete: the next read asks again.
    assert.deepStrictEqual((await cache.getMany([A])).size, 0);
  });
});
