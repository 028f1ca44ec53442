/**
 * The Ethos score cache (lib/sync/score_cache.ts): what goes in comes back (scores, standings
 * with their flags, confirmed "no score"), each kind with its own TTL checked on read, values of
 * the wrong shape read as misses, forget, and the KV operations it issues.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import { ScoreCache } from "../../lib/sync/score_cache.ts";
import { withKv } from "../kv/_kv.ts";

const T0 = Date.UTC(2026, 0, 1);
const A = "300000000000000001";
const B = "300000000000000002";
const C = "300000000000000003";
const D = "300000000000000004";

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => String(400000000000000000n + BigInt(i)));

function cacheOn(kv: Deno.Kv, ttlMs = 60_000, noScoreTtlMs = 10_000) {
  const clock = new ManualClock(T0);
  return { clock, cache: new ScoreCache(kv, clock, { ttlMs, noScoreTtlMs }) };
}

Deno.test("score cache: scores, standings with flags and confirmed no-score come back; others are absent", async () => {
  await withKv(async (kv) => {
    const { cache } = cacheOn(kv);
    await cache.putMany([
      [A, 2100],
      [B, { score: 1300, level: "known", validator: true, human: false, isDefault: false }],
      [C, null],
    ]);
    const got = await cache.getMany([A, B, C, D]);
    assert.deepStrictEqual(
      got,
      new Map<string, unknown>([
        [A, { score: 2100 }],
        [B, { score: 1300, level: "known", validator: true, human: false, isDefault: false }],
        [C, null],
      ]),
    );
    assert.deepStrictEqual(got.has(D), false, "never cached: absent, not null");
  });
});

Deno.test("score cache: flags not read stay undefined; a later put replaces the entry", async () => {
  await withKv(async (kv) => {
    const { cache } = cacheOn(kv);
    await cache.putMany([[A, { score: 900, human: true }], [B, 5]]);
    const first = await cache.getMany([A, B]);
    assert.deepStrictEqual(first.get(A), { score: 900, human: true });
    assert.deepStrictEqual(Object.keys(first.get(B)!), ["score"]);
    // The score changed to "no score", and back.
    await cache.putMany([[A, null], [B, { score: 6, validator: false }]]);
    const second = await cache.getMany([A, B]);
    assert.deepStrictEqual(second.get(A), null);
    assert.deepStrictEqual(second.get(B), { score: 6, validator: false });
  });
});

Deno.test("score cache: a score and a no-score expire on their own TTLs, checked on read", async () => {
  await withKv(async (kv) => {
    const { clock, cache } = cacheOn(kv, 60_000, 10_000);
    await cache.putMany([[A, 2100], [B, null]]);
    clock.advance(9_999);
    assert.deepStrictEqual((await cache.getMany([A, B])).size, 2);
    clock.advance(1); // exactly 10 s: the no-score has expired
    assert.deepStrictEqual(await cache.getMany([A, B]), new Map([[A, { score: 2100 }]]));
    clock.advance(49_999);
    assert.deepStrictEqual(
      (await cache.getMany([A])).size,
      1,
      "the score lasts its own, longer TTL",
    );
    clock.advance(1); // exactly 60 s
    assert.deepStrictEqual((await cache.getMany([A, B])).size, 0);
    // A new put starts a new TTL from the clock's time.
    await cache.putMany([[B, null]]);
    clock.advance(9_000);
    assert.deepStrictEqual(await cache.getMany([B]), new Map([[B, null]]));
  });
});

Deno.test("score cache: a TTL of zero turns that kind of caching off", async () => {
  await withKv(async (kv) => {
    // No-score off: a null is not stored, scores are.
    const { cache } = cacheOn(kv, 60_000, 0);
    await cache.putMany([[A, 2100], [B, null]]);
    assert.deepStrictEqual(await cache.getMany([A, B]), new Map([[A, { score: 2100 }]]));
    assert.deepStrictEqual((await kv.get(keys.ethosScore(B))).value, null);

    // Scores off: only no-score is stored.
    const scoresOff = cacheOn(kv, 0, 10_000).cache;
    await scoresOff.putMany([[C, 1], [D, null]]);
    assert.deepStrictEqual(await scoresOff.getMany([C, D]), new Map([[D, null]]));

    // A user who had a score and lost it: the old score does not outlive the "no score".
    await cache.putMany([[A, null]]);
    assert.deepStrictEqual(await cache.getMany([A]), new Map());

    // Both off: getMany reads nothing at all.
    const off = cacheOn(kv, 0, 0).cache;
    assert.deepStrictEqual((await off.getMany([A, D])).size, 0);
    assert.deepStrictEqual(off.ops, 0);
  });
});

Deno.test("score cache: values of the wrong shape read as misses", async () => {
  await withKv(async (kv) => {
    const { cache } = cacheOn(kv);
    const later = T0 + 60_000;
    const bad: unknown[] = [
      2100, // a bare score (an older format)
      "2100",
      null,
      { s: 2100 }, // no expiry
      { s: "2100", x: later },
      { s: 2100, x: String(later) },
      { x: later }, // no score field (null is "no score"; missing is not)
      { s: 2100, x: later, f: { v: "yes" } },
      { s: 2100, x: later, f: { l: "x".repeat(33) } }, // level over 32 characters
      { s: 2100, x: later, f: "flags" },
    ];
    const badIds = ids(bad.length);
    for (const [i, value] of bad.entries()) await kv.set(keys.ethosScore(badIds[i]), value);
    // Well-formed entries written by hand do read back.
    await kv.set(keys.ethosScore(A), { s: 7, x: later });
    await kv.set(keys.ethosScore(B), { s: null, x: later });
    await kv.set(keys.ethosScore(C), { s: 8, x: later, f: { l: "x".repeat(32), d: true } });
    const got = await cache.getMany([...badIds, A, B, C]);
    assert.deepStrictEqual(
      got,
      new Map<string, unknown>([
        [A, { score: 7 }],
        [B, null],
        [C, { score: 8, level: "x".repeat(32), isDefault: true }],
      ]),
    );
  });
});

Deno.test("score cache: forget drops only the users named", async () => {
  await withKv(async (kv) => {
    const { cache } = cacheOn(kv);
    await cache.putMany([[A, 1], [B, null], [C, 3]]);
    await cache.forget([A, B, D]); // D was never cached: fine
    assert.deepStrictEqual(await cache.getMany([A, B, C, D]), new Map([[C, { score: 3 }]]));
    await cache.forget([]);
    assert.deepStrictEqual((await cache.getMany([C])).size, 1);
  });
});

Deno.test("score cache: reads go 10 keys per getMany, writes and forgets up to 500 per commit", async () => {
  await withKv(async (kv) => {
    const { cache } = cacheOn(kv);
    const many = ids(1_001);
    await cache.putMany(many.map((id, i) => [id, i % 2 ? i : null]));
    assert.deepStrictEqual(cache.ops, 3, "500 + 500 + 1");

    cache.ops = 0;
    const got = await cache.getMany(many.slice(0, 25));
    assert.deepStrictEqual(cache.ops, 3, "10 + 10 + 5");
    assert.deepStrictEqual(got.size, 25);
    assert.deepStrictEqual(got.get(many[3]), { score: 3 });
    assert.deepStrictEqual(got.get(many[4]), null);

    // All 1001: 101 groups, every entry found.
    cache.ops = 0;
    assert.deepStrictEqual((await cache.getMany(many)).size, 1_001);
    assert.deepStrictEqual(cache.ops, 101);

    cache.ops = 0;
    await cache.forget(many.slice(0, 501));
    assert.deepStrictEqual(cache.ops, 2);
    assert.deepStrictEqual((await cache.getMany(many)).size, 500);

    cache.ops = 0;
    await cache.putMany([]);
    assert.deepStrictEqual(await cache.getMany([]), new Map());
    assert.deepStrictEqual(cache.ops, 0, "nothing to write or read: no KV call");
  });
});

Deno.test("score cache: concurrency 1 still reads every group", async () => {
  await withKv(async (kv) => {
    const clock = new ManualClock(T0);
    const cache = new ScoreCache(kv, clock, { ttlMs: 1_000, noScoreTtlMs: 1_000, concurrency: 1 });
    const some = ids(35);
    await cache.putMany(some.map((id) => [id, 1]));
    cache.ops = 0;
    assert.deepStrictEqual((await cache.getMany(some)).size, 35);
    assert.deepStrictEqual(cache.ops, 4);
  });
});
