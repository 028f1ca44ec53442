import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { CheckpointTracker } from "../../lib/jobs/checkpoint.ts";

interface Job {
  id: number;
  done: boolean;
}

function tracker(clock: ManualClock, everyItems?: number) {
  return new CheckpointTracker<Job>({ clock, isDone: (j) => j.done, everyMs: 1000, everyItems });
}

Deno.test("checkpoint: only the contiguous run of finished items is taken, in walk order", () => {
  const t = tracker(new ManualClock(0));
  const jobs = Array.from({ length: 5 }, (_, id) => ({ id, done: false }));
  for (const j of jobs) t.push(j);
  // Items finish out of order: nothing moves until the first is done.
  jobs[1].done = jobs[3].done = true;
  assert.deepStrictEqual(t.take(), []);
  assert.equal(t.open, 5);
  jobs[0].done = true;
  assert.deepStrictEqual(t.take().map((j) => j.id), [0, 1]);
  assert.equal(t.open, 3);
  // Taken items are not handed out twice.
  assert.deepStrictEqual(t.take(), []);
  jobs[2].done = jobs[4].done = true;
  assert.deepStrictEqual(t.take().map((j) => j.id), [2, 3, 4]);
  assert.equal(t.open, 0);
});

Deno.test("checkpoint: a long walk keeps working after the taken items are dropped", () => {
  const t = tracker(new ManualClock(0));
  let taken = 0;
  let next = 0;
  for (let round = 0; round < 30; round++) {
    const batch = Array.from({ length: 500 }, () => ({ id: next++, done: false }));
    for (const j of batch) t.push(j);
    // Finish the batch backwards: only the last finish releases it.
    for (let i = batch.length - 1; i >= 0; i--) {
      batch[i].done = true;
      const got = t.take();
      if (i > 0) assert.equal(got.length, 0);
      else {
        assert.deepStrictEqual(got.map((j) => j.id), batch.map((j) => j.id));
        taken += got.length;
      }
    }
  }
  assert.equal(taken, 15_000);
  assert.equal(t.open, 0);
});

Deno.test("checkpoint: due after everyMs since the last mark, or once everyItems wait", () => {
  const clock = new ManualClock(10_000);
  const t = tracker(clock, 3);
  assert.equal(t.due(0), false);
  assert.equal(t.due(2), false);
  assert.equal(t.due(3), true);
  clock.advance(999);
  assert.equal(t.due(), false);
  clock.advance(1);
  assert.equal(t.due(), true);
  t.mark();
  assert.equal(t.due(), false);
  t.mark(clock.now() - 1000);
  assert.equal(t.due(), true);
  // Without everyItems, only time makes it due.
  assert.equal(tracker(clock).due(1_000_000), false);
});

Deno.test("checkpoint: commits run one at a time, in order; a failed one fails the later ones", async () => {
  const t = tracker(new ManualClock(0));
  const log: string[] = [];
  const gate = Promise.withResolvers<void>();
  const first = t.commit(async () => {
    log.push("1 start");
    await gate.promise;
    log.push("1 end");
  });
  const second = t.commit(() => {
    log.push("2");
    return Promise.resolve();
  });
  await Promise.resolve();
  assert.deepStrictEqual(log, ["1 start"]);
  gate.resolve();
  await Promise.all([first, second]);
  assert.deepStrictEqual(log, ["1 start", "1 end", "2"]);

  const failing = t.commit(() => Promise.reject(new Error("lease lost")));
  const after = t.commit(() => {
    log.push("after");
    return Promise.resolve();
  });
  await assert.rejects(failing, /lease lost/);
  await assert.rejects(after, /lease lost/);
  assert.ok(!log.includes("after"));
});
