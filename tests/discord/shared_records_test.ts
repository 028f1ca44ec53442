/**
 * Changes to the bucket records isolates share (lib/discord/shared_records.ts), as tables: the
 * record read, the time and the change in, the next record out. No KV.
 */
import assert from "node:assert/strict";
import {
  isLearned,
  isRecord,
  mergeLearned,
  reserve,
  type SharedRecord,
  unlimitedRecord,
  untilOf,
  type WindowTiming,
  withAnchor,
  withExactReset,
  withLate,
  withPause,
  withProbe,
} from "../../lib/discord/shared_records.ts";

const NOW = 1_000_000;
const timing: WindowTiming = { probeTtlMs: 2_000, slackMs: 250, marginMs: 10 };

/** Ids in order ("w1", "w2", ...), counting how many were drawn. */
function ids() {
  let n = 0;
  const newId = () => `w${++n}`;
  return { newId, drawn: () => n };
}

const live = (over: Partial<SharedRecord> = {}): SharedRecord => ({
  limit: 5,
  remaining: 3,
  resetAt: NOW + 500,
  sendBy: NOW + 400,
  windowMs: 1_000,
  provisional: false,
  windowId: "w0",
  ...over,
});

Deno.test("shared records: nobody knows the bucket: one probe, holding the others back", () => {
  const { newId, drawn } = ids();
  assert.deepStrictEqual(reserve(null, { want: 5, limit: 0, windowMs: 0 }, NOW, timing, newId), {
    kind: "take",
    granted: 1,
    probe: true,
    opened: true,
    next: {
      limit: 0,
      remaining: 0,
      resetAt: NOW + 2_000,
      windowMs: 0,
      provisional: true,
      windowId: "w1",
      probing: true,
    },
  });
  assert.equal(drawn(), 1);
  // While it probes, the others wait on its record.
  const probing = live({ probing: true, limit: 0, remaining: 0, resetAt: NOW + 2_000 });
  assert.deepStrictEqual(
    reserve(probing, { want: 5, limit: 0, windowMs: 0 }, NOW + 10, timing, newId),
    { kind: "wait", record: probing },
  );
  assert.equal(drawn(), 1, "no id for a wait");
});

Deno.test("shared records: a known limit opens a provisional window with what is wanted", () => {
  const { newId } = ids();
  const r = reserve(null, { want: 3, limit: 10, windowMs: 1_000 }, NOW, timing, newId);
  assert.deepStrictEqual(r, {
    kind: "take",
    granted: 3,
    probe: false,
    opened: true,
    next: {
      limit: 10,
      remaining: 7,
      resetAt: NOW + 1_250,
      sendBy: NOW + 990,
      windowMs: 1_000,
      provisional: true,
      windowId: "w1",
    },
  });
  // The ended window's limit and longer window serve when the caller knows none.
  const ended = live({ resetAt: NOW - 1, limit: 4, windowMs: 2_000 });
  const r2 = reserve(ended, { want: 9, limit: 0, windowMs: 0 }, NOW, timing, newId);
  assert.ok(r2.kind === "take");
  assert.deepStrictEqual([r2.granted, r2.next.remaining, r2.next.limit, r2.next.windowMs], [
    4,
    0,
    4,
    2_000,
  ]);
  // No window length known anywhere: a second.
  const r3 = reserve(null, { want: 1, limit: 2, windowMs: 0 }, NOW, timing, newId);
  assert.ok(r3.kind === "take");
  assert.equal(r3.next.windowMs, 1_000);
});

Deno.test("shared records: late requests of the ended window take the new one's slots", () => {
  const { newId } = ids();
  const ended = live({ resetAt: NOW - 5, late: 2, lateFrom: NOW - 30 });
  const r = reserve(ended, { want: 5, limit: 5, windowMs: 1_000 }, NOW, timing, newId);
  assert.ok(r.kind === "take");
  assert.equal(r.granted, 3);
  assert.equal(r.next.remaining, 0);
  // The window opened when the first late request went out.
  assert.equal(r.next.sendBy, NOW - 30 + 1_000 - 10);
  assert.equal(r.next.late, undefined, "the new window starts with none late");
  // All slots carried: nothing granted, the window still opens.
  const full = live({ resetAt: NOW - 5, late: 7, lateFrom: NOW - 30 });
  const r2 = reserve(full, { want: 5, limit: 5, windowMs: 1_000 }, NOW, timing, newId);
  assert.ok(r2.kind === "take");
  assert.deepStrictEqual([r2.granted, r2.next.remaining, r2.opened], [0, 0, true]);
});

Deno.test("shared records: the live window grants what it has left, until its send-by time", () => {
  const { newId, drawn } = ids();
  const rec = live();
  const r = reserve(rec, { want: 5, limit: 5, windowMs: 1_000 }, NOW, timing, newId);
  assert.deepStrictEqual(r, {
    kind: "take",
    granted: 3,
    probe: false,
    opened: false,
    next: { ...rec, remaining: 0 },
  });
  const one = reserve(rec, { want: 1, limit: 5, windowMs: 1_000 }, NOW, timing, newId);
  assert.ok(one.kind === "take");
  assert.equal(one.next.remaining, 2);
  assert.deepStrictEqual(
    reserve(live({ remaining: 0 }), { want: 1, limit: 5, windowMs: 1 }, NOW, timing, newId),
    { kind: "wait", record: live({ remaining: 0 }) },
  );
  assert.deepStrictEqual(
    reserve(rec, { want: 1, limit: 5, windowMs: 1 }, NOW + 400, timing, newId),
    { kind: "wait", record: rec },
    "past send-by",
  );
  // A record from before send-by existed grants until its end.
  const old = live({ sendBy: undefined });
  assert.equal(
    reserve(old, { want: 1, limit: 5, windowMs: 1 }, NOW + 499, timing, newId).kind,
    "take",
  );
  assert.equal(drawn(), 0, "a live window draws no id");
});

Deno.test("shared records: an unlimited route stays so until its record ends", () => {
  const { newId } = ids();
  const rec = unlimitedRecord(NOW, newId);
  assert.deepStrictEqual(rec, {
    limit: 0,
    remaining: 0,
    resetAt: NOW + 600_000,
    windowMs: 0,
    provisional: false,
    windowId: "w1",
    unlimited: true,
  });
  const ask = { want: 1, limit: 5, windowMs: 1_000 };
  assert.deepStrictEqual(reserve(rec, ask, NOW + 599_999, timing, newId), { kind: "unlimited" });
  const after = reserve(rec, ask, NOW + 600_000, timing, newId);
  assert.ok(after.kind === "take" && after.opened, "then a window opens as for any bucket");
});

Deno.test("shared records: a probe's answer refines the live window or starts a new one", () => {
  const { newId, drawn } = ids();
  const obs = { limit: 5, remaining: 4, resetAt: NOW + 900, sendBy: NOW + 880, windowMs: 1_000 };
  // Provisional: the exact end replaces it.
  const provisional = live({ provisional: true, resetAt: NOW + 1_250, sendBy: NOW + 990 });
  assert.deepStrictEqual(withProbe(provisional, obs, NOW, newId), {
    ...provisional,
    remaining: 3,
    resetAt: NOW + 900,
    sendBy: NOW + 880,
    provisional: false,
  });
  // Exact already: the earlier end stands; never more slots than either side knows.
  const exact = live({ remaining: 9, resetAt: NOW + 800, sendBy: NOW + 700, windowMs: 2_000 });
  assert.deepStrictEqual(withProbe(exact, obs, NOW, newId), {
    ...exact,
    remaining: 4,
    resetAt: NOW + 800,
    sendBy: NOW + 700,
    windowMs: 2_000,
  });
  assert.equal(drawn(), 0);
  // Probing, ended or absent: a new window from the answer.
  const fresh = {
    limit: 5,
    remaining: 4,
    resetAt: NOW + 900,
    sendBy: NOW + 880,
    windowMs: 1_000,
    provisional: false,
    windowId: "w1",
  };
  assert.deepStrictEqual(withProbe(null, obs, NOW, newId), fresh);
  const probing = live({ probing: true, windowMs: 3_000 });
  assert.deepStrictEqual(withProbe(probing, obs, NOW, newId), {
    ...fresh,
    windowMs: 3_000,
    windowId: "w2",
  });
  assert.equal(withProbe(live({ resetAt: NOW }), obs, NOW, newId).windowId, "w3");
  assert.equal(withProbe(null, { ...obs, remaining: -1 }, NOW, newId).remaining, 0);
});

Deno.test("shared records: anchoring and the exact reset apply only to our provisional window", () => {
  const mine = live({ provisional: true, resetAt: NOW + 1_000, windowId: "mine" });
  assert.deepStrictEqual(withAnchor(mine, "mine", NOW + 1_200), { ...mine, resetAt: NOW + 1_200 });
  assert.equal(withAnchor(mine, "mine", NOW + 1_000), null, "not later: nothing to do");
  assert.equal(withAnchor(mine, "other", NOW + 1_200), null);
  assert.equal(withAnchor({ ...mine, provisional: false }, "mine", NOW + 1_200), null);
  assert.equal(withAnchor(null, "mine", NOW + 1_200), null);

  assert.deepStrictEqual(withExactReset(mine, "mine", NOW + 900, NOW + 850), {
    ...mine,
    resetAt: NOW + 900,
    sendBy: NOW + 400,
    provisional: false,
  });
  assert.deepStrictEqual(withExactReset(mine, "mine", NOW + 2_000, NOW + 100), {
    ...mine,
    resetAt: NOW + 1_000,
    sendBy: NOW + 100,
    provisional: false,
  });
  assert.equal(withExactReset(mine, "other", NOW + 900, NOW + 850), null);
  assert.equal(withExactReset({ ...mine, provisional: false }, "mine", NOW, NOW), null);
  assert.equal(withExactReset(null, "mine", NOW, NOW), null);
});

Deno.test("shared records: a late request counts in the next window, or takes a later one's slot", () => {
  const rec = live({ windowId: "a" });
  assert.deepStrictEqual(withLate(rec, "a", NOW - 20, NOW), {
    ...rec,
    late: 1,
    lateFrom: NOW - 20,
  });
  const twice = withLate({ ...rec, late: 1, lateFrom: NOW - 20 }, "a", NOW - 50, NOW);
  assert.deepStrictEqual([twice?.late, twice?.lateFrom], [2, NOW - 50]);
  // Its window ended and no other opened yet: the record still counts it for the next.
  assert.equal(withLate(rec, "old", NOW - 20, NOW + 500)?.late, 1);
  // A later window is open: one slot fewer in it.
  assert.deepStrictEqual(withLate(rec, "old", NOW - 20, NOW), { ...rec, remaining: 2 });
  assert.equal(withLate(live({ remaining: 0 }), "old", NOW, NOW)?.remaining, 0);
  assert.equal(withLate(null, "a", NOW, NOW), null);
  assert.equal(withLate(live({ probing: true }), "w0", NOW, NOW), null);
  assert.equal(withLate(live({ unlimited: true }), "w0", NOW, NOW), null);
});

Deno.test("shared records: a 429 empties the live window until its retry time, or opens one", () => {
  const { newId, drawn } = ids();
  const rec = live();
  assert.deepStrictEqual(withPause(rec, NOW + 2_000, 9, 500, NOW, newId), {
    ...rec,
    remaining: 0,
    resetAt: NOW + 2_000,
    provisional: false,
  });
  assert.equal(withPause(rec, NOW + 100, 9, 500, NOW, newId).resetAt, NOW + 500, "never earlier");
  assert.equal(drawn(), 0);
  assert.deepStrictEqual(withPause(null, NOW + 2_000, 0, 1_000, NOW, newId), {
    limit: 1,
    remaining: 0,
    resetAt: NOW + 2_000,
    windowMs: 1_000,
    provisional: false,
    windowId: "w1",
  });
  // A probe's record is replaced, not kept.
  const probing = live({ probing: true, windowMs: 3_000 });
  const paused = withPause(probing, NOW + 2_000, 5, 1_000, NOW, newId);
  assert.deepStrictEqual(
    [paused.limit, paused.windowMs, paused.windowId, paused.probing],
    [5, 3_000, "w2", undefined],
  );
});

Deno.test("shared records: learned limits keep the longest window for the same limit", () => {
  const next = { limit: 5, windowMs: 1_000, at: NOW };
  assert.deepStrictEqual(mergeLearned(null, next), next);
  assert.deepStrictEqual(mergeLearned({ limit: 5, windowMs: 2_000, at: 0 }, next), {
    ...next,
    windowMs: 2_000,
  });
  assert.deepStrictEqual(mergeLearned({ limit: 10, windowMs: 2_000, at: 0 }, next), next);
});

Deno.test("shared records: what is read from KV is checked before use", () => {
  assert.ok(isRecord(live()));
  for (const bad of [null, 1, "x", {}, { remaining: 1, resetAt: 2 }, { ...live(), windowId: 3 }]) {
    assert.equal(isRecord(bad), false, JSON.stringify(bad));
  }
  assert.ok(isLearned({ limit: 5, windowMs: 1_000, at: 0 }));
  for (
    const bad of [null, { limit: 0, windowMs: 1, at: 0 }, { limit: 5, windowMs: 0, at: 0 }, {
      limit: 5,
      windowMs: 1,
    }]
  ) {
    assert.equal(isLearned(bad), false, JSON.stringify(bad));
  }
  assert.equal(untilOf({ until: 42 }), 42);
  assert.equal(untilOf(null), 0);
  assert.equal(untilOf({ until: "42" }), 0);
});
