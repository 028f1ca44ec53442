/**
 * Window edges of a bucket: Discord's window starts with the first request that reaches it, and
 * a client learns its end from Reset-After as late as it reads the answer. A slot used too close
 * to that end can reach Discord in the next window; these tests check that such a request never
 * makes the next window's refill one request too many, with in-memory and with shared (KV) state.
 * Fake fetch and manual clock: the latencies and stalls are exact.
 */
import assert from "node:assert/strict";
import { memoryLogger } from "../_log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { FakeDiscord, ManualClock, tick } from "./_fake_discord.ts";

const TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm";
const BASE = "https://discord.test/api/v10";
const G = "200000000000000001";
const u = (i: number) => String(300000000000000000n + BigInt(i));
const rule = {
  match: /^PATCH \/guilds\/\d+\/members\/\d+$/,
  limit: 5,
  windowMs: 1000,
  hash: "members",
};

/** KV whose operations are tracked, so the clock can stand still while one is running. */
function trackedKv(kv: Deno.Kv, pending: Set<Promise<unknown>>): Deno.Kv {
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    p.finally(() => pending.delete(p)).catch(() => {});
    return p;
  };
  return new Proxy(kv, {
    get(target, prop) {
      const member = Reflect.get(target, prop, target);
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => track(commit());
          return op;
        };
      }
      if (typeof member !== "function") return member;
      return (...a: unknown[]) => {
        const out = member.apply(target, a);
        return out instanceof Promise ? track(out) : out;
      };
    },
  });
}

/**
 * A client over a fake Discord with 20 ms round trips (10 each way). `delay(i)` adds time before
 * the i-th request reaches Discord (`up`) or before the client reads its answer (`down`: the
 * client stalled, so it reads a stale Reset-After).
 */
async function setup(shared: boolean, delay: (i: number) => { up?: number; down?: number }) {
  const clock = new ManualClock();
  const fake = new FakeDiscord(clock, { rules: [rule], latencyMs: 20 });
  const raw = shared ? await Deno.openKv(":memory:") : undefined;
  const pending = new Set<Promise<unknown>>();
  const kv = raw && trackedKv(raw, pending);
  let n = 0;
  const rest = new RestClient({
    token: TOKEN,
    apiBase: BASE,
    clock,
    log: memoryLogger(),
    globalLimit: 1000,
    random: () => 0.5,
    kv,
    fetch: async (input, init) => {
      const d = delay(n++);
      if (d.up) await clock.sleep(d.up);
      const res = await fake.fetch(input, init);
      if (d.down) await clock.sleep(d.down);
      return res;
    },
  });
  const patch = (i: number) => rest.patch(`/guilds/${G}/members/${u(i)}`, { body: {} });
  /** Lets every ready continuation and KV operation finish, without moving the clock. */
  const settle = async () => {
    for (let i = 0; i < 3 || pending.size; i++) {
      await tick();
      if (pending.size) await Promise.allSettled([...pending]);
    }
  };
  /** Moves the clock 1 ms at a time to `at` (t0-relative), settling at every step. */
  const runTo = async (at: number) => {
    await settle();
    while (clock.now() < t0 + at) {
      clock.advance(1);
      await settle();
    }
  };
  /** Runs `p` to completion, 1 ms at a time. */
  const run = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    const watched = p.finally(() => (done = true));
    watched.catch(() => {});
    while (!done) {
      await settle();
      if (!done) clock.advance(1);
    }
    return await watched;
  };
  const t0 = clock.now();
  return {
    fake,
    patch,
    runTo,
    run,
    async close() {
      await rest.close();
      raw?.close();
    },
  };
}

for (const shared of [false, true]) {
  const mode = shared ? "shared state" : "in memory";

  Deno.test(`rest window (${mode}): a stale Reset-After does not let a kept slot go out late`, async () => {
    // The first answer is read 300 ms late: the client thinks the window ends 300 ms after it did.
    const s = await setup(shared, (i) => (i === 0 ? { down: 300 } : {}));
    try {
      await s.run(s.patch(0));
      // Four slots left in a window Discord closed at t0 + 1010; six writes come at t0 + 1100.
      await s.runTo(1100);
      await s.run(Promise.all([1, 2, 3, 4, 5, 6].map(s.patch)));
      assert.deepStrictEqual(s.fake.total429, 0);
      assert.deepStrictEqual(s.fake.accepted.get(`members:guilds/${G}`)!.length, 7);
    } finally {
      await s.close();
    }
  });

  Deno.test(`rest window (${mode}): a request that reached the next window counts in it`, async () => {
    // Sent in time (t0 + 900), but 105 ms slower on the way: Discord opens the next window with it.
    const s = await setup(shared, (i) => (i === 1 ? { up: 105 } : {}));
    try {
      await s.run(s.patch(0));
      await s.runTo(900);
      await s.run(s.patch(1));
      // Five more just before the client's reset: the next window has room for four of them.
      await s.runTo(1028);
      await s.run(Promise.all([2, 3, 4, 5, 6].map(s.patch)));
      assert.deepStrictEqual(s.fake.total429, 0);
      assert.deepStrictEqual(s.fake.accepted.get(`members:guilds/${G}`)!.length, 7);
    } finally {
      await s.close();
    }
  });

  Deno.test(`rest window (${mode}): a request unanswered when its window ends counts in the next`, async () => {
    // Sent at t0 + 900 but written 400 ms later (a stalled isolate): it is still out at the reset.
    const s = await setup(shared, (i) => (i === 1 ? { up: 400 } : {}));
    try {
      await s.run(s.patch(0));
      await s.runTo(900);
      const late = s.patch(1);
      await s.runTo(1040);
      await s.run(Promise.all([late, ...[2, 3, 4, 5, 6].map(s.patch)]));
      assert.deepStrictEqual(s.fake.total429, 0);
      assert.deepStrictEqual(s.fake.accepted.get(`members:guilds/${G}`)!.length, 7);
    } finally {
      await s.close();
    }
  });
}
