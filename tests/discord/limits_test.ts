import { assert, assertEquals } from "../_assert.ts";
import { ManualClock } from "../../lib/clock.ts";
import { memoryLogger } from "../../lib/log/log.ts";
import { GlobalLimiter } from "../../lib/discord/global_limiter.ts";
import { InvalidRequestGuard } from "../../lib/discord/invalid_guard.ts";
import { drive } from "./_fake_discord.ts";

Deno.test("global limiter: evenly spaced, never more than the limit in any second", async () => {
  const clock = new ManualClock();
  const limiter = new GlobalLimiter(clock, { perSecond: 10, slackMs: 20 });
  const times: number[] = [];
  const all = Promise.all(
    Array.from({ length: 45 }, () => limiter.acquire().then(() => times.push(clock.now()))),
  );
  await drive(clock, all, { stepMs: 1 });
  assertEquals(times.length, 45);
  for (let i = 0; i < times.length; i++) {
    const inWindow = times.filter((t) => t >= times[i] && t < times[i] + 1000).length;
    assert(inWindow <= 10, `${inWindow} acquisitions within one second`);
  }
  // Smooth: no burst, consecutive acquisitions at least an interval minus the tolerance apart.
  for (let i = 1; i < times.length; i++) assert(times[i] - times[i - 1] >= 102 - 10 - 1);
});

Deno.test("global limiter: a pause holds every caller until it ends", async () => {
  const clock = new ManualClock();
  const start = clock.now();
  const limiter = new GlobalLimiter(clock, { perSecond: 50 });
  limiter.pause(start + 3_000);
  assertEquals(limiter.pausedUntil, start + 3_000);
  let at = 0;
  await drive(clock, limiter.acquire().then(() => (at = clock.now())));
  assert(at >= start + 3_000);
  assertEquals(limiter.pausedUntil, 0);
});

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
  assertEquals(guard.pausedUntil(), 0);
  assert(guard.record(), "the fifth invalid response trips the guard");
  assertEquals(guard.used(), 5);
  const until = guard.pausedUntil();
  // The two oldest (t0) must leave the window for the count to fall below 5.
  assertEquals(until, Math.floor(t0 / 1000) * 1000 + 60_000 + 1000);
  guard.record(); // late answers while paused: no second log line
  const warns = log.lines.filter((l) => l.level === "warn");
  assertEquals(warns.length, 1);
  assert(String(warns[0].msg).includes("5 invalid responses"));
  assert(String(warns[0].msg).includes(new Date(until).toISOString()));
  clock.set(until);
  // The two from t0 left; the three from t0+10s and the late one remain: 4 < 5.
  assertEquals(guard.used(), 4);
  assertEquals(guard.pausedUntil(), 0);
  clock.advance(60_000);
  assertEquals(guard.used(), 0);
});

Deno.test("invalid-request guard: counts per second over a long window efficiently", () => {
  const clock = new ManualClock();
  const guard = new InvalidRequestGuard(clock, { limit: 100_000 });
  for (let s = 0; s < 1200; s++) {
    for (let i = 0; i < 10; i++) guard.record();
    clock.advance(1000);
  }
  // Only the last 600 seconds count.
  assertEquals(guard.used(), 6000);
});
