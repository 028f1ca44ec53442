/** The bucket loop's interruptible sleep (lib/discord/waker.ts). */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { Waker } from "../../lib/discord/waker.ts";
import { tick } from "./_fake_discord.ts";

/** Whether `p` has settled after the queued continuations ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true));
  await tick();
  return done;
}

Deno.test("waker: a wait ends when its time comes, and leaves no timer behind", async () => {
  const clock = new ManualClock();
  const waker = new Waker(clock);
  const wait = waker.wait(100);
  clock.advance(99);
  assert.equal(await settled(wait), false);
  clock.advance(1);
  assert.equal(await settled(wait), true);
  assert.equal(clock.pending, 0);
});

Deno.test("waker: a wake cuts a wait short and cancels its timer", async () => {
  const clock = new ManualClock();
  const waker = new Waker(clock);
  const wait = waker.wait(10_000);
  await tick();
  waker.wake();
  assert.equal(await settled(wait), true);
  assert.equal(clock.pending, 0);
  // An endless wait ends only on a wake.
  const endless = waker.wait(Infinity);
  clock.advance(3_600_000);
  assert.equal(await settled(endless), false);
  waker.wake();
  assert.equal(await settled(endless), true);
});

Deno.test("waker: a wake with nobody waiting is kept for the next wait, once", async () => {
  const clock = new ManualClock();
  const waker = new Waker(clock);
  waker.wake();
  waker.wake();
  assert.equal(await settled(waker.wait(10_000)), true, "the pending wake ends it at once");
  const next = waker.wait(10_000);
  assert.equal(await settled(next), false, "two wakes before are still one");
  waker.wake();
  await next;
});

Deno.test("waker: a wait of zero or less returns at once and keeps a pending wake", async () => {
  const clock = new ManualClock();
  const waker = new Waker(clock);
  assert.equal(await settled(waker.wait(0)), true);
  assert.equal(await settled(waker.wait(-5)), true);
  waker.wake();
  // The pending wake is used by the next wait, whatever its length.
  assert.equal(await settled(waker.wait(0)), true);
  assert.equal(await settled(waker.wait(50)), false);
});
