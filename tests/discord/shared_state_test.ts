import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { type ReserveInput, SharedState } from "../../lib/discord/shared_state.ts";

async function setup() {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock();
  const log = memoryLogger();
  const a = new SharedState(kv, { clock, log, random: () => 0.25 });
  const b = new SharedState(kv, { clock, log, random: () => 0.75 });
  return { kv, clock, log, a, b };
}

const ROUTE = "PATCH /guilds/:major/members/:id";
const input = (over: Partial<ReserveInput> = {}): ReserveInput => ({
  id: "PATCH /guilds/1/members/:id",
  template: ROUTE,
  hashKnown: false,
  want: 5,
  limit: 0,
  windowMs: 0,
  ...over,
});

Deno.test("shared state: one isolate probes an unknown bucket, the other waits", async () => {
  const { kv, a, b } = await setup();
  try {
    const first = await a.reserve(input());
    assert.ok(first?.kind === "grant");
    assert.deepStrictEqual([first.granted, first.probe, first.opened], [1, true, true]);
    const second = await b.reserve(input());
    assert.ok(second?.kind === "grant");
    assert.deepStrictEqual(second.granted, 0);
    assert.ok(second.record.probing);
  } finally {
    kv.close();
  }
});

Deno.test("shared state: a probe's answer publishes the hash and the window", async () => {
  const { kv, clock, a, b } = await setup();
  try {
    await a.reserve(input());
    const now = clock.now();
    const rec = await a.publishProbe("PATCH /guilds/1/members/:id", "h1:1", ROUTE, "h1", {
      limit: 10,
      remaining: 9,
      resetAt: now + 1000,
      sendBy: now + 980,
      windowMs: 1000,
    });
    assert.deepStrictEqual(rec?.remaining, 9);
    // B does not know the hash yet: it is told to move to the hash's bucket.
    const moved = await b.reserve(input());
    assert.deepStrictEqual(moved?.kind === "relocate" && moved.hash, "h1");
    // On the hash bucket B reserves from what is left, then finds nothing until the reset.
    const grant = await b.reserve(input({ id: "h1:1", hashKnown: true, want: 6, limit: 10 }));
    assert.ok(grant?.kind === "grant");
    assert.deepStrictEqual(grant.granted, 6);
    const rest = await a.reserve(input({ id: "h1:1", hashKnown: true, want: 6, limit: 10 }));
    assert.ok(rest?.kind === "grant");
    assert.deepStrictEqual(rest.granted, 3);
    const none = await b.reserve(input({ id: "h1:1", hashKnown: true, want: 1, limit: 10 }));
    assert.ok(none?.kind === "grant");
    assert.deepStrictEqual(none.granted, 0);
    assert.deepStrictEqual(none.record.resetAt, now + 1000);
    // The first reservation after the reset opens a new, provisional window.
    clock.advance(1000);
    const next = await a.reserve(
      input({ id: "h1:1", hashKnown: true, want: 4, limit: 10, windowMs: 1000 }),
    );
    assert.ok(next?.kind === "grant");
    assert.deepStrictEqual([next.granted, next.opened, next.record.provisional], [4, true, true]);
    assert.ok(next.record.resetAt > clock.now() + 1000);
    await a.publishReset("h1:1", next.record.windowId, clock.now() + 1005, clock.now() + 985);
    const after = await b.reserve(input({ id: "h1:1", hashKnown: true, want: 10, limit: 10 }));
    assert.ok(after?.kind === "grant");
    assert.deepStrictEqual(after.granted, 6);
    assert.deepStrictEqual([after.record.provisional, after.record.resetAt], [
      false,
      clock.now() + 1005,
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("shared state: 429 and global pauses reach the other isolates", async () => {
  const { kv, clock, a, b } = await setup();
  try {
    const now = clock.now();
    await a.pauseBucket("h2:1", now + 5000, 10, 1000);
    const r = await b.reserve(input({ id: "h2:1", hashKnown: true, limit: 10, windowMs: 1000 }));
    assert.ok(r?.kind === "grant");
    assert.deepStrictEqual([r.granted, r.record.resetAt], [0, now + 5000]);
    await a.publishPause("global", now + 3000);
    await a.publishPause("global", now + 2000); // an earlier end never shortens it
    await a.publishPause("invalid", now + 60_000);
    const p = await b.reserve(input({ id: "h3:1", hashKnown: true, limit: 10, windowMs: 1000 }));
    assert.deepStrictEqual([p?.globalUntil, p?.invalidUntil], [now + 3000, now + 60_000]);
  } finally {
    kv.close();
  }
});

Deno.test("shared state: KV failures switch sharing off for a while, with one warning", async () => {
  const { kv, clock, log, a } = await setup();
  kv.close();
  assert.deepStrictEqual(await a.reserve(input()), null);
  assert.deepStrictEqual(a.available, false);
  assert.deepStrictEqual(await a.reserve(input()), null);
  await a.publishPause("global", clock.now() + 1000);
  assert.deepStrictEqual(a.errors, 1);
  assert.deepStrictEqual(log.lines.filter((l) => l.level === "warn").length, 1);
  clock.advance(30_000);
  assert.deepStrictEqual(a.available, true);
});

Deno.test("shared state: fractional reset times (Reset-After with decimals) keep sharing on", async () => {
  const { kv, clock, a, b } = await setup();
  try {
    await a.reserve(input());
    // Discord's Reset-After has decimals: the window ends at a fractional millisecond.
    const now = clock.now();
    const rec = await a.publishProbe("PATCH /guilds/1/members/:id", "h1:1", ROUTE, "h1", {
      limit: 10,
      remaining: 9,
      resetAt: now + 1000.5,
      sendBy: now + 980.5,
      windowMs: 1000,
    });
    assert.deepStrictEqual(rec?.remaining, 9);
    const grant = await b.reserve(input({ id: "h1:1", hashKnown: true, want: 3, limit: 10 }));
    assert.ok(grant?.kind === "grant");
    assert.deepStrictEqual(grant.granted, 3);
    await a.publishPause("global", now + 250.25);
    assert.deepStrictEqual([a.errors, b.errors, a.available, b.available], [0, 0, true, true]);
  } finally {
    kv.close();
  }
});

Deno.test("shared state: learned limits are kept for other isolates; unchanged ones are not rewritten", async () => {
  const { kv, clock, a, b } = await setup();
  try {
    assert.deepStrictEqual(await b.learnedLimit(ROUTE), null);
    a.noteLimit(ROUTE, 10, 1000);
    await a.settled();
    assert.deepStrictEqual(await b.learnedLimit(ROUTE), { limit: 10, windowMs: 1000 });
    // The same facts again, or a shorter Reset-After (read mid-window): no KV write.
    const ops = a.ops;
    a.noteLimit(ROUTE, 10, 1000);
    a.noteLimit(ROUTE, 10, 400);
    await a.settled();
    assert.deepStrictEqual(a.ops, ops);
    // B read a partial window first: the stored, longer window stands.
    b.noteLimit(ROUTE, 10, 600);
    await b.settled();
    assert.deepStrictEqual(await a.learnedLimit(ROUTE), { limit: 10, windowMs: 1000 });
    // A new limit replaces the old one; an hour later unchanged facts are stored again.
    a.noteLimit(ROUTE, 5, 2000);
    await a.settled();
    assert.deepStrictEqual(await b.learnedLimit(ROUTE), { limit: 5, windowMs: 2000 });
    clock.advance(3_600_000);
    const before = a.ops;
    a.noteLimit(ROUTE, 5, 2000);
    await a.settled();
    assert.ok(a.ops > before);
  } finally {
    kv.close();
  }
});

Deno.test("shared state: a window whose first request went out late ends later for every isolate", async () => {
  const { kv, clock, a, b } = await setup();
  try {
    await a.reserve(input());
    await a.publishProbe("PATCH /guilds/1/members/:id", "h1:1", ROUTE, "h1", {
      limit: 2,
      remaining: 0,
      resetAt: clock.now() + 1000,
      sendBy: clock.now() + 980,
      windowMs: 1000,
    });
    clock.advance(1000);
    const opened = await a.reserve(
      input({ id: "h1:1", hashKnown: true, want: 2, limit: 2, windowMs: 1000 }),
    );
    assert.ok(opened?.kind === "grant" && opened.opened && opened.record.provisional);
    const provisional = opened.record.resetAt;
    // The first request waited 400 ms (the global limit, a stalled loop): Discord's window starts
    // then, so the provisional end moves, never back.
    const sentAt = clock.now() + 400;
    await a.anchorWindow("h1:1", opened.record.windowId, sentAt + 1000 + a.provisionalSlackMs);
    await a.anchorWindow("h1:1", opened.record.windowId, provisional);
    clock.advance(provisional - clock.now());
    // At the old provisional end B still finds the window running, with nothing left.
    const early = await b.reserve(input({ id: "h1:1", hashKnown: true, want: 1, limit: 2 }));
    assert.ok(early?.kind === "grant");
    assert.deepStrictEqual([early.granted, early.record.resetAt], [
      0,
      sentAt + 1000 + a.provisionalSlackMs,
    ]);
    // Once the window is exact (published from an answer), anchoring changes nothing.
    await a.publishReset("h1:1", opened.record.windowId, sentAt + 1010, sentAt + 990);
    await a.anchorWindow("h1:1", opened.record.windowId, sentAt + 5000);
    const exact = await b.reserve(input({ id: "h1:1", hashKnown: true, want: 1, limit: 2 }));
    assert.ok(exact?.kind === "grant");
    assert.deepStrictEqual(exact.record.resetAt, sentAt + 1010);
  } finally {
    kv.close();
  }
});
