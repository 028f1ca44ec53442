/**
 * Request pacing on its own (lib/discord/pacer.ts): queues per route until a bucket hash is
 * learned, what a 429 pauses, the invalid-request count, tickets and their refusals, learned
 * limits, idle buckets and closing. No HTTP: tickets are completed by hand with header facts.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import type { RateLimitInfo } from "../../lib/discord/response.ts";
import { RestClosedError, RestPausedError } from "../../lib/discord/errors.ts";
import type { RestEvent } from "../../lib/discord/events.ts";
import { Pacer, type PacingOptions } from "../../lib/discord/pacer.ts";
import { parseRoute } from "../../lib/discord/route_key.ts";
import { memoryLogger } from "../_log.ts";
import { caught, drive, tick } from "./_fake_discord.ts";

const G = "200000000000000001";
const member = (i: number) =>
  parseRoute("PATCH", `/guilds/${G}/members/${300000000000000000n + BigInt(i)}`);
const roles = parseRoute("GET", `/guilds/${G}/roles`);

function setup(options: PacingOptions = {}) {
  const clock = new ManualClock();
  const log = memoryLogger();
  const events: RestEvent[] = [];
  const closed = new AbortController();
  const pacer = new Pacer({ globalLimit: 1000, ...options }, {
    clock,
    log,
    closed: closed.signal,
    report: (e) => events.push(e),
    random: () => 0.5,
  });
  return { clock, log, events, closed, pacer };
}

const headers = (over: Partial<RateLimitInfo> = {}): RateLimitInfo => ({
  bucket: "members",
  limit: 5,
  remaining: 4,
  resetAfterMs: 1_000,
  global: false,
  ...over,
});

Deno.test("pacer: a route waits in its route-key queue until Discord names the bucket", async () => {
  const { clock, pacer } = setup();
  const route = member(1);
  const first = pacer.bucketFor(route);
  assert.equal(first.id, route.key);
  assert.equal(pacer.bucketFor(member(2)), first, "another member: same route key");
  assert.equal(pacer.bucketInfo(route), null);
  const ticket = await pacer.ticket(first, route, pacer.nextSeq(), false, Infinity);
  assert.equal(ticket.probe, true, "an unknown bucket sends one probe");
  first.sent(ticket, clock.now());
  const owner = first.complete(ticket, route.template, headers(), clock.now(), 200);
  assert.equal(owner.id, `members:${G}`);
  assert.equal(pacer.bucketFor(member(3)), owner, "the hash is used from now on");
  assert.deepStrictEqual(pacer.bucketInfo(member(4)), { limit: 5, windowMs: 1_000 });
  assert.deepStrictEqual(await pacer.learnedLimits(member(4)), { limit: 5, windowMs: 1_000 });
  assert.deepStrictEqual(Object.keys(pacer.stats().queues), [`members:${G}`]);
  assert.equal(pacer.bucketInfo(roles), null, "other routes know nothing yet");
});

Deno.test("pacer: two route queues that report one hash merge into one", async () => {
  const { clock, pacer } = setup();
  const a = parseRoute("GET", `/channels/${G}/a`);
  const b = parseRoute("GET", `/channels/${G}/b`);
  for (const route of [a, b]) {
    const bucket = pacer.bucketFor(route);
    // The global limit spaces the second ticket: the clock has to move.
    const t = await drive(clock, pacer.ticket(bucket, route, pacer.nextSeq(), false, Infinity));
    bucket.complete(t, route.template, headers({ bucket: "shared" }), clock.now(), 200);
  }
  assert.deepStrictEqual(Object.keys(pacer.stats().queues), [`shared:${G}`]);
  assert.equal(pacer.bucketFor(a), pacer.bucketFor(b));
});

Deno.test("pacer: a user 429 pauses its bucket only, and is reported", () => {
  const { clock, events, pacer } = setup();
  const bucket = pacer.bucketFor(member(1));
  const now = clock.now();
  pacer.rateLimited(member(1), bucket, { scope: "user", retryAfterMs: 2_000, banned: false }, now);
  const s = pacer.stats();
  assert.deepStrictEqual(s.rateLimited, { user: 1, global: 0, shared: 0 });
  assert.equal(s.queues[bucket.id].pausedUntil, now + 2_000 + 10, "plus the bucket margin");
  assert.equal(s.globalPausedUntil, null);
  assert.equal(s.invalidRequests.pausedUntil, null);
  assert.deepStrictEqual(events, [{
    type: "rate_limited",
    method: "PATCH",
    route: `/guilds/${G}/members/:id`,
    bucket: bucket.id,
    scope: "user",
    retryAfterMs: 2_000,
  }]);
});

Deno.test("pacer: a global 429 pauses every non-exempt request", () => {
  const { clock, events, pacer } = setup();
  const bucket = pacer.bucketFor(roles);
  const now = clock.now();
  pacer.rateLimited(roles, bucket, { scope: "global", retryAfterMs: 1_000, banned: false }, now);
  const s = pacer.stats();
  assert.deepStrictEqual(s.rateLimited, { user: 0, global: 1, shared: 0 });
  assert.equal(s.globalPausedUntil, now + 1_010);
  assert.equal(s.queues[bucket.id].pausedUntil, null, "the bucket itself is not paused");
  assert.deepStrictEqual(events.map((e) => e.type), ["rate_limited", "paused"]);
  assert.deepStrictEqual(events[1], {
    type: "paused",
    reason: "global_rate_limit",
    until: now + 1_010,
  });
});

Deno.test("pacer: a shared 429 pauses the bucket but keeps its window", async () => {
  const { clock, pacer } = setup();
  const route = member(1);
  const bucket = pacer.bucketFor(route);
  const t = await pacer.ticket(bucket, route, pacer.nextSeq(), false, Infinity);
  const owner = bucket.complete(t, route.template, headers({ remaining: 3 }), clock.now(), 200);
  pacer.rateLimited(
    route,
    owner,
    { scope: "shared", retryAfterMs: 500, banned: false },
    clock.now(),
  );
  const q = pacer.stats().queues[owner.id];
  assert.equal(q.remaining, 3, "slots kept");
  assert.equal(q.pausedUntil, clock.now() + 510);
  assert.equal(pacer.stats().rateLimited.shared, 1);
});

Deno.test("pacer: a ban pauses everything, exempt routes too, and is logged as an error", async () => {
  const { clock, log, events, pacer } = setup();
  const bucket = pacer.bucketFor(roles);
  const now = clock.now();
  pacer.rateLimited(roles, bucket, { scope: "global", retryAfterMs: 60_000, banned: true }, now);
  const s = pacer.stats();
  assert.equal(s.rateLimited.global, 1);
  assert.equal(s.invalidRequests.pausedUntil, now + 60_000, "no margin: Cloudflare's own time");
  assert.equal(pacer.pausedUntil(), now + 60_000);
  assert.deepStrictEqual(events, [{
    type: "paused",
    reason: "invalid_requests",
    until: now + 60_000,
  }]);
  assert.ok(log.lines.some((l) => l.level === "error" && String(l.msg).includes("Cloudflare")));
  // An exempt route's ticket waits for the pause too.
  const callback = parseRoute("POST", `/interactions/${G}/tokentokentoken/callback`);
  assert.ok(callback.exemptGlobal);
  let granted = false;
  const ticket = pacer.ticket(pacer.bucketFor(callback), callback, pacer.nextSeq(), false, Infinity)
    .then((t) => {
      granted = true;
      return t;
    });
  clock.advance(59_000);
  await tick();
  assert.equal(granted, false);
  await drive(clock, ticket, { stepMs: 100 });
  assert.ok(clock.now() >= now + 60_000);
});

Deno.test("pacer: invalid answers are counted and reported; the limit pauses every request", async () => {
  const { events, pacer } = setup({ invalidRequestLimit: 3 });
  pacer.countInvalid(403);
  pacer.countInvalid(401);
  assert.deepStrictEqual(events, [
    { type: "invalid_request", status: 403, used: 1, limit: 3 },
    { type: "invalid_request", status: 401, used: 2, limit: 3 },
  ]);
  assert.equal(pacer.pausedUntil(), 0);
  pacer.countInvalid(429);
  const until = pacer.pausedUntil();
  assert.ok(until > 0);
  assert.deepStrictEqual(events.slice(2), [
    { type: "paused", reason: "invalid_requests", until },
    { type: "invalid_request", status: 429, used: 3, limit: 3 },
  ]);
  assert.deepStrictEqual(pacer.stats().invalidRequests, { used: 3, limit: 3, pausedUntil: until });
  // A caller that cannot wait that long is refused from the queue.
  const err = await caught(
    pacer.ticket(pacer.bucketFor(roles), roles, pacer.nextSeq(), false, 1_000),
  );
  assert.ok(err instanceof RestPausedError);
  assert.equal(err.until, until);
});

Deno.test("pacer: an aborted caller leaves the queue; close rejects the rest", async () => {
  const { clock, closed, pacer } = setup();
  const route = member(1);
  const bucket = pacer.bucketFor(route);
  const probe = await pacer.ticket(bucket, route, pacer.nextSeq(), false, Infinity);
  bucket.sent(probe, clock.now());
  // The probe is unanswered: the next requests wait.
  const ctl = new AbortController();
  const aborted = caught(pacer.ticket(bucket, route, pacer.nextSeq(), false, Infinity, ctl.signal));
  const waiting = caught(pacer.ticket(bucket, route, pacer.nextSeq(), false, Infinity));
  await tick();
  assert.equal(pacer.stats().queues[bucket.id].queued, 2);
  ctl.abort(new Error("caller gave up"));
  assert.equal(((await aborted) as Error).message, "caller gave up");
  assert.equal(pacer.stats().queues[bucket.id].queued, 1);
  closed.abort();
  await pacer.close();
  assert.ok((await waiting) instanceof RestClosedError);
  await pacer.settled();
});

Deno.test("pacer: idle buckets are dropped after five minutes, checked at most once a minute", async () => {
  const { clock, pacer } = setup();
  const route = member(1);
  const bucket = pacer.bucketFor(route);
  const t = await pacer.ticket(bucket, route, pacer.nextSeq(), false, Infinity);
  bucket.complete(t, route.template, null, clock.now(), 0);
  clock.advance(280_000);
  pacer.sweep();
  assert.equal(Object.keys(pacer.stats().queues).length, 1, "used under five minutes ago: kept");
  clock.advance(30_000);
  pacer.sweep();
  assert.equal(Object.keys(pacer.stats().queues).length, 1, "the last sweep was 30 s ago");
  clock.advance(30_000);
  pacer.sweep();
  assert.deepStrictEqual(pacer.stats().queues, {});
});

Deno.test("pacer: the global share is the whole limit without a shared budget", () => {
  assert.equal(setup({ globalLimit: 50 }).pacer.share(), 50);
  assert.equal(setup({ globalLimit: 10 }).pacer.stats().globalBudget, null);
  assert.equal(setup().pacer.stats().shared, null);
});

Deno.test("pacer: with a KV, the global limit is shared unless turned off", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const shared = setup({ kv, globalLimit: 40 }).pacer;
    assert.notEqual(shared.stats().globalBudget, null);
    assert.notEqual(shared.stats().shared, null);
    assert.equal(shared.share(), 40);
    const local = setup({ kv, sharedGlobalLimit: false }).pacer;
    assert.equal(local.stats().globalBudget, null);
    assert.notEqual(local.stats().shared, null, "bucket windows are still shared");
    await shared.close();
    await local.close();
  } finally {
    kv.close();
  }
});
