import assert from "node:assert/strict";
import { DRAIN_SHARE, DrainShare } from "../../lib/sync/drain_share.ts";

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

Deno.test("drain share: grows while PATCHes go out young, up to its cap", () => {
  const d = new DrainShare(5_000);
  let share = 0;
  for (let page = 0; page < 20; page++) {
    d.observe(1_000);
    share = d.next();
  }
  assert.deepStrictEqual(share, DRAIN_SHARE.max);
});

Deno.test("drain share: holds when the oldest read is near the window, halves on a re-read", () => {
  const d = new DrainShare(5_000);
  const first = d.next(); // nothing seen yet: grows one step
  assert.deepStrictEqual(near(first, DRAIN_SHARE.start + DRAIN_SHARE.step), true);
  d.observe(4_000); // over 70% of the window: no growth
  assert.deepStrictEqual(d.next(), first);
  d.observe(1_000);
  d.reread(); // a PATCH was stale: halve
  assert.deepStrictEqual(near(d.next(), first / 2), true);
  // Re-reads page after page: it never goes below its floor.
  for (let i = 0; i < 10; i++) {
    d.reread();
    d.next();
  }
  d.reread();
  assert.deepStrictEqual(d.next(), DRAIN_SHARE.min);
});
