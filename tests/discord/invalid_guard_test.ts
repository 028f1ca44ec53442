/**
 * The invalid-request guard (lib/discord/invalid_guard.ts): counting 401/403/429 answers in a
 * sliding window of seconds, tripping at the limit (one warning, one `onTrip`), the pause lifting
 * as old seconds slide out or growing while late answers arrive, and pauses adopted from another
 * isolate.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { InvalidRequestGuard } from "../../lib/discord/invalid_guard.ts";

Deno.test("invalid-request guard: trips at the limit, logs once, lifts as the window slides", () => {
  const clock = new ManualClock();
  const log = memoryLogger();
  const guard = new InvalidRequestGuard(clock, { limit: 5, windowMs: 60_000, log });
  const t0 = clock.now();
  guard.record();
  guard.record();
  clock.advance(10_000);
  guard.record();
  guard.record();
  assert.deepStrictEqual(guard.pausedUntil(), 0);
  assert.ok(guard.record(), "the fifth invalid response trips the guard");
  assert.deepStrictEqual(guard.used(), 5);
  const until = guard.pausedUntil();
  // The two oldest (t0) must leave the window for the count to fall below 5.
  assert.deepStrictEqual(until, Math.floor(t0 / 1000) * 1000 + 60_000 + 1000);
  guard.record(); // late answers while paused: no second log line
  const warns = log.lines.filter((l) => l.level === "warn");
  assert.deepStrictEqual(warns.length, 1);
  assert.ok(String(warns[0].msg).includes("5 invalid responses"));
  assert.ok(String(warns[0].msg).includes(new Date(until).toISOString()));
  clock.set(until);
  // The two from t0 left; the three from t0+10s and the late one remain: 4 < 5.
  assert.deepStrictEqual(guard.used(), 4);
  assert.deepStrictEqual(guard.pausedUntil(), 0);
  clock.advance(60_000);
  assert.deepStrictEqual(guard.used(), 0);
});

Deno.test("invalid-request guard: counts per second over a long window efficiently", () => {
  const clock = new ManualClock();
  const guard = new InvalidRequestGuard(clock, { limit: 100_000 });
  for (let s = 0; s < 1200; s++) {
    for (let i = 0; i < 10; i++) guard.record();
    clock.advance(1000);
  }
  // Only the last 600 seconds count.
  assert.deepStrictEqual(guard.used(), 6000);
});

Deno.test("invalid-request guard: defaults to ten minutes; a limit below one is one", () => {
  const clock = new ManualClock();
  const guard = new InvalidRequestGuard(clock, { limit: 0 });
  assert.deepStrictEqual([guard.limit, guard.windowMs], [1, 600_000]);
  assert.equal(guard.record(), true, "the first invalid answer reaches a limit of one");
  assert.ok(guard.pausedUntil() > clock.now());
});

Deno.test("invalid-request guard: record() is true only for the call that trips it", () => {
  const clock = new ManualClock();
  const trips: [number, number][] = [];
  const guard = new InvalidRequestGuard(clock, {
    limit: 3,
    windowMs: 10_000,
    onTrip: (count, until) => trips.push([count, until]),
  });
  assert.deepStrictEqual([guard.record(), guard.record()], [false, false]);
  assert.equal(guard.record(), true);
  // More invalid answers while paused: counted, but neither a trip nor an onTrip call.
  assert.equal(guard.record(), false);
  assert.equal(guard.record(), false);
  assert.equal(guard.used(), 5);
  assert.deepStrictEqual(trips, [[3, guard.pausedUntil()]]);
});

Deno.test("invalid-request guard: an entry leaves the window once its whole second is older", () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 400)); // 400 ms into a second
  const guard = new InvalidRequestGuard(clock, { limit: 100, windowMs: 5_000 });
  guard.record();
  // The entry covers [t, t + 1000) of its second: it stays until that second is 5 s old.
  clock.advance(5_599);
  assert.equal(guard.used(), 1);
  clock.advance(1);
  assert.equal(guard.used(), 0);
});

Deno.test("invalid-request guard: answers arriving during the pause extend it, with no second warning", () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const t0 = clock.now();
  const log = memoryLogger();
  const trips: number[] = [];
  const guard = new InvalidRequestGuard(clock, {
    limit: 3,
    windowMs: 10_000,
    log,
    onTrip: (_count, until) => trips.push(until),
  });
  guard.record();
  guard.record();
  guard.record(); // trips: the t0 second must slide out, at t0 + 11 s
  const first = guard.pausedUntil();
  assert.equal(first, t0 + 11_000);
  clock.advance(9_000);
  // Answers to requests already in flight keep arriving during the pause.
  guard.record();
  assert.equal(guard.pausedUntil(), first, "one more: the t0 second leaving is still enough");
  guard.record();
  guard.record();
  // Three from t0 + 9 s reach the limit on their own: the pause runs until they slide out too.
  const extended = guard.pausedUntil();
  assert.equal(extended, t0 + 9_000 + 11_000);
  clock.set(first);
  assert.equal(guard.pausedUntil(), extended);
  assert.equal(guard.used(), 3);
  assert.deepStrictEqual(trips, [first]);
  assert.equal(log.lines.filter((l) => l.level === "warn").length, 1);
  clock.set(extended);
  assert.equal(guard.pausedUntil(), 0);
  assert.equal(guard.used(), 0);
});

Deno.test("invalid-request guard: a pause adopted from elsewhere holds without a log line", () => {
  const clock = new ManualClock();
  const log = memoryLogger();
  const trips: number[] = [];
  const guard = new InvalidRequestGuard(clock, {
    limit: 10,
    log,
    onTrip: (_c, until) => trips.push(until),
  });
  const until = clock.now() + 30_000;
  guard.adoptPause(until);
  guard.adoptPause(until - 10_000); // never shortened
  assert.equal(guard.pausedUntil(), until);
  assert.equal(guard.used(), 0, "adopting counts nothing here");
  assert.equal(log.lines.length, 0);
  assert.deepStrictEqual(trips, []);
  clock.set(until);
  assert.equal(guard.pausedUntil(), 0);
  // Its own trip while an adopted pause runs still logs and reports: it decided this one.
  const adopted = clock.now() + 3_600_000;
  guard.adoptPause(adopted);
  for (let i = 0; i < 10; i++) guard.record();
  assert.deepStrictEqual(trips, [Math.floor(clock.now() / 1000) * 1000 + 601_000]);
  assert.equal(log.lines.filter((l) => l.level === "warn").length, 1);
  assert.equal(guard.pausedUntil(), adopted, "the longer of the two pauses");
  clock.set(trips[0]);
  assert.equal(guard.pausedUntil(), adopted, "the adopted pause outlives its own");
});
