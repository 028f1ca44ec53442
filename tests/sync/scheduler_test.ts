import assert from "node:assert/strict";
import {
  type LaneRates,
  makespanOf,
  PagedSplit,
  splitCounts,
  splitWrites,
  syncLowerBound,
  windowedMs,
} from "../../lib/sync/scheduler.ts";

const discordLike: LaneRates = { patch: 1, role: 1, global: 50 };
const uniform50: LaneRates = { patch: 50, role: 50, global: 50 };

/** Brute force over every subset (small n) to check the prefix rule finds the optimum. */
function bruteForce(ks: number[], rates: LaneRates): number {
  let best = Infinity;
  for (let mask = 0; mask < 1 << ks.length; mask++) {
    let p = 0;
    let r = 0;
    ks.forEach((k, i) => (mask & (1 << i) ? (r += k) : (p += 1)));
    best = Math.min(best, makespanOf(p, r, rates).makespan);
  }
  return best;
}

Deno.test("scheduler: table of splits", () => {
  const table: [
    string,
    number[],
    LaneRates,
    { patch: number; role: number; makespan: number; binding: string },
  ][] = [
    ["nothing to write", [], discordLike, { patch: 0, role: 0, makespan: 0, binding: "none" }],
    ["one member, one change: role route (no re-read)", [1], discordLike, {
      patch: 0,
      role: 1,
      makespan: 1,
      binding: "role",
    }],
    ["one member, two changes: PATCH", [2], discordLike, {
      patch: 1,
      role: 0,
      makespan: 1,
      binding: "patch",
    }],
    ["Discord-like, all k=1: half and half", [1, 1, 1, 1, 1, 1], discordLike, {
      patch: 3,
      role: 3,
      makespan: 3,
      binding: "patch",
    }],
    ["Discord-like, mixed: fewest changes to the role route", [2, 1, 2, 1, 2, 1], discordLike, {
      patch: 3,
      role: 3,
      makespan: 3,
      binding: "patch",
    }],
    ["Discord-like, all k=2: 2/3 PATCH", [2, 2, 2, 2, 2, 2], discordLike, {
      patch: 4,
      role: 4,
      makespan: 4,
      binding: "patch",
    }],
    ["uniform 50/s: global binds, one call per member", [2, 2, 1, 3, 1], uniform50, {
      patch: 3,
      role: 2,
      makespan: 5 / 50,
      binding: "global",
    }],
  ];
  for (const [name, ks, rates, want] of table) {
    const s = splitWrites(ks, rates);
    assert.deepStrictEqual(
      { patch: s.patchCalls, role: s.roleCalls, makespan: s.makespan, binding: s.binding },
      want,
      name,
    );
  }
});

Deno.test("scheduler: the prefix of the k-sorted members is optimal (brute force)", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const rateSets: LaneRates[] = [
    discordLike,
    uniform50,
    { patch: 1, role: 2, global: 50 },
    { patch: 5, role: 1, global: 4 },
    { patch: 10, role: 10, global: 12 },
  ];
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rnd() * 10);
    const ks = Array.from({ length: n }, () => 1 + Math.floor(rnd() * 4));
    const rates = rateSets[trial % rateSets.length];
    const s = splitWrites(ks, rates);
    const best = bruteForce(ks, rates);
    assert.ok(Math.abs(s.makespan - best) < 1e-9, `ks=${ks} rates=${JSON.stringify(rates)}`);
    // The split it reports is the one it computed.
    const p = s.toRole.filter((x) => !x).length;
    const r = ks.reduce((a, k, i) => a + (s.toRole[i] ? k : 0), 0);
    assert.deepStrictEqual([p, r], [s.patchCalls, s.roleCalls]);
  }
});

Deno.test("scheduler: members with no change get no write", () => {
  const s = splitWrites([0, 1, 0, 2], discordLike);
  assert.deepStrictEqual(s.toRole[0], false);
  assert.deepStrictEqual(s.toRole[2], false);
  assert.deepStrictEqual(s.patchCalls + s.roleCalls, 2);
});

Deno.test("scheduler: backlog moves new work to the idle lane", () => {
  const s = splitWrites([1, 1, 1, 1], discordLike, { patch: 10, role: 0, global: 0 });
  assert.deepStrictEqual(s.roleCalls, 4);
  assert.deepStrictEqual(s.patchCalls, 0);
  const t = splitWrites([2, 2], discordLike, { patch: 0, role: 10, global: 0 });
  assert.deepStrictEqual(t.patchCalls, 2);
});

Deno.test("scheduler: windowed time and the lower bound", () => {
  assert.deepStrictEqual(windowedMs(0, 10, 10_000), 0);
  assert.deepStrictEqual(windowedMs(10, 10, 10_000), 0);
  assert.deepStrictEqual(windowedMs(11, 10, 10_000), 10_000);
  assert.deepStrictEqual(windowedMs(100, 10, 10_000), 90_000);
  // 40 members with one change and 20 with two, Discord-like buckets.
  const ks = [...Array(40).fill(1), ...Array(20).fill(2)];
  const b = syncLowerBound(ks, 200, {
    patch: { limit: 10, windowMs: 10_000 },
    role: { limit: 10, windowMs: 10_000 },
    list: { limit: 10, windowMs: 10_000 },
    global: 50,
  });
  assert.deepStrictEqual(b.patchCalls + b.roleCalls >= 60, true);
  // 30 per lane is the balanced split of 60 calls with 40 k=1 members available to the role lane.
  assert.deepStrictEqual([b.patchCalls, b.roleCalls], [30, 30]);
  assert.deepStrictEqual(b.ms, 20_000);
  assert.deepStrictEqual(b.listCalls, 1);
  // All 50/s: the global limit binds, one call per member.
  const u = syncLowerBound(ks, 200, {
    patch: { limit: 50, windowMs: 1000 },
    role: { limit: 50, windowMs: 1000 },
    list: { limit: 50, windowMs: 1000 },
    global: 50,
  });
  assert.deepStrictEqual(u.patchCalls + u.roleCalls, 60);
  assert.deepStrictEqual(u.binding, "global");
});

/** A small deterministic generator, so the cases below are the same on every run. */
function lcg(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function histogram(changes: readonly number[]): number[] {
  const counts: number[] = [];
  for (const k of changes) counts[k] = (counts[k] ?? 0) + 1;
  return Array.from(counts, (c) => c ?? 0);
}

Deno.test("scheduler: the split by class equals the split by member", () => {
  const r = lcg(11);
  for (let i = 0; i < 200; i++) {
    const rates = { patch: 0.5 + r(), role: 0.5 + r(), global: r() < 0.3 ? 0.5 + r() : 50 };
    const backlog = { patch: Math.floor(r() * 20), role: Math.floor(r() * 20), global: 0 };
    const changes = Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 5));
    const byMember = splitWrites(changes, rates, backlog);
    const byClass = splitCounts(histogram(changes), rates, backlog);
    assert.deepStrictEqual(
      [byClass.patchCalls, byClass.roleCalls, byClass.binding],
      [byMember.patchCalls, byMember.roleCalls, byMember.binding],
      `case ${i}`,
    );
    assert.ok(Math.abs(byClass.makespan - byMember.makespan) < 1e-9);
  }
});

Deno.test("scheduler: page by page, a run makes the whole-run optimum's calls", () => {
  // Like a guild: every page drawn from the same mix of change counts, two equal write buckets.
  const r = lcg(7);
  const rates = { patch: 1, role: 1, global: 50 };
  for (const share1 of [0.25, 0.45, 0.6]) {
    const pages = Array.from({ length: 100 }, () =>
      Array.from({ length: 1000 }, () => {
        const x = r();
        return x < 0.63 ? 0 : x < 0.63 + 0.37 * share1 ? 1 : r() < 0.9 ? 2 : 3;
      }));
    const paged = new PagedSplit(rates);
    let patch = 0;
    let role = 0;
    for (const page of pages) {
      const s = paged.split(page);
      assert.deepStrictEqual(s.toRole.filter((x, i) => x && page[i] === 0).length, 0);
      patch += s.patchCalls;
      role += s.roleCalls;
    }
    const best = splitWrites(pages.flat(), rates);
    assert.deepStrictEqual(patch + role, best.patchCalls + best.roleCalls, `share ${share1}`);
    assert.ok(Math.max(patch, role) <= best.makespan + 1, `share ${share1}: lanes end together`);
  }
});

Deno.test("scheduler: a page never takes back what earlier pages gave the role route", () => {
  const paged = new PagedSplit({ patch: 1, role: 1, global: 50 });
  // First pages: only two-change members, half go by role calls to balance the lanes.
  const first = paged.split(Array(30).fill(2));
  assert.ok(first.roleCalls > 0);
  // Then one-change members arrive: the optimum would rather have moved them; the two-change
  // members already sent stay where they are and the new ones fill the role route.
  const later = paged.split(Array(30).fill(1));
  assert.deepStrictEqual(later.toRole.filter(Boolean).length + later.patchCalls, 30);
  assert.ok(later.roleCalls <= 30);
});
