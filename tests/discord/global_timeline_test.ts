/**
 * The global send timeline as data (lib/discord/global_timeline.ts): how a claim books it, alone
 * or with others, leaving it, and what the status page reads from it.
 */
import assert from "node:assert/strict";
import {
  ACTIVE_MS,
  type ClaimAsk,
  isTimeline,
  MAX_AHEAD_MS,
  planClaim,
  timelineView,
  withoutClaimant,
} from "../../lib/discord/global_timeline.ts";

const NOW = 1_000_000;
const ask = (over: Partial<ClaimAsk> = {}): ClaimAsk => ({
  id: "me",
  want: 3,
  intervalMs: 20,
  horizonMs: 200,
  leadMs: 5,
  ...over,
});

Deno.test("global timeline: alone, a claim books the whole horizon from just ahead of now", () => {
  assert.deepStrictEqual(planClaim(null, NOW, ask()), {
    kind: "book",
    start: NOW + 5,
    n: 10,
    alone: true,
    next: { tat: NOW + 5 + 200, claimants: { me: NOW } },
  });
  // Booked ahead already (its own earlier claim): it goes on from there.
  const mine = { tat: NOW + 50, claimants: { me: NOW - 100 } };
  const plan = planClaim(mine, NOW, ask());
  assert.ok(plan.kind === "book");
  assert.deepStrictEqual([plan.start, plan.n, plan.alone], [NOW + 50, 10, true]);
});

Deno.test("global timeline: with others, consecutive slots for what is ready, within the horizon", () => {
  const shared = { tat: NOW + 40, claimants: { other: NOW - 500 } };
  assert.deepStrictEqual(planClaim(shared, NOW, ask()), {
    kind: "book",
    start: NOW + 40,
    n: 3,
    alone: false,
    next: { tat: NOW + 100, claimants: { me: NOW, other: NOW - 500 } },
  });
  // Near the horizon: only what fits before it, but always one.
  const late = { tat: NOW + 170, claimants: { other: NOW } };
  const near = planClaim(late, NOW, ask({ want: 10 }));
  assert.ok(near.kind === "book");
  assert.equal(near.n, 1);
  const edge = planClaim({ tat: NOW + 199, claimants: { other: NOW } }, NOW, ask({ want: 10 }));
  assert.ok(edge.kind === "book");
  assert.equal(edge.n, 1);
});

Deno.test("global timeline: booked past the horizon, the claim waits until it is back within", () => {
  assert.deepStrictEqual(
    planClaim({ tat: NOW + 500, claimants: { other: NOW } }, NOW, ask()),
    { kind: "wait", ms: 300 },
  );
  // A slow round trip widens the horizon: lead + one interval.
  assert.deepStrictEqual(
    planClaim({ tat: NOW + 500, claimants: { other: NOW } }, NOW, ask({ leadMs: 250 })),
    { kind: "wait", ms: 230 },
  );
});

Deno.test("global timeline: quiet claimants leave the list; a timeline too far ahead is reset", () => {
  const rec = {
    tat: NOW + 10,
    claimants: { gone: NOW - ACTIVE_MS, recent: NOW - ACTIVE_MS + 1, me: NOW - 5_000 },
  };
  const plan = planClaim(rec, NOW, ask());
  assert.ok(plan.kind === "book");
  assert.deepStrictEqual(plan.next.claimants, { me: NOW, recent: NOW - ACTIVE_MS + 1 });
  assert.equal(plan.alone, false);
  const skewed = planClaim({ tat: NOW + MAX_AHEAD_MS, claimants: { other: NOW } }, NOW, ask());
  assert.ok(skewed.kind === "book");
  assert.deepStrictEqual([skewed.start, skewed.alone], [NOW + 5, true]);
  for (
    const junk of [undefined, "x", { tat: "1", claimants: {} }, { tat: Infinity, claimants: {} }]
  ) {
    assert.equal(isTimeline(junk), false);
    assert.equal(planClaim(junk, NOW, ask()).kind, "book");
  }
});

Deno.test("global timeline: leaving removes only this client, and only when it is listed", () => {
  const rec = { tat: NOW, claimants: { me: NOW - 1, other: NOW - 2 } };
  assert.deepStrictEqual(withoutClaimant(rec, "me"), { tat: NOW, claimants: { other: NOW - 2 } });
  assert.deepStrictEqual(rec.claimants, { me: NOW - 1, other: NOW - 2 }, "the read is unchanged");
  assert.equal(withoutClaimant(rec, "stranger"), null);
  assert.equal(withoutClaimant(null, "me"), null);
});

Deno.test("global timeline: the status page sees active clients and how far ahead it is booked", () => {
  const rec = { tat: NOW + 123.6, claimants: { a: NOW - 100, b: NOW - 3_000, c: NOW - 1 } };
  assert.deepStrictEqual(timelineView(rec, NOW), { clients: 2, bookedAheadMs: 124 });
  assert.deepStrictEqual(timelineView({ tat: NOW - 50, claimants: {} }, NOW), {
    clients: 0,
    bookedAheadMs: 0,
  });
  assert.deepStrictEqual(timelineView(null, NOW), { clients: 0, bookedAheadMs: 0 });
});
