import { ManualClock, sleep, systemClock } from "../lib/clock.ts";
import { assert, assertEquals, assertRejects, assertStrictEquals } from "./_assert.ts";

/** Lets every pending promise callback run (a macrotask turn). */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("sleep resolves after roughly the given time", async () => {
  const start = performance.now();
  await sleep(20);
  const elapsed = performance.now() - start;
  assert(elapsed >= 15, `slept only ${elapsed} ms`);
});

Deno.test("sleep of zero or less resolves at once", async () => {
  let done = 0;
  const a = sleep(0).then(() => done++);
  const b = sleep(-5).then(() => done++);
  await Promise.all([a, b]);
  assertEquals(done, 2);
});

Deno.test("sleep rejects at once with the reason of an already aborted signal", async () => {
  const reason = new Error("stop now");
  const ctrl = new AbortController();
  ctrl.abort(reason);
  const err = await assertRejects(() => sleep(60_000, ctrl.signal), Error, "stop now");
  assertStrictEquals(err, reason);
});

Deno.test("sleep rejects with the signal's reason when aborted midway, and clears its timer", async () => {
  // The test's op sanitizer fails this test if the 60 s timer were left running.
  const ctrl = new AbortController();
  const start = performance.now();
  const pending = sleep(60_000, ctrl.signal);
  setTimeout(() => ctrl.abort(new DOMException("cancelled", "AbortError")), 5);
  const err = await assertRejects(() => pending, DOMException, "cancelled");
  assertEquals(err.name, "AbortError");
  assert(performance.now() - start < 1_000, "abort did not cut the sleep short");
});

Deno.test("sleep that finished ignores a later abort", async () => {
  const ctrl = new AbortController();
  await sleep(1, ctrl.signal);
  ctrl.abort(); // no listener left behind to reject anything
  await flush();
});

Deno.test("systemClock reads the real time", () => {
  const before = Date.now();
  const now = systemClock.now();
  assert(now >= before && now <= Date.now());
  assertStrictEquals(systemClock.sleep, sleep);
});

Deno.test("ManualClock starts at 2026-01-01 UTC or the given time and only moves by hand", async () => {
  assertEquals(new ManualClock().now(), Date.UTC(2026, 0, 1));
  const clock = new ManualClock(1_000);
  assertEquals(clock.now(), 1_000);
  await flush();
  assertEquals(clock.now(), 1_000);
  clock.advance(250);
  assertEquals(clock.now(), 1_250);
  clock.set(5_000);
  assertEquals(clock.now(), 5_000);
});

Deno.test("ManualClock sleep resolves only once time reaches its end", async () => {
  const clock = new ManualClock(0);
  let woke = false;
  const p = clock.sleep(100).then(() => woke = true);
  assertEquals(clock.pending, 1);
  clock.advance(99);
  await flush();
  assertEquals(woke, false);
  clock.advance(1);
  await p;
  assertEquals(woke, true);
  assertEquals(clock.pending, 0);
});

Deno.test("ManualClock wakes sleepers in wake-time order, ties in the order they slept", async () => {
  const clock = new ManualClock(0);
  const order: string[] = [];
  const all = [
    clock.sleep(300).then(() => order.push("300")),
    clock.sleep(100).then(() => order.push("100a")),
    clock.sleep(200).then(() => order.push("200")),
    clock.sleep(100).then(() => order.push("100b")),
    clock.sleep(1_000).then(() => order.push("1000")),
  ];
  clock.advance(500);
  await flush();
  assertEquals(order, ["100a", "100b", "200", "300"]);
  clock.advance(500);
  await Promise.all(all);
  assertEquals(order, ["100a", "100b", "200", "300", "1000"]);
});

Deno.test("ManualClock sleeps measure from when they started", async () => {
  const clock = new ManualClock(0);
  clock.advance(1_000);
  let woke = false;
  const p = clock.sleep(50).then(() => woke = true);
  clock.advance(49);
  await flush();
  assertEquals(woke, false);
  clock.set(1_050);
  await p;
  assertEquals(woke, true);
});

Deno.test("ManualClock sleep of zero resolves without advancing", async () => {
  const clock = new ManualClock(0);
  await clock.sleep(0);
  await clock.sleep(-1);
  assertEquals(clock.pending, 0);
});

Deno.test("ManualClock sleep rejects when aborted, and the aborted sleeper is forgotten", async () => {
  const clock = new ManualClock(0);
  const pre = new AbortController();
  pre.abort(new Error("already"));
  await assertRejects(() => clock.sleep(10, pre.signal), Error, "already");
  assertEquals(clock.pending, 0);

  const ctrl = new AbortController();
  const p = clock.sleep(100, ctrl.signal);
  let other = false;
  const q = clock.sleep(100).then(() => other = true);
  assertEquals(clock.pending, 2);
  ctrl.abort(new Error("gone"));
  await assertRejects(() => p, Error, "gone");
  assertEquals(clock.pending, 1);
  clock.advance(100);
  await q;
  assertEquals(other, true);
});

Deno.test("ManualClock sleep that woke ignores a later abort", async () => {
  const clock = new ManualClock(0);
  const ctrl = new AbortController();
  const p = clock.sleep(10, ctrl.signal);
  clock.advance(10);
  await p;
  ctrl.abort(new Error("late"));
  await flush();
  assertEquals(clock.pending, 0);
});

Deno.test("after: fires once its time has come unless cancelled first", async () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.after(10, () => fired.push("a"));
  const cancelB = clock.after(10, () => fired.push("b"));
  assertEquals(clock.pending, 2);
  cancelB();
  assertEquals(clock.pending, 1);
  clock.advance(9);
  assertEquals(fired, []);
  clock.advance(1);
  assertEquals(fired, ["a"]);
  assertEquals(clock.pending, 0);
  const real: string[] = [];
  const cancel = systemClock.after(1, () => real.push("cancelled"));
  cancel();
  systemClock.after(1, () => real.push("fired"));
  await new Promise((r) => setTimeout(r, 20));
  assertEquals(real, ["fired"]);
});
