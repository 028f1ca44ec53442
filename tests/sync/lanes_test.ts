/**
 * The write lanes (lib/sync/lanes.ts): the pacer's evenly spaced slots, and lanes that send at
 * their interval, keep a bounded number in flight, share a global pacer, drain on close and stop
 * on abort. Time is a ManualClock moved in small steps; each step lets pending callbacks run.
 * Kept in one file past 400 lines: the cases share their pacer and clock fixtures.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { Lane, type LaneOptions, Pacer } from "../../lib/sync/lanes.ts";

const T0 = Date.UTC(2026, 0, 1);

/** Lets every pending promise callback run (a macrotask turn). */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Moves the clock forward `ms` in `step` increments, letting callbacks run after each. */
async function advance(clock: ManualClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

/** A promise resolved from outside. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A lane whose exec records the time of each task (relative to T0) and returns at once. */
function recordingLane(
  clock: ManualClock,
  o: Partial<LaneOptions<string>> & { signal?: AbortSignal } = {},
) {
  const sent: [string, number][] = [];
  const lane = new Lane<string>({
    name: "test",
    intervalMs: 100,
    maxInFlight: 10,
    clock,
    signal: new AbortController().signal,
    exec: (task) => {
      sent.push([task, clock.now() - T0]);
      return Promise.resolve();
    },
    ...o,
  });
  return { lane, sent };
}

// ---------------------------------------------------------------------------------------------
// Pacer

/** A lane whose tasks each wait on a gate the test opens (pushed to `gates` as they start). */
function gatedLane(
  clock: ManualClock,
  gates: ReturnType<typeof deferred>[],
  o: { intervalMs: number; maxInFlight: number; signal: AbortSignal },
): Lane<number> {
  return new Lane<number>({
    name: "t",
    ...o,
    clock,
    exec: () => {
      const d = deferred();
      gates.push(d);
      return d.promise;
    },
  });
}

Deno.test("pacer: callers at the same instant get evenly spaced slots, one each", async () => {
  const clock = new ManualClock(T0);
  const pacer = new Pacer(clock, 100);
  const signal = new AbortController().signal;
  const at: number[] = [];
  const all = [0, 1, 2, 3].map(() => pacer.acquire(signal).then(() => at.push(clock.now() - T0)));
  await flush();
  assert.deepStrictEqual(at, [0], "the first slot is now");
  await advance(clock, 300);
  await Promise.all(all);
  assert.deepStrictEqual(at, [0, 100, 200, 300]);
});

Deno.test("pacer: an idle stretch is not banked; a slot nobody took is not handed out later", async () => {
  const clock = new ManualClock(T0);
  const pacer = new Pacer(clock, 100);
  const signal = new AbortController().signal;
  await pacer.acquire(signal); // slot at 0; the next is 100
  clock.advance(450); // slots 100..400 go by unused
  const at: number[] = [];
  const all = [0, 1, 2].map(() => pacer.acquire(signal).then(() => at.push(clock.now() - T0)));
  await flush();
  // Only one caller goes at once: the four slots missed do not turn into a burst.
  assert.deepStrictEqual(at, [450]);
  await advance(clock, 200);
  await Promise.all(all);
  assert.deepStrictEqual(at, [450, 550, 650]);
});

Deno.test("pacer: a new interval applies from the next slot booked", async () => {
  const clock = new ManualClock(T0);
  const pacer = new Pacer(clock, 100);
  const signal = new AbortController().signal;
  await pacer.acquire(signal); // 0; next at 100 (booked with the old interval)
  pacer.intervalMs = 40;
  const at: number[] = [];
  const all = [0, 1, 2].map(() => pacer.acquire(signal).then(() => at.push(clock.now() - T0)));
  await advance(clock, 200);
  await Promise.all(all);
  assert.deepStrictEqual(at, [100, 140, 180]);
  // Slower again: the slot after the last one booked is 40 later, then 250 each.
  pacer.intervalMs = 250;
  const more: number[] = [];
  const next = [0, 1].map(() => pacer.acquire(signal).then(() => more.push(clock.now() - T0)));
  await advance(clock, 500);
  await Promise.all(next);
  assert.deepStrictEqual(more, [220, 470]);
});

Deno.test("pacer: a caller waiting for its slot is released by an abort with the signal's reason", async () => {
  const clock = new ManualClock(T0);
  const pacer = new Pacer(clock, 1_000);
  const ctrl = new AbortController();
  await pacer.acquire(ctrl.signal);
  const waiting = pacer.acquire(ctrl.signal);
  ctrl.abort(new Error("stopped"));
  await assert.rejects(() => waiting, (e) => e instanceof Error && e.message.includes("stopped"));
  assert.deepStrictEqual(clock.pending, 0, "no sleeper left behind");
});

// ---------------------------------------------------------------------------------------------
// Lane

Deno.test("lane: sends its tasks one interval apart, in order, and run() ends after close()", async () => {
  const clock = new ManualClock(T0);
  const { lane, sent } = recordingLane(clock, { intervalMs: 100 });
  for (const t of ["a", "b", "c", "d"]) lane.push(t);
  assert.deepStrictEqual(lane.queued, 4);
  const done = lane.run();
  await flush();
  assert.deepStrictEqual(sent, [["a", 0]], "the first goes at once");
  await advance(clock, 300);
  assert.deepStrictEqual(sent, [["a", 0], ["b", 100], ["c", 200], ["d", 300]]);
  assert.deepStrictEqual(lane.sent, 4);
  assert.deepStrictEqual(lane.queued, 0);
  lane.close();
  await done;
});

Deno.test("lane: an idle lane sends a new task at once when its interval has passed, else waits", async () => {
  const clock = new ManualClock(T0);
  const { lane, sent } = recordingLane(clock, { intervalMs: 100 });
  const done = lane.run();
  await flush();
  lane.push("a");
  await flush();
  assert.deepStrictEqual(sent, [["a", 0]]);
  await advance(clock, 30);
  lane.push("b"); // 30 ms after a: waits for 100
  await flush();
  assert.deepStrictEqual(sent.length, 1);
  await advance(clock, 70);
  assert.deepStrictEqual(sent, [["a", 0], ["b", 100]]);
  await advance(clock, 500);
  lane.push("c"); // long idle: no wait, and no burst owed
  lane.push("d");
  await flush();
  assert.deepStrictEqual(sent.slice(2), [["c", 600]]);
  await advance(clock, 100);
  assert.deepStrictEqual(sent.slice(2), [["c", 600], ["d", 700]]);
  lane.close();
  await done;
});

Deno.test("lane: keeps at most maxInFlight tasks in flight; a finished one frees a place", async () => {
  const clock = new ManualClock(T0);
  const pending: { task: string; d: ReturnType<typeof deferred> }[] = [];
  let peak = 0;
  const lane = new Lane<string>({
    name: "t",
    intervalMs: 10,
    maxInFlight: 2,
    clock,
    signal: new AbortController().signal,
    exec: (task) => {
      const d = deferred();
      pending.push({ task, d });
      peak = Math.max(peak, lane.inFlight);
      return d.promise;
    },
  });
  for (const t of ["a", "b", "c", "d", "e"]) lane.push(t);
  const done = lane.run();
  await advance(clock, 200);
  assert.deepStrictEqual(pending.map((p) => p.task), ["a", "b"]);
  assert.deepStrictEqual(lane.inFlight, 2);
  assert.deepStrictEqual(lane.queued, 3);
  pending[0].d.resolve();
  await flush();
  // The interval has long passed: c goes as soon as a finished.
  assert.deepStrictEqual(pending.map((p) => p.task), ["a", "b", "c"]);
  assert.deepStrictEqual(lane.inFlight, 2);
  pending[1].d.resolve();
  pending[2].d.resolve();
  await advance(clock, 20);
  assert.deepStrictEqual(pending.map((p) => p.task), ["a", "b", "c", "d", "e"]);
  lane.close();
  for (const p of pending) p.d.resolve();
  await done;
  assert.deepStrictEqual(peak, 2);
  assert.deepStrictEqual(lane.inFlight, 0);
});

Deno.test("lane: two lanes sharing a global pacer never send closer than the global interval", async () => {
  const clock = new ManualClock(T0);
  const global = new Pacer(clock, 100);
  const times: number[] = [];
  const a = recordingLane(clock, { name: "a", intervalMs: 100, global });
  const b = recordingLane(clock, { name: "b", intervalMs: 100, global });
  for (let i = 0; i < 5; i++) {
    a.lane.push(`a${i}`);
    b.lane.push(`b${i}`);
  }
  const done = Promise.all([a.lane.run(), b.lane.run()]);
  a.lane.close();
  b.lane.close();
  await flush();
  await advance(clock, 1_000);
  await done;
  for (const [, t] of [...a.sent, ...b.sent]) times.push(t);
  times.sort((x, y) => x - y);
  // Alone, each lane would send every 100 ms (10 sends by 400 ms); together they take turns.
  assert.deepStrictEqual(times, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  assert.deepStrictEqual([a.lane.sent, b.lane.sent], [5, 5]);
  // Each lane's own sends are still at least its interval apart.
  for (const { sent } of [a, b]) {
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i][1] - sent[i - 1][1] >= 100);
  }
});

Deno.test("lane: a lane slower than the global pacer keeps its own pace", async () => {
  const clock = new ManualClock(T0);
  const global = new Pacer(clock, 10);
  const { lane, sent } = recordingLane(clock, { intervalMs: 200, global });
  for (const t of ["a", "b", "c"]) lane.push(t);
  lane.close();
  const done = lane.run();
  await flush();
  await advance(clock, 400);
  await done;
  assert.deepStrictEqual(sent.map(([, t]) => t), [0, 200, 400]);
});

Deno.test("lane: close() lets queued and in-flight tasks finish before run() resolves", async () => {
  const clock = new ManualClock(T0);
  const gates: ReturnType<typeof deferred>[] = [];
  const lane = gatedLane(clock, gates, {
    intervalMs: 50,
    maxInFlight: 5,
    signal: new AbortController().signal,
  });
  for (let i = 0; i < 3; i++) lane.push(i);
  lane.close();
  let finished = false;
  const done = lane.run().then(() => (finished = true));
  await advance(clock, 200);
  assert.deepStrictEqual(gates.length, 3, "every queued task was still sent after close()");
  assert.deepStrictEqual(finished, false, "run() waits for the tasks in flight");
  gates[0].resolve();
  gates[1].resolve();
  await flush();
  assert.deepStrictEqual(finished, false);
  gates[2].resolve();
  await done;
  assert.deepStrictEqual(finished, true);
});

Deno.test("lane: close() on an empty lane ends run() at once", async () => {
  const clock = new ManualClock(T0);
  const { lane, sent } = recordingLane(clock);
  const done = lane.run();
  await flush();
  lane.close();
  await done;
  assert.deepStrictEqual(sent, []);
  assert.deepStrictEqual(clock.pending, 0);
});

Deno.test("lane: a failing task does not stop the lane", async () => {
  const clock = new ManualClock(T0);
  const ran: string[] = [];
  const lane = new Lane<string>({
    name: "t",
    intervalMs: 10,
    maxInFlight: 1,
    clock,
    signal: new AbortController().signal,
    exec: (task) => {
      ran.push(task);
      return task === "bad" ? Promise.reject(new Error("boom")) : Promise.resolve();
    },
  });
  for (const t of ["a", "bad", "c"]) lane.push(t);
  lane.close();
  const done = lane.run();
  await advance(clock, 50);
  await done;
  assert.deepStrictEqual(ran, ["a", "bad", "c"]);
  assert.deepStrictEqual(lane.inFlight, 0, "the failed task freed its place");
});

Deno.test("lane: an abort stops taking tasks; the ones in flight finish; the rest stay queued", async () => {
  const clock = new ManualClock(T0);
  const ctrl = new AbortController();
  const gates: ReturnType<typeof deferred>[] = [];
  const started: number[] = [];
  const lane = new Lane<number>({
    name: "t",
    intervalMs: 100,
    maxInFlight: 5,
    clock,
    signal: ctrl.signal,
    exec: (n) => {
      started.push(n);
      const d = deferred();
      gates.push(d);
      return d.promise;
    },
  });
  for (let i = 0; i < 6; i++) lane.push(i);
  let finished = false;
  const done = lane.run().then(() => (finished = true));
  await advance(clock, 150); // 0 at 0 ms, 1 at 100 ms; asleep until 200 ms
  assert.deepStrictEqual(started, [0, 1]);
  ctrl.abort();
  await flush();
  assert.deepStrictEqual(clock.pending, 0, "the wait for the next slot was cancelled");
  await advance(clock, 500);
  assert.deepStrictEqual(started, [0, 1], "nothing taken after the abort");
  assert.deepStrictEqual(finished, false, "run() waits for the two in flight");
  for (const g of gates) g.resolve();
  await done;
  assert.deepStrictEqual(lane.sent, 2);
  assert.deepStrictEqual(lane.queued, 4);
  assert.deepStrictEqual(lane.drain(), [2, 3, 4, 5]);
  assert.deepStrictEqual(lane.queued, 0);
});

Deno.test("lane: an abort also releases a lane waiting for a place in flight or for tasks", async () => {
  const clock = new ManualClock(T0);
  // Waiting for a free place: maxInFlight 1 and the first task never ends on its own.
  const full = new AbortController();
  const gate = deferred();
  const started: string[] = [];
  const lane = new Lane<string>({
    name: "t",
    intervalMs: 1,
    maxInFlight: 1,
    clock,
    signal: full.signal,
    exec: (t) => {
      started.push(t);
      return gate.promise;
    },
  });
  lane.push("a");
  lane.push("b");
  let finished = false;
  const done = lane.run().then(() => (finished = true));
  await advance(clock, 20);
  full.abort();
  gate.resolve();
  await done;
  assert.deepStrictEqual(started, ["a"]);
  assert.deepStrictEqual(finished, true);

  // Waiting for tasks: an empty, open lane.
  const idle = new AbortController();
  const { lane: empty } = recordingLane(clock, { signal: idle.signal });
  const idleDone = empty.run();
  await flush();
  idle.abort();
  await idleDone;

  // Already aborted: run() takes nothing.
  const before = AbortSignal.abort();
  const r = recordingLane(clock, { signal: before });
  r.lane.push("x");
  await r.lane.run();
  assert.deepStrictEqual(r.sent, []);
  assert.deepStrictEqual(r.lane.queued, 1);
});

Deno.test("lane: setIntervalMs re-paces the next sends; invalid intervals are ignored", async () => {
  const clock = new ManualClock(T0);
  const { lane, sent } = recordingLane(clock, { intervalMs: 100 });
  const done = lane.run();
  lane.push("a");
  await flush();
  assert.deepStrictEqual(sent, [["a", 0]]);
  lane.setIntervalMs(300);
  assert.deepStrictEqual(lane.intervalMs, 300);
  for (const bad of [0, -5, NaN, Infinity]) lane.setIntervalMs(bad);
  assert.deepStrictEqual(lane.intervalMs, 300);
  lane.push("b");
  lane.push("c");
  await advance(clock, 290);
  assert.deepStrictEqual(sent.length, 1, "not at the old 100 ms");
  await advance(clock, 10);
  assert.deepStrictEqual(sent.at(-1), ["b", 300]);
  lane.setIntervalMs(50); // while asleep until 600: applies from the send after that one
  lane.push("d");
  await advance(clock, 350);
  assert.deepStrictEqual(sent.map(([, t]) => t), [0, 300, 600, 650]);
  lane.close();
  await done;
});

Deno.test("lane: setMaxInFlight raises or lowers the bound at once; invalid values are ignored", async () => {
  const clock = new ManualClock(T0);
  const gates: ReturnType<typeof deferred>[] = [];
  const lane = gatedLane(clock, gates, {
    intervalMs: 10,
    maxInFlight: 1,
    signal: new AbortController().signal,
  });
  for (let i = 0; i < 8; i++) lane.push(i);
  const done = lane.run();
  await advance(clock, 100);
  assert.deepStrictEqual(lane.inFlight, 1);
  for (const bad of [0, -1, NaN, Infinity]) lane.setMaxInFlight(bad);
  await advance(clock, 50);
  assert.deepStrictEqual(lane.inFlight, 1, "invalid values leave the bound at 1");
  // Raised: the lane, waiting for a free place, goes on without any task finishing.
  lane.setMaxInFlight(3);
  await advance(clock, 50);
  assert.deepStrictEqual(lane.inFlight, 3);
  assert.deepStrictEqual(gates.length, 3);
  // Lowered to 1: two must finish before the next is taken.
  lane.setMaxInFlight(1);
  gates[0].resolve();
  await advance(clock, 50);
  assert.deepStrictEqual(gates.length, 3);
  gates[1].resolve();
  await advance(clock, 50);
  assert.deepStrictEqual(gates.length, 3, "still one in flight: the bound is 1");
  gates[2].resolve();
  await advance(clock, 50);
  assert.deepStrictEqual(gates.length, 4);
  assert.deepStrictEqual(lane.inFlight, 1);
  lane.close();
  // Let the rest through.
  lane.setMaxInFlight(100);
  for (let i = 0; i < 10 && gates.length < 8; i++) await advance(clock, 20);
  for (const g of gates) g.resolve();
  await done;
  assert.deepStrictEqual(lane.sent, 8);
});

Deno.test("lane: drain() during a wait empties the queue; the lane sends nothing more and closes", async () => {
  const clock = new ManualClock(T0);
  const ctrl = new AbortController();
  const started: number[] = [];
  const lane = new Lane<number>({
    name: "t",
    intervalMs: 100,
    maxInFlight: 5,
    clock,
    signal: ctrl.signal,
    exec: (n) => {
      started.push(n);
      return Promise.resolve();
    },
  });
  for (let i = 0; i < 4; i++) lane.push(i);
  const done = lane.run();
  await advance(clock, 50); // 0 sent; asleep until 100 ms
  assert.deepStrictEqual(started, [0]);
  assert.deepStrictEqual(lane.drain(), [1, 2, 3]);
  await advance(clock, 500);
  assert.deepStrictEqual(started, [0], "nothing taken from an empty queue");
  assert.deepStrictEqual(lane.queued, 0);
  lane.close();
  await advance(clock, 10);
  await done;
});
