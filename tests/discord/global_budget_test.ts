/**
 * The KV-shared global limit: several clients (isolates) on one KV send on one timeline. Real
 * clock and real KV; the assertions are invariants that hold however late the timers fire (a
 * late slot is dropped, never sent), plus "no stall" bounds far above any slot wait.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log/log.ts";
import { memoryLogger } from "../_log.ts";
import { SharedGlobalLimiter } from "../../lib/discord/global_budget.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { startEmulator, uniformLimits } from "../emulator/server.ts";

/** The most sends inside any window of `windowMs` (sliding). */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

function limiter(kv: Deno.Kv, perSecond: number, id?: string) {
  return new SharedGlobalLimiter(kv, systemClock, { perSecond, log: silentLogger, id });
}

/**
 * `n` sends through `l`, `lanes` at a time (like a client's bucket queues, each saying how many
 * of the requests left it could send back to back); their times.
 */
async function send(l: SharedGlobalLimiter, n: number, lanes = 3): Promise<number[]> {
  const times: number[] = [];
  let left = n;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (left > 0) {
      const ready = Math.ceil(left / lanes);
      left--;
      await l.acquire(undefined, ready);
      times.push(systemClock.now());
    }
  }));
  return times;
}

Deno.test("global budget: four clients on one KV stay under the limit together", async () => {
  using kv = await Deno.openKv(":memory:");
  const clients = [0, 1, 2, 3].map((i) => limiter(kv, 100, `c${i}`));
  const runs = await Promise.all(clients.map((c) => send(c, 40)));
  const all = runs.flat();
  assert.deepStrictEqual(all.length, 160);
  // 100 per 1,020 ms on the timeline: never more than 100 in any second, whoever sent them.
  const peak = maxInWindow(all, 1000);
  assert.ok(peak <= 100, `peak ${peak} in one second`);
  // Each got a fair part while all four were claiming.
  for (const c of clients) {
    const s = c.stats();
    assert.ok(s.claims > 0 && s.slots >= 40, JSON.stringify(s));
  }
  assert.deepStrictEqual(Math.max(...clients.map((c) => c.stats().active)), 4);
  for (const c of clients) await c.close();
});

Deno.test("global budget: one client alone gets the whole limit and reports it", async () => {
  using kv = await Deno.openKv(":memory:");
  const l = limiter(kv, 200);
  const t0 = systemClock.now();
  const times = await send(l, 100, 4);
  assert.deepStrictEqual(times.length, 100);
  assert.ok(maxInWindow(times, 1000) <= 200);
  assert.deepStrictEqual(l.share(), 200);
  // Batches follow demand: far fewer claims than sends once the rate is known.
  assert.ok(l.stats().claims < 60, JSON.stringify(l.stats()));
  // 100 sends at 200/s take about half a second; a stall (a lease to wait out) would not.
  assert.ok(systemClock.now() - t0 < 5_000);
  await l.close();
});

Deno.test("global budget: the next chunk's client goes on from the timeline, no stall, no burst", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = limiter(kv, 100, "chunk-1");
  const first = await send(a, 60, 4);
  await a.close();
  const closedAt = systemClock.now();
  const b = limiter(kv, 100, "chunk-2");
  await b.acquire();
  const firstOfB = systemClock.now();
  const second = [firstOfB, ...(await send(b, 59, 4))];
  // A left the claimant list: B counts itself alone and plans with the whole limit.
  assert.deepStrictEqual(b.share(), 100);
  // B starts where A's slots end (at most a batch ahead), not after any lease or timeout.
  assert.ok(firstOfB - closedAt < 1_000, `B waited ${firstOfB - closedAt} ms`);
  // Across the handover no second holds more than the limit.
  const peak = maxInWindow([...first, ...second], 1000);
  assert.ok(peak <= 100, `peak ${peak} across the handover`);
  await b.close();
});

Deno.test("global budget: share() counts the clients claiming now", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = limiter(kv, 50, "a");
  const b = limiter(kv, 50, "b");
  await Promise.all([send(a, 10, 2), send(b, 10, 2)]);
  await send(a, 3, 1);
  assert.deepStrictEqual(a.share(), 25);
  await b.close();
  // Past the slots a still holds (at most a batch), its next claim sees it is alone.
  await send(a, 12, 1);
  assert.deepStrictEqual(a.share(), 50);
  await a.close();
});

Deno.test("global budget: a KV failure falls back to local pacing at the last share, warned once", async () => {
  using kv = await Deno.openKv(":memory:");
  let broken = false;
  const flaky = new Proxy(kv, {
    get(target, prop) {
      if (broken && (prop === "get" || prop === "atomic")) {
        return () => {
          throw new Error("kv down");
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const log = memoryLogger();
  const l = new SharedGlobalLimiter(flaky, systemClock, { perSecond: 100, log });
  await send(l, 5, 1);
  broken = true;
  const times = await send(l, 30, 3);
  assert.deepStrictEqual(times.length, 30);
  assert.ok(maxInWindow(times, 1000) <= 100);
  const s = l.stats();
  assert.ok(s.fallback && s.errors === 1, JSON.stringify(s));
  const warns = log.lines.filter((r) => r.level === "warn");
  assert.deepStrictEqual(warns.length, 1);
  assert.ok(!JSON.stringify(warns).includes("token"));
});

Deno.test("global budget: a paused client sends nothing until the pause ends", async () => {
  using kv = await Deno.openKv(":memory:");
  const l = limiter(kv, 100);
  const until = systemClock.now() + 150;
  l.pause(until);
  await l.acquire();
  assert.ok(systemClock.now() >= until);
  await l.close();
});

Deno.test("global budget: three REST clients on one KV against one global limit: no global 429", async () => {
  const limits = { ...uniformLimits(1000), global: 40 };
  const emu = await startEmulator({ guilds: [{ members: 50 }], limits });
  using kv = await Deno.openKv(":memory:");
  const clients = [0, 1, 2].map(() =>
    new RestClient({ token: emu.token, apiBase: emu.discordBase, kv, globalLimit: 40 })
  );
  try {
    // 60 reads per client (three at a time): only the global limit binds.
    await Promise.all(clients.map(async (c, i) => {
      for (let n = 0; n < 20; n++) {
        await Promise.all(
          [0, 1, 2].map((k) => c.get(`/guilds/200000000000000001/roles?x=${i}${k}`)),
        );
      }
    }));
    assert.deepStrictEqual(emu.stats.rateLimited.global, 0);
    assert.deepStrictEqual(emu.stats.totalRequests, 180);
    for (const c of clients) assert.ok((c.stats().globalBudget?.claims ?? 0) > 0);
  } finally {
    for (const c of clients) await c.close();
    await emu.close();
  }
});

Deno.test("global budget: a bucket window closing before the booked timeline is refused, never starved", async () => {
  using kv = await Deno.openKv(":memory:");
  const l = limiter(kv, 100);
  // A window shorter than any claim's round trip: the claim is made, its slot comes after the
  // window, so the caller is refused and the slot kept.
  assert.deepStrictEqual(await l.acquire(undefined, 1, systemClock.now() + 0.01), false);
  assert.deepStrictEqual(l.stats().claims, 1);
  // The caller's next window (any that reaches the slot) gets it: no new claim, no starvation.
  assert.deepStrictEqual(await l.acquire(undefined, 1, systemClock.now() + 1000), true);
  assert.deepStrictEqual(l.stats().claims, 1);
  // The timeline is booked past a window that ends at once: refused, nothing claimed.
  assert.deepStrictEqual(await l.acquire(undefined, 1, systemClock.now() - 1000), false);
  assert.deepStrictEqual(l.stats().claims, 1);
  // Without a deadline the next slot comes.
  assert.deepStrictEqual(await l.acquire(), true);
  await l.close();
});
