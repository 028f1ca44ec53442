import { sleep, systemClock } from "../lib/clock.ts";
import { ManualClock } from "./_clock.ts";
import assert from "node:assert/strict";

/** Lets every pending promise callback run (a macrotask turn). */
const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("sleep resolves after roughly the given time", async () => {
  const start = performance.now();
  await sleep(20);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 15, `slept only ${elapsed} ms`);
});

Deno.test("sleep of zero or less resolves at once", async () => {
  let done = 0;
  const a = sleep(0).then(() => done++);
  const b = sleep(-5).then(() => done++);
  await Promise.all([a, b]);
  assert.deepStrictEqual(done, 2);
});

Deno.test("sleep rejects at once with the reason of an already aborted signal", async () => {
  const reason = new Error("stop now");
  const ctrl = new AbortController();
  ctrl.abort(reason);
  await assert.rejects(() => sleep(60_000, ctrl.signal), (err) => {
    assert.ok(err instanceof Error && err.message.includes("stop now"));
    assert.strictEqual(err, reason);
    return true;
  });
});

Deno.test("sleep rejects with the signal's reason when aborted midway, and clears its timer", async () => {
  // The test's op sanitizer fails this test if the 60 s timer were left running.
  const ctrl = new AbortController();
  const start = performance.now();
  const pending = sleep(60_000, ctrl.signal);
  setTimeout(() => ctrl.abort(new DOMException("cancelled", "AbortError")), 5);
  await assert.rejects(() => pending, (err) => {
    assert.ok(err instanceof DOMException && err.message.includes("cancelled"));
    assert.strictEqual(err.name, "AbortError");
    return true;
  });
  assert.ok(performance.now() - start < 1_000, "abort did not cut the sleep short");
});

/**
 * An abort signal whose abort listeners are counted, to check that a sleep removes the listener it
 * added once it is done (a leftover listener would run on a later abort).
 */
function countedSignal() {
  const ctrl = new AbortController();
  const live = new Set<EventListenerOrEventListenerObject>();
  let added = 0;
  const signal = ctrl.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  type Listener = EventListenerOrEventListenerObject;
  signal.addEventListener =
    ((type: string, fn: Listener, o?: boolean | AddEventListenerOptions) => {
      if (type === "abort") {
        added++;
        live.add(fn);
      }
      add(type, fn, o);
    }) as typeof signal.addEventListener;
  signal.removeEventListener =
    ((type: string, fn: Listener, o?: boolean | EventListenerOptions) => {
      if (type === "abort") live.delete(fn);
      remove(type, fn, o);
    }) as typeof signal.removeEventListener;
  return {
    ctrl,
    signal,
    get added() {
      return added;
    },
    get live() {
      return live.size;
    },
  };
}

Deno.test("sleep that finished removes its abort listener and ignores a later abort", async () => {
  const s = countedSignal();
  const outcome = await sleep(1, s.signal).then(() => "resolved", () => "rejected");
  assert.deepStrictEqual(outcome, "resolved");
  assert.deepStrictEqual(s.added, 1, "the sleep listened for an abort while it slept");
  assert.deepStrictEqual(s.live, 0, "the listener is gone once the sleep is over");
  s.ctrl.abort(new Error("late"));
  await flush();
  assert.deepStrictEqual(s.signal.aborted, true);
});

Deno.test("systemClock reads the real time", () => {
  const before = Date.now();
  const now = systemClock.now();
  assert.ok(now >= before && now <= Date.now());
  assert.strictEqual(systemClock.sleep, sleep);
});

Deno.test("ManualClock starts at 2026-01-01 UTC or the given time and only moves by hand", async () => {
  assert.deepStrictEqual(new ManualClock().now(), Date.UTC(2026, 0, 1));
  const clock = new ManualClock(1_000);
  assert.deepStrictEqual(clock.now(), 1_000);
  await flush();
  assert.deepStrictEqual(clock.now(), 1_000);
  clock.advance(250);
  assert.deepStrictEqual(clock.now(), 1_250);
  clock.set(5_000);
  assert.deepStrictEqual(clock.now(), 5_000);
});

Deno.test("ManualClock sleep resolves only once time reaches its end", async () => {
  const clock = new ManualClock(0);
  let woke = false;
  const p = clock.sleep(100).then(() => woke = true);
  assert.deepStrictEqual(clock.pending, 1);
  clock.advance(99);
  await flush();
  assert.deepStrictEqual(woke, false);
  clock.advance(1);
  await p;
  assert.deepStrictEqual(woke, true);
  assert.deepStrictEqual(clock.pending, 0);
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
  assert.deepStrictEqual(order, ["100a", "100b", "200", "300"]);
  clock.advance(500);
  await Promise.all(all);
  assert.deepStrictEqual(order, ["100a", "100b", "200", "300", "1000"]);
});

Deno.test("ManualClock sleeps measure from when they started", async () => {
  const clock = new ManualClock(0);
  clock.advance(1_000);
  let woke = false;
  const p = clock.sleep(50).then(() => woke = true);
  clock.advance(49);
  await flush();
  assert.deepStrictEqual(woke, false);
  clock.set(1_050);
  await p;
  assert.deepStrictEqual(woke, true);
});

Deno.test("ManualClock sleep of zero resolves without advancing", async () => {
  const clock = new ManualClock(0);
  await clock.sleep(0);
  await clock.sleep(-1);
  assert.deepStrictEqual(clock.pending, 0);
});

Deno.test("ManualClock sleep rejects when aborted, and the aborted sleeper is forgotten", async () => {
  const clock = new ManualClock(0);
  const pre = new AbortController();
  pre.abort(new Error("already"));
  await assert.rejects(
    () => clock.sleep(10, pre.signal),
    (e) => e instanceof Error && e.message.includes("already"),
  );
  assert.deepStrictEqual(clock.pending, 0);

  const ctrl = new AbortController();
  const p = clock.sleep(100, ctrl.signal);
  let other = false;
  const q = clock.sleep(100).then(() => other = true);
  assert.deepStrictEqual(clock.pending, 2);
  ctrl.abort(new Error("gone"));
  await assert.rejects(() => p, (e) => e instanceof Error && e.message.includes("gone"));
  assert.deepStrictEqual(clock.pending, 1);
  clock.advance(100);
  await q;
  assert.deepStrictEqual(other, true);
});

Deno.test("ManualClock sleep that woke removes its abort listener and ignores a later abort", async () => {
  const clock = new ManualClock(0);
  const s = countedSignal();
  const p = clock.sleep(10, s.signal).then(() => "resolved", () => "rejected");
  assert.deepStrictEqual(s.live, 1);
  clock.advance(10);
  assert.deepStrictEqual(await p, "resolved");
  assert.deepStrictEqual(s.live, 0, "the listener is gone once the sleeper woke");
  // A later sleeper on another signal is not disturbed by the old signal's abort.
  let woke = false;
  const q = clock.sleep(5).then(() => woke = true);
  s.ctrl.abort(new Error("late"));
  await flush();
  assert.deepStrictEqual(clock.pending, 1);
  clock.advance(5);
  await q;
  assert.deepStrictEqual(woke, true);
});

Deno.test("ManualClock sleep rejected by an abort removes its listener and skips the wake-up", async () => {
  const clock = new ManualClock(0);
  const s = countedSignal();
  let woke = false;
  const p = clock.sleep(10, s.signal).then(() => woke = true);
  s.ctrl.abort(new Error("cancel"));
  await assert.rejects(() => p, (e) => e instanceof Error && e.message.includes("cancel"));
  clock.advance(10);
  await flush();
  assert.deepStrictEqual(woke, false);
  assert.deepStrictEqual(clock.pending, 0);
});

Deno.test("after: fires once its time has come unless cancelled first", async () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.after(10, () => fired.push("a"));
  const cancelB = clock.after(10, () => fired.push("b"));
  assert.deepStrictEqual(clock.pending, 2);
  cancelB();
  assert.deepStrictEqual(clock.pending, 1);
  clock.advance(9);
  assert.deepStrictEqual(fired, []);
  clock.advance(1);
  assert.deepStrictEqual(fired, ["a"]);
  assert.deepStrictEqual(clock.pending, 0);
  const real: string[] = [];
  const cancel = systemClock.after(1, () => real.push("cancelled"));
  cancel();
  systemClock.after(1, () => real.push("fired"));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepStrictEqual(real, ["fired"]);
});

Deno.test("after: callbacks run in wake-time order, ties in the order they were set", () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.after(20, () => fired.push("20"));
  clock.after(10, () => fired.push("10a"));
  clock.after(-5, () => fired.push("now")); // a negative delay is due at once
  clock.after(10, () => fired.push("10b"));
  clock.advance(0);
  assert.deepStrictEqual(fired, ["now"]);
  clock.advance(25);
  assert.deepStrictEqual(fired, ["now", "10a", "10b", "20"]);
  assert.deepStrictEqual(clock.pending, 0);
});

Deno.test("after and sleep share one timeline: set() wakes what falls due, and only that", async () => {
  const clock = new ManualClock(1_000);
  const order: string[] = [];
  const slept = clock.sleep(100).then(() => order.push("sleep 100"));
  clock.after(50, () => order.push("after 50"));
  clock.after(200, () => order.push("after 200"));
  clock.set(1_150);
  await slept;
  assert.deepStrictEqual(order, ["after 50", "sleep 100"]);
  assert.deepStrictEqual(clock.pending, 1);
  assert.deepStrictEqual(clock.now(), 1_150);
});
