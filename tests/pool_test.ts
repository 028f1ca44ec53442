/** lib/pool.ts: every item runs once, at most n at a time, started in order. */
import assert from "node:assert/strict";
import { pool } from "../lib/pool.ts";

/** Runs the pool over `count` items whose work waits for the test to release it. */
function gated(count: number, n: number) {
  const started: number[] = [];
  const gates = new Map<number, () => void>();
  let running = 0;
  let peak = 0;
  const done = pool(Array.from({ length: count }, (_, i) => i), n, async (i) => {
    started.push(i);
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => gates.set(i, resolve));
    running--;
  });
  return { started, gates, done, peak: () => peak };
}

const turn = () => new Promise((r) => setTimeout(r, 0));

Deno.test("pool: runs at most n at a time and starts the next item as one finishes", async () => {
  const g = gated(5, 2);
  await turn();
  assert.deepEqual(g.started, [0, 1]);
  g.gates.get(1)!();
  await turn();
  assert.deepEqual(g.started, [0, 1, 2], "a freed worker takes the next item in order");
  for (const i of [0, 2, 3, 4]) {
    await turn();
    g.gates.get(i)!();
  }
  await g.done;
  assert.deepEqual(g.started, [0, 1, 2, 3, 4]);
  assert.equal(g.peak(), 2);
});

Deno.test("pool: n larger than the list runs every item at once, each once", async () => {
  const seen: string[] = [];
  await pool(["a", "b", "c"], 10, async (x) => {
    await turn();
    seen.push(x);
  });
  assert.deepEqual(seen.sort(), ["a", "b", "c"]);
});

Deno.test("pool: an empty list resolves without calling fn", async () => {
  let calls = 0;
  await pool([], 3, () => {
    calls++;
    return Promise.resolve();
  });
  assert.equal(calls, 0);
});

Deno.test("pool: a failing item rejects the pool with its error", async () => {
  await assert.rejects(
    pool([1, 2, 3], 2, async (i) => {
      await turn();
      if (i === 2) throw new Error("item 2 failed");
    }),
    /item 2 failed/,
  );
});
