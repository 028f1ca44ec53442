/**
 * The in-memory global limit (lib/discord/global_limiter.ts): evenly spaced slots, never more
 * than `perSecond` in any second, a pause that holds every caller, a deadline that takes nothing,
 * and cancellation. A manual clock makes every wait exact.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { GlobalLimiter } from "../../lib/discord/global_limiter.ts";
import { caught, drive, tick } from "./_fake_discord.ts";

Deno.test("global limiter: evenly spaced, never more than the limit in any second", async () => {
  const clock = new ManualClock();
  const limiter = new GlobalLimiter(clock, { perSecond: 10, slackMs: 20 });
  const times: number[] = [];
  const all = Promise.all(
    Array.from({ length: 45 }, () => limiter.acquire().then(() => times.push(clock.now()))),
  );
  await drive(clock, all, { stepMs: 1 });
  assert.deepStrictEqual(times.length, 45);
  for (let i = 0; i < times.length; i++) {
    const inWindow = times.filter((t) => t >= times[i] && t < times[i] + 1000).length;
    assert.ok(inWindow <= 10, `${inWindow} acquisitions within one second`);
  }
  // Smooth: no burst, consecutive acquisitions at least an interval minus the tolerance apart.
  for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 102 - 10 - 1);
});

Deno.test("global limiter: a pause holds every caller until it ends", async () => {
  const clock = new ManualClock();
  const start = clock.now();
  const limiter = new GlobalLimiter(clock, { perSecond: 50 });
  limiter.pause(start + 3_000);
  assert.deepStrictEqual(limiter.pausedUntil, start + 3_000);
  let at = 0;
  await drive(clock, limiter.acquire().then(() => (at = clock.now())));
  assert.ok(at >= start + 3_000);
  assert.deepStrictEqual(limiter.pausedUntil, 0);
});

Deno.test("global limiter: the interval spreads one second plus the slack; bad options are clamped", () => {
  const clock = new ManualClock();
  assert.equal(new GlobalLimiter(clock, { perSecond: 50 }).intervalMs, 1020 / 50);
  assert.equal(new GlobalLimiter(clock, { perSecond: 4, slackMs: 0 }).intervalMs, 250);
  // A negative slack counts as none; a limit below one as one per second.
  assert.equal(new GlobalLimiter(clock, { perSecond: 4, slackMs: -100 }).intervalMs, 250);
  const one = new GlobalLimiter(clock, { perSecond: 0 });
  assert.deepStrictEqual([one.perSecond, one.intervalMs], [1, 1020]);
  assert.equal(new GlobalLimiter(clock, { perSecond: -5 }).perSecond, 1);
});

Deno.test("global limiter: the first slot is immediate, the next one an interval later", async () => {
  const clock = new ManualClock();
  const t0 = clock.now();
  const limiter = new GlobalLimiter(clock, { perSecond: 10, slackMs: 0 });
  assert.equal(await limiter.acquire(), true);
  assert.equal(clock.now(), t0, "no wait for the first");
  let second: number | null = null;
  const p = limiter.acquire().then(() => (second = clock.now()));
  await tick();
  assert.equal(second, null, "the second waits");
  clock.advance(99);
  await tick();
  assert.equal(second, null, "still within the interval");
  clock.advance(1);
  await p;
  assert.equal(second, t0 + 100);
});

Deno.test("global limiter: a slot past the deadline resolves false and takes nothing", async () => {
  const clock = new ManualClock();
  const t0 = clock.now();
  const limiter = new GlobalLimiter(clock, { perSecond: 10, slackMs: 0 });
  assert.equal(await limiter.acquire(undefined, 1, t0), true);
  // The next slot is at t0 + 100: a deadline before it gets false at once, without waiting.
  assert.equal(await limiter.acquire(undefined, 1, t0 + 50), false);
  assert.equal(await limiter.acquire(undefined, 1, t0 + 99), false);
  assert.equal(clock.pending, 0, "nobody is sleeping");
  // Refusals took no slot: a caller that can wait still gets t0 + 100, not later.
  let at = 0;
  await drive(clock, limiter.acquire(undefined, 1, t0 + 100).then((ok) => (at = ok ? 1 : -1)), {
    stepMs: 1,
  });
  assert.equal(at, 1);
  assert.equal(clock.now(), t0 + 100);
});

Deno.test("global limiter: a pause extends but never shortens, and ends on its own", () => {
  const clock = new ManualClock();
  const t0 = clock.now();
  const limiter = new GlobalLimiter(clock, { perSecond: 50 });
  assert.equal(limiter.pausedUntil, 0);
  limiter.pause(t0 + 5_000);
  limiter.pause(t0 + 2_000);
  assert.equal(limiter.pausedUntil, t0 + 5_000);
  limiter.pause(t0 + 8_000);
  assert.equal(limiter.pausedUntil, t0 + 8_000);
  clock.advance(7_999);
  assert.equal(limiter.pausedUntil, t0 + 8_000);
  clock.advance(1);
  assert.equal(limiter.pausedUntil, 0);
  // A pause in the past changes nothing.
  limiter.pause(t0);
  assert.equal(limiter.pausedUntil, 0);
});

Deno.test("global limiter: a pause that starts while a caller waits for its slot wins", async () => {
  const clock = new ManualClock();
  const t0 = clock.now();
  const limiter = new GlobalLimiter(clock, { perSecond: 10, slackMs: 0 });
  await limiter.acquire();
  let at = 0;
  const p = limiter.acquire().then(() => (at = clock.now()));
  await tick();
  clock.advance(50);
  limiter.pause(t0 + 1_000); // a global 429 while the second caller holds the t0 + 100 slot
  await drive(clock, p, { stepMs: 10 });
  assert.ok(at >= t0 + 1_000, `went at ${at - t0} ms, inside the pause`);
});

Deno.test("global limiter: an aborted caller rejects with the signal's reason", async () => {
  const clock = new ManualClock();
  const limiter = new GlobalLimiter(clock, { perSecond: 1, slackMs: 0 });
  await limiter.acquire();
  const ctl = new AbortController();
  const waiting = caught(limiter.acquire(ctl.signal));
  await tick();
  const reason = new Error("stop");
  ctl.abort(reason);
  assert.equal(await waiting, reason);
  // A caller whose signal is already aborted rejects as soon as it would have to wait.
  limiter.pause(clock.now() + 10_000);
  assert.equal(await caught(limiter.acquire(AbortSignal.abort(reason))), reason);
});
