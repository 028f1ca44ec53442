/**
 * One rate-limit bucket's queue (lib/discord/buckets.ts). First the queue alone, on a fake host
 * (a gate for the global limit that records its callers, the invalid-request guard, a manual
 * clock) and tickets completed by hand with header facts: the probe, saturating `remaining`, the
 * reset, answers without headers, pauses, merges, refusals. Then the window edges through a whole
 * client over a fake Discord, in memory and with state shared through KV: a request that reaches
 * Discord in the next window never makes that window's refill one request too many.
 * Kept in one file past 400 lines: the cases share the fake host the bucket runs on.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import {
  Bucket,
  type BucketHost,
  type QueueEntry,
  type Ticket,
} from "../../lib/discord/buckets.ts";
import { RestPausedError } from "../../lib/discord/errors.ts";
import type { GlobalGate } from "../../lib/discord/global_limiter.ts";
import { InvalidRequestGuard } from "../../lib/discord/invalid_guard.ts";
import type { RateLimitInfo } from "../../lib/discord/response.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { caught, FakeDiscord, tick } from "./_fake_discord.ts";

const G = "200000000000000001";
const TEMPLATE = "PATCH /guilds/:major/members/:id";
const MARGIN = 10;

const headers = (over: Partial<RateLimitInfo> = {}): RateLimitInfo => ({
  bucket: "members",
  limit: 3,
  remaining: 2,
  resetAfterMs: 1_000,
  global: false,
  ...over,
});

/** A bucket on a fake host; `request()` queues one request and resolves with its ticket. */
function setup(o: { slot?: () => boolean } = {}) {
  const clock = new ManualClock();
  const closed = new AbortController();
  const guard = new InvalidRequestGuard(clock, { limit: 1 });
  /** When each non-exempt request asked the global gate for a slot. */
  const gateCalls: number[] = [];
  const global: GlobalGate = {
    perSecond: 1000,
    pausedUntil: 0,
    pause() {},
    acquire: () => {
      gateCalls.push(clock.now());
      return Promise.resolve(o.slot?.() ?? true);
    },
  };
  const loopErrors: unknown[] = [];
  const host: BucketHost = {
    clock,
    global,
    guard,
    shared: null,
    closed: closed.signal,
    marginMs: MARGIN,
    pollMs: 50,
    random: () => 0.5,
    learnHash: (bucket, _template, hash) => {
      bucket.hash = hash;
      bucket.id = `${hash}:${bucket.major}`;
      return bucket;
    },
    adoptPauses() {},
    onLoopError: (bucket, err) => {
      loopErrors.push(err);
      bucket.rejectAll(err);
    },
  };
  let seq = 0;
  const newBucket = () => new Bucket(host, `PATCH /guilds/${G}/members/:id`, TEMPLATE, G);
  const bucket = newBucket();
  /** Tickets in the order they were granted, each with its request's name. */
  const granted: { name: string; ticket: Ticket }[] = [];
  const request = (
    name: string,
    r: { exempt?: boolean; maxPauseWaitMs?: number; front?: boolean; into?: Bucket } = {},
  ) =>
    new Promise<Ticket>((resolve, reject) => {
      const entry: QueueEntry = {
        seq: ++seq,
        exempt: r.exempt ?? false,
        maxPauseWaitMs: r.maxPauseWaitMs ?? Infinity,
        settled: false,
        resolve: (ticket) => {
          granted.push({ name, ticket });
          resolve(ticket);
        },
        reject,
        pausedError: (until) => new RestPausedError("PATCH", TEMPLATE, until),
      };
      (r.into ?? bucket).enqueue(entry, r.front ?? false);
    });
  /** The request holding `ticket` goes out and is answered now, with `info` (null: no answer). */
  const answer = (ticket: Ticket, info: RateLimitInfo | null, status = 200) => {
    ticket.bucket.sent(ticket, clock.now());
    return ticket.bucket.complete(ticket, TEMPLATE, info, clock.now(), status);
  };
  const names = () => granted.map((g) => g.name);
  const ticketOf = (name: string) => granted.find((g) => g.name === name)!.ticket;
  /** Lets the dispatch loop run without moving the clock. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await tick();
  };
  /** Moves the clock by `ms`, settling after. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return {
    clock,
    closed,
    guard,
    gateCalls,
    loopErrors,
    bucket,
    newBucket,
    request,
    answer,
    names,
    ticketOf,
    settle,
    advance,
  };
}

Deno.test("buckets: an unknown bucket sends one probe, then saturates what its answer allows", async () => {
  const s = setup();
  const t0 = s.clock.now();
  for (const name of ["a", "b", "c", "d"]) void s.request(name);
  await s.settle();
  assert.deepStrictEqual(s.names(), ["a"], "one request until the bucket is known");
  assert.equal(s.ticketOf("a").probe, true);
  assert.deepStrictEqual(s.bucket.stats(), {
    queued: 3,
    inflight: 1,
    limit: null,
    remaining: null,
    resetAt: null,
    pausedUntil: null,
  });
  const owner = s.answer(s.ticketOf("a"), headers());
  assert.equal(owner, s.bucket);
  assert.equal(s.bucket.id, `members:${G}`, "the hash was learned");
  await s.settle();
  // Two left in the window: both go at once, the fourth waits for the reset.
  assert.deepStrictEqual(s.names(), ["a", "b", "c"]);
  assert.deepStrictEqual([s.ticketOf("b").probe, s.ticketOf("c").probe], [false, false]);
  assert.deepStrictEqual(s.bucket.stats(), {
    queued: 1,
    inflight: 2,
    limit: 3,
    remaining: 0,
    resetAt: t0 + 1_000 + MARGIN,
    pausedUntil: null,
  });
  s.answer(s.ticketOf("b"), headers({ remaining: 1 }));
  s.answer(s.ticketOf("c"), headers({ remaining: 0 }));
  await s.advance(1_000 + MARGIN - 1);
  assert.deepStrictEqual(s.names(), ["a", "b", "c"], "not before the reset and its margin");
  await s.advance(1);
  assert.deepStrictEqual(s.names(), ["a", "b", "c", "d"]);
  // The refill is the whole limit again: one used, two left.
  assert.equal(s.bucket.stats().remaining, 2);
});

Deno.test("buckets: a route that answers without rate-limit headers is limited only globally", async () => {
  const s = setup();
  void s.request("probe");
  await s.settle();
  s.answer(s.ticketOf("probe"), { global: false }, 204);
  for (let i = 0; i < 20; i++) void s.request(`r${i}`);
  await s.settle();
  assert.equal(s.names().length, 21, "all at once");
  assert.equal(s.bucket.unlimited, true);
  assert.deepStrictEqual([s.bucket.stats().limit, s.bucket.stats().remaining], [null, null]);
  assert.equal(s.gateCalls.length, 21, "each still took a global slot");
});

Deno.test("buckets: a 5xx page or no answer teaches nothing: the next request probes again", async () => {
  const s = setup();
  for (const name of ["a", "b", "c"]) void s.request(name);
  await s.settle();
  s.answer(s.ticketOf("a"), { global: false }, 502);
  await s.settle();
  assert.deepStrictEqual(s.names(), ["a", "b"]);
  assert.equal(s.ticketOf("b").probe, true);
  assert.equal(s.bucket.unlimited, false);
  s.answer(s.ticketOf("b"), null, 0); // a network error: no answer at all
  await s.settle();
  assert.deepStrictEqual(s.names(), ["a", "b", "c"]);
  assert.equal(s.ticketOf("c").probe, true);
  // Nor does a 429 without the bucket's headers (a global one) make it unlimited.
  s.answer(s.ticketOf("c"), { global: true }, 429);
  assert.equal(s.bucket.unlimited, false);
});

Deno.test("buckets: a window spent on answers without headers ends a window after the last", async () => {
  const s = setup();
  void s.request("probe");
  await s.settle();
  s.answer(s.ticketOf("probe"), headers({ remaining: 0 }));
  await s.advance(1_000 + MARGIN);
  // A new window: three slots. Their answers are proxy error pages, without headers.
  for (const name of ["a", "b", "c", "d"]) void s.request(name);
  await s.settle();
  assert.deepStrictEqual(s.names(), ["probe", "a", "b", "c"]);
  await s.advance(100);
  for (const name of ["a", "b", "c"]) s.answer(s.ticketOf(name), { global: false }, 502);
  const lastAnswer = s.clock.now();
  await s.settle();
  assert.ok(!s.names().includes("d"));
  // Its server window began no later than the last answer: surely over a window (and margin) on.
  await s.advance(1_000 + MARGIN - 1);
  assert.ok(!s.names().includes("d"));
  await s.advance(1);
  assert.equal(s.clock.now(), lastAnswer + 1_000 + MARGIN);
  assert.ok(s.names().includes("d"));
});

Deno.test("buckets: a user 429 ends the window; a shared 429 waits but keeps its slots", async () => {
  const s = setup();
  void s.request("probe");
  await s.settle();
  s.answer(s.ticketOf("probe"), headers({ limit: 5, remaining: 4 }));
  const t1 = s.clock.now();
  const resetAt = s.bucket.resetAt!;
  s.bucket.pause(t1 + 300, "shared");
  assert.deepStrictEqual(
    [s.bucket.stats().remaining, s.bucket.stats().pausedUntil, s.bucket.resetAt],
    [4, t1 + 300, resetAt],
  );
  void s.request("a");
  await s.settle();
  await s.advance(299);
  assert.deepStrictEqual(s.names(), ["probe"], "held by the pause");
  await s.advance(1);
  assert.deepStrictEqual(s.names(), ["probe", "a"], "then sent from the window it kept");
  assert.equal(s.bucket.stats().remaining, 3);

  s.bucket.pause(s.clock.now() + 200, "user");
  assert.equal(s.bucket.stats().remaining, 0, "a user 429: the window is spent");
  assert.equal(s.bucket.resetAt, resetAt, "and ends no earlier than it would have");
  s.bucket.pause(resetAt + 500, "user");
  assert.equal(s.bucket.resetAt, resetAt + 500, "or when the 429 says, if later");
  // A shorter pause never shortens a longer one.
  s.bucket.pause(s.clock.now() + 1, "shared");
  assert.equal(s.bucket.pausedUntil, resetAt + 500);
});

Deno.test("buckets: an invalid-request pause refuses the impatient, holds the rest", async () => {
  const s = setup();
  s.guard.record(); // the guard's limit is one: it trips
  const until = s.guard.pausedUntil();
  assert.ok(until > s.clock.now());
  const impatient = caught(s.request("now-or-never", { maxPauseWaitMs: 0 }));
  const patient = s.request("patient");
  const short = caught(s.request("a-minute", { maxPauseWaitMs: 60_000 }));
  await s.settle();
  const refused = await impatient;
  assert.ok(refused instanceof RestPausedError);
  assert.equal(refused.until, until);
  assert.ok((await short) instanceof RestPausedError, "the pause is longer than a minute");
  assert.deepStrictEqual(s.names(), []);
  s.clock.set(until);
  await s.settle();
  assert.equal((await patient).probe, true);
  assert.deepStrictEqual(s.names(), ["patient"]);
});

Deno.test("buckets: exempt requests skip the global gate; the others wait for a slot", async () => {
  let slots = 0;
  const s = setup({ slot: () => slots-- > 0 });
  void s.request("probe", { exempt: true });
  await s.settle();
  assert.deepStrictEqual(s.gateCalls, []);
  s.answer(s.ticketOf("probe"), headers({ limit: 10, remaining: 9 }));
  void s.request("exempt", { exempt: true });
  await s.settle();
  assert.deepStrictEqual(s.names(), ["probe", "exempt"]);
  assert.deepStrictEqual(s.gateCalls, []);
  // No global slot for this one (the gate says no) until the gate has one again.
  void s.request("global");
  await s.settle();
  assert.deepStrictEqual(s.names(), ["probe", "exempt"]);
  assert.ok(s.gateCalls.length >= 1);
  slots = 1;
  for (let i = 0; i < 40 && s.names().length < 3; i++) await s.advance(50);
  assert.deepStrictEqual(s.names(), ["probe", "exempt", "global"]);
  assert.ok(s.gateCalls.length >= 2, "it asked again");
});

Deno.test("buckets: a retry queued at the front goes before earlier requests", async () => {
  const s = setup();
  for (const name of ["a", "b", "c"]) void s.request(name);
  await s.settle();
  void s.request("retry", { front: true });
  s.answer(s.ticketOf("a"), headers({ limit: 10, remaining: 9 }));
  await s.settle();
  assert.deepStrictEqual(s.names(), ["a", "retry", "b", "c"]);
});

Deno.test("buckets: a bucket absorbed into another hands over its queue, in request order", async () => {
  const s = setup();
  const other = s.newBucket();
  void s.request("a1", { into: other });
  void s.request("b1");
  void s.request("a2", { into: other });
  void s.request("b2");
  void s.request("a3", { into: other });
  await s.settle();
  assert.deepStrictEqual(s.names(), ["a1", "b1"], "each bucket probes");
  // Discord names one bucket for both: the waiting requests join one queue, oldest first.
  s.bucket.absorb(other);
  await s.settle();
  assert.equal(other.owner, s.bucket);
  assert.equal(other.queued, 0);
  assert.equal(s.bucket.queued, 3);
  assert.equal(s.bucket.inflight, 2, "both probes count");
  s.answer(s.ticketOf("b1"), headers({ limit: 10, remaining: 9 }));
  await s.settle();
  assert.deepStrictEqual(s.names(), ["a1", "b1", "a2", "b2", "a3"]);
  assert.equal(s.bucket.inflight, 4);
  // The probe sent through the absorbed queue completes against its new owner.
  assert.equal(s.answer(s.ticketOf("a1"), headers({ limit: 10, remaining: 5 })), s.bucket);
  assert.equal(s.bucket.inflight, 3);
});

Deno.test("buckets: rejectAll refuses everything queued, once", async () => {
  const s = setup();
  const first = s.request("first");
  const rest = [caught(s.request("second")), caught(s.request("third"))];
  await s.settle();
  await first;
  const err = new Error("client closed");
  s.bucket.rejectAll(err);
  assert.deepStrictEqual(await Promise.all(rest), [err, err]);
  assert.equal(s.bucket.queued, 0);
  s.bucket.rejectAll(new Error("again")); // nothing left to reject twice
});

Deno.test("buckets: idle only with nothing queued, in flight, paused or in a window", async () => {
  const s = setup();
  assert.equal(s.bucket.idle, true);
  void s.request("a");
  void s.request("b");
  await s.settle();
  assert.equal(s.bucket.idle, false);
  s.answer(s.ticketOf("a"), headers({ remaining: 2 }));
  await s.settle();
  s.answer(s.ticketOf("b"), headers({ remaining: 1 }));
  assert.equal(s.bucket.idle, false, "its window is still open");
  await s.advance(1_000 + MARGIN);
  assert.equal(s.bucket.idle, true);
  assert.equal(s.bucket.stats().resetAt, null, "a past reset is not reported");
  s.bucket.pause(s.clock.now() + 100, "shared");
  assert.equal(s.bucket.idle, false);
  await s.advance(100);
  assert.equal(s.bucket.idle, true);
  assert.deepStrictEqual(s.loopErrors, []);
});

// --- window edges, through a whole client ------------------------------------------------------
//
// Discord's window starts with the first request that reaches it, and a client learns its end
// from Reset-After as late as it reads the answer. A slot used too close to that end can reach
// Discord in the next window; these tests check that such a request never makes the next
// window's refill one request too many, with in-memory and with shared (KV) state. Fake fetch and
// manual clock: the latencies and stalls are exact.

const TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm";
const BASE = "https://discord.test/api/v10";
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
async function windowSetup(shared: boolean, delay: (i: number) => { up?: number; down?: number }) {
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
    const s = await windowSetup(shared, (i) => (i === 0 ? { down: 300 } : {}));
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
    const s = await windowSetup(shared, (i) => (i === 1 ? { up: 105 } : {}));
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
    const s = await windowSetup(shared, (i) => (i === 1 ? { up: 400 } : {}));
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
