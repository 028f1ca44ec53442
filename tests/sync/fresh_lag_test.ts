/**
 * lib/sync/fresh_lag.ts: lag samples kept per minute (count, sum, max, a bounded sample), the
 * percentiles, and the window read back minute by minute with each minute weighed by its count.
 */
import assert from "node:assert/strict";
import { lagKeys, percentile, readLags, recordLags } from "../../lib/sync/fresh_lag.ts";
import { withKv } from "../kv/_kv.ts";

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 22, 12); // on a minute

Deno.test("percentile: nearest rank on a sorted list; none of nothing", () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(xs, 0.5), 5);
  assert.equal(percentile(xs, 0.95), 10);
  assert.equal(percentile(xs, 0.1), 1);
  assert.equal(percentile(xs, 1), 10);
  assert.equal(percentile([7], 0.95), 7);
  assert.equal(percentile([], 0.5), null);
});

Deno.test("recordLags: a minute's count, sum and max; nothing written for no lags", () =>
  withKv(async (kv) => {
    await recordLags(kv, T0 + 5_000, []);
    assert.equal((await kv.get(lagKeys.minute(T0))).versionstamp, null);
    await recordLags(kv, T0 + 5_000, [3, 1]);
    await recordLags(kv, T0 + 59_999, [8]);
    await recordLags(kv, T0 + MIN, [2]);
    assert.deepEqual((await kv.get(lagKeys.minute(T0))).value, {
      n: 3,
      sum: 12,
      max: 8,
      sample: [3, 1, 8],
    });
    assert.deepEqual((await kv.get(lagKeys.minute(T0 + MIN))).value, {
      n: 1,
      sum: 2,
      max: 2,
      sample: [2],
    });
  }));

Deno.test("recordLags: the sample stays at 300 however many lags the minute has", () =>
  withKv(async (kv) => {
    await recordLags(kv, T0, Array.from({ length: 1_000 }, (_, i) => i));
    const m = (await kv.get<{ n: number; max: number; sample: number[] }>(lagKeys.minute(T0)))
      .value!;
    assert.equal(m.n, 1_000);
    assert.equal(m.max, 999);
    assert.equal(m.sample.length, 300);
    assert.ok(m.sample.every((v) => Number.isInteger(v) && v >= 0 && v < 1_000));
  }));

Deno.test("recordLags: concurrent writers of one minute lose nothing", () =>
  withKv(async (kv) => {
    await Promise.all([1, 2, 3, 4].map((n) => recordLags(kv, T0, [n])));
    const m = (await kv.get<{ n: number; sum: number }>(lagKeys.minute(T0))).value!;
    assert.deepEqual([m.n, m.sum], [4, 10]);
  }));

Deno.test("readLags: every minute of the window, oldest first, empty ones included", () =>
  withKv(async (kv) => {
    await recordLags(kv, T0 - 3 * MIN, [100]); // outside a 3-minute window
    await recordLags(kv, T0 - 2 * MIN, [4, 2, 6]);
    await recordLags(kv, T0, [10]);
    const r = await readLags(kv, T0 + 30_000, 3);
    assert.deepEqual(r.minutes, [
      { at: T0 - 2 * MIN, n: 3, p50: 4, p95: 6, max: 6 },
      { at: T0 - MIN, n: 0, p50: null, p95: null, max: null },
      { at: T0, n: 1, p50: 10, p95: 10, max: 10 },
    ]);
    assert.deepEqual(r.all, { n: 4, p50: 4, p95: 10, max: 10 });
    assert.deepEqual(r.values.sort((a, b) => a - b), [2, 4, 6, 10]);
  }));

Deno.test("readLags: a minute whose sample is cut counts by its count, not its sample", () =>
  withKv(async (kv) => {
    // 600 lags of 50 s in one minute (a sample of 300), 300 of 1 s in the next (all kept).
    await recordLags(kv, T0, Array(600).fill(50));
    await recordLags(kv, T0 + MIN, Array(300).fill(1));
    const r = await readLags(kv, T0 + MIN, 2);
    assert.equal(r.all.n, 900);
    assert.equal(r.values.length, 900, "the first minute's sample weighs twice");
    assert.equal(r.all.p50, 50, "two thirds of the lags are 50 s");
  }));

Deno.test("readLags: nothing recorded is a window of empty minutes", () =>
  withKv(async (kv) => {
    await kv.set([...lagKeys.all(), T0], { broken: true });
    const r = await readLags(kv, T0, 2);
    assert.deepEqual(r.all, { n: 0, p50: null, p95: null, max: null });
    assert.deepEqual(r.minutes.map((m) => m.n), [0, 0]);
    assert.deepEqual(r.values, []);
  }));
