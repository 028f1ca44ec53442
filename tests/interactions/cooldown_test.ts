import assert from "node:assert/strict";
import { evaluateCooldown } from "../../lib/interactions/cooldown.ts";

const SPEC = { uses: 3, perMs: 5_000 };
const T = 1_000_000;

Deno.test("cooldown: with nothing stored the first use fits and is what to store", () => {
  assert.deepStrictEqual(evaluateCooldown(null, SPEC, T, "i1"), {
    ok: true,
    next: { at: [T], ids: ["i1"] },
  });
  assert.deepStrictEqual(evaluateCooldown(undefined, SPEC, T, "i1"), {
    ok: true,
    next: { at: [T], ids: ["i1"] },
  });
});

Deno.test("cooldown: uses accumulate up to the limit, then the wait until the oldest leaves", () => {
  let stored: unknown = null;
  const use = (now: number, id: string) => {
    const r = evaluateCooldown(stored, SPEC, now, id);
    if (r.ok && "next" in r) stored = r.next;
    return r;
  };
  assert.deepStrictEqual(use(T, "a"), { ok: true, next: { at: [T], ids: ["a"] } });
  assert.deepStrictEqual(use(T + 1_000, "b"), {
    ok: true,
    next: { at: [T, T + 1_000], ids: ["a", "b"] },
  });
  assert.deepStrictEqual(use(T + 2_000, "c"), {
    ok: true,
    next: { at: [T, T + 1_000, T + 2_000], ids: ["a", "b", "c"] },
  });
  // Full: the oldest use ("a" at T) leaves the window at T + 5000.
  assert.deepStrictEqual(use(T + 3_000, "d"), { ok: false, retryAfterMs: 2_000 });
  assert.deepStrictEqual(use(T + 4_999, "d"), { ok: false, retryAfterMs: 1 });
  // A refusal stores nothing; at exactly T + 5000 "a" is out and "d" fits.
  assert.deepStrictEqual(use(T + 5_000, "d"), {
    ok: true,
    next: { at: [T + 1_000, T + 2_000, T + 5_000], ids: ["b", "c", "d"] },
  });
});

Deno.test("cooldown: a use exactly one window old has expired; one a millisecond younger has not", () => {
  const stored = { at: [T - 5_000, T - 4_999], ids: ["old", "young"] };
  const spec = { uses: 1, perMs: 5_000 };
  assert.deepStrictEqual(evaluateCooldown(stored, spec, T, "new"), { ok: false, retryAfterMs: 1 });
  assert.deepStrictEqual(evaluateCooldown(stored, { uses: 2, perMs: 5_000 }, T, "new"), {
    ok: true,
    next: { at: [T - 4_999, T], ids: ["young", "new"] },
  });
});

Deno.test("cooldown: with more uses stored than allowed, the wait is until enough have left", () => {
  // Three uses in the window (e.g. the limit was lowered); two allowed: wait for the second.
  const stored = { at: [T - 3_000, T - 2_000, T - 1_000], ids: ["a", "b", "c"] };
  assert.deepStrictEqual(evaluateCooldown(stored, { uses: 2, perMs: 5_000 }, T, "d"), {
    ok: false,
    retryAfterMs: 3_000,
  });
  assert.deepStrictEqual(evaluateCooldown(stored, { uses: 1, perMs: 5_000 }, T, "d"), {
    ok: false,
    retryAfterMs: 4_000,
  });
});

Deno.test("cooldown: a repeated delivery of a counted use is recognised, even with the window full", () => {
  const stored = { at: [T - 2_000, T - 1_000, T - 500], ids: ["a", "b", "c"] };
  for (const id of ["a", "b", "c"]) {
    assert.deepStrictEqual(evaluateCooldown(stored, SPEC, T, id), { ok: true, repeat: true }, id);
  }
  assert.deepStrictEqual(evaluateCooldown(stored, SPEC, T, "d"), {
    ok: false,
    retryAfterMs: 3_000,
  });
  // Once its use has left the window the same id counts as a new use.
  assert.deepStrictEqual(evaluateCooldown({ at: [T - 5_000], ids: ["a"] }, SPEC, T, "a"), {
    ok: true,
    next: { at: [T], ids: ["a"] },
  });
});

Deno.test("cooldown: a malformed stored value counts as no uses", () => {
  for (
    const stored of [
      "3 uses",
      42,
      [T],
      { at: [T, T], ids: ["a"] }, // lengths differ
      { at: ["x"], ids: ["a"] },
      { at: [T], ids: [1] },
      { at: [T] },
    ]
  ) {
    assert.deepStrictEqual(
      evaluateCooldown(stored, { uses: 1, perMs: 5_000 }, T, "n"),
      { ok: true, next: { at: [T], ids: ["n"] } },
      JSON.stringify(stored),
    );
  }
});
