/**
 * Per-guild backup schedules (lib/backup/schedule.ts): turning them on and off, the range of
 * hours, due times in plain UTC milliseconds, the atomic claim of a due run (one winner, no burst
 * after an outage), results, and entries of the wrong shape.
 */
import assert from "node:assert/strict";
import { keys } from "../../lib/kv/keys.ts";
import {
  claimDue,
  getSchedule,
  listSchedules,
  MAX_HOURS,
  MIN_HOURS,
  recordResult,
  type Schedule,
  setSchedule,
} from "../../lib/backup/schedule.ts";
import { withKv } from "../kv/_kv.ts";
import { assertSays, thrown } from "./_refusal.ts";

const G = "200000000000000001";
const G2 = "200000000000000002";
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 12);

Deno.test("schedule: none until set; enabling sets the first run one interval from now", async () => {
  await withKv(async (kv) => {
    assert.deepStrictEqual(await getSchedule(kv, G), null);
    const s = await setSchedule(kv, G, { enabled: true, hours: 6 }, "310000000000000001", T0);
    const want: Schedule = {
      enabled: true,
      hours: 6,
      nextAt: T0 + 6 * HOUR,
      lastRunAt: null,
      lastResult: null,
      updatedBy: "310000000000000001",
      updatedAt: T0,
    };
    assert.deepStrictEqual(s, want);
    assert.deepStrictEqual(await getSchedule(kv, G), want);
    assert.deepStrictEqual(await getSchedule(kv, G2), null, "per guild");
  });
});

Deno.test("schedule: due times are whole hours of UTC milliseconds (no daylight saving shift)", async () => {
  await withKv(async (kv) => {
    // 29 March 2026: clocks go forward in Europe. 24 h later is still 00:30 UTC the next day.
    const at = Date.UTC(2026, 2, 29, 0, 30);
    const day = await setSchedule(kv, G, { enabled: true, hours: 24 }, "1", at);
    assert.deepStrictEqual(new Date(day.nextAt).toISOString(), "2026-03-30T00:30:00.000Z");
    // The longest interval: a week to the millisecond, across the change of month.
    const week = await setSchedule(kv, G, { enabled: true, hours: MAX_HOURS }, "1", at + 7);
    assert.deepStrictEqual(week.nextAt, at + 7 + 7 * 24 * HOUR);
    assert.deepStrictEqual(new Date(week.nextAt).toISOString(), "2026-04-05T00:30:00.007Z");
  });
});

Deno.test("schedule: hours must be a whole number from 1 to 168; a refused change stores nothing", async () => {
  await withKv(async (kv) => {
    for (const hours of [0, -1, MAX_HOURS + 1, 1.5, NaN, Infinity]) {
      await assert.rejects(
        () => setSchedule(kv, G, { enabled: true, hours }, "1", T0),
        (e) => e instanceof RangeError && e.message.includes("whole number from 1 to 168"),
      );
    }
    assert.deepStrictEqual(await getSchedule(kv, G), null);
    assert.deepStrictEqual(
      (await setSchedule(kv, G, { enabled: true, hours: MIN_HOURS }, "1", T0)).hours,
      1,
    );
    assert.deepStrictEqual(
      (await setSchedule(kv, G, { enabled: true, hours: MAX_HOURS }, "1", T0)).hours,
      168,
    );
  });
});

Deno.test("schedule: disabling keeps the interval, next time and history; re-enabling restarts from now", async () => {
  await withKv(async (kv) => {
    await setSchedule(kv, G, { enabled: true, hours: 6 }, "1", T0);
    assert.deepStrictEqual(await claimDue(kv, G, T0 + 6 * HOUR), true);
    await recordResult(kv, G, "created abc");
    const off = await setSchedule(kv, G, { enabled: false }, "2", T0 + 7 * HOUR);
    assert.deepStrictEqual(off, {
      enabled: false,
      hours: 6,
      nextAt: T0 + 12 * HOUR,
      lastRunAt: T0 + 6 * HOUR,
      lastResult: "created abc",
      updatedBy: "2",
      updatedAt: T0 + 7 * HOUR,
    });
    // Disabled: never claimed, however late.
    assert.deepStrictEqual(await claimDue(kv, G, T0 + 100 * HOUR), false);
    assert.deepStrictEqual((await getSchedule(kv, G))!.lastRunAt, T0 + 6 * HOUR);

    const on = await setSchedule(kv, G, { enabled: true, hours: 2 }, "3", T0 + 100 * HOUR);
    assert.deepStrictEqual(
      on.nextAt,
      T0 + 102 * HOUR,
      "one new interval from now, not the old next time",
    );
    assert.deepStrictEqual(on.lastResult, "created abc");
    assert.deepStrictEqual(on.lastRunAt, T0 + 6 * HOUR);
  });
});

Deno.test("schedule: disabling a guild that never had a schedule stores an off schedule of 24 h", async () => {
  await withKv(async (kv) => {
    const s = await setSchedule(kv, G, { enabled: false }, "1", T0);
    assert.deepStrictEqual(s, {
      enabled: false,
      hours: 24,
      nextAt: T0,
      lastRunAt: null,
      lastResult: null,
      updatedBy: "1",
      updatedAt: T0,
    });
    assert.deepStrictEqual(await claimDue(kv, G, T0), false);
  });
});

Deno.test("schedule: a run is claimed once it is due, from exactly its time, and moves the next one", async () => {
  await withKv(async (kv) => {
    assert.deepStrictEqual(await claimDue(kv, G, T0), false, "no schedule");
    await setSchedule(kv, G, { enabled: true, hours: 6 }, "1", T0);
    assert.deepStrictEqual(
      await claimDue(kv, G, T0 + 6 * HOUR - 1),
      false,
      "one millisecond early",
    );
    assert.deepStrictEqual(await claimDue(kv, G, T0 + 6 * HOUR), true);
    const s = (await getSchedule(kv, G))!;
    assert.deepStrictEqual(s.lastRunAt, T0 + 6 * HOUR);
    assert.deepStrictEqual(s.nextAt, T0 + 12 * HOUR);
    assert.deepStrictEqual(s.updatedAt, T0, "a claim is not a settings change");
    assert.deepStrictEqual(await claimDue(kv, G, T0 + 6 * HOUR), false, "claimed: not due again");
  });
});

Deno.test("schedule: after a long outage one run is claimed and the next is one interval later", async () => {
  await withKv(async (kv) => {
    await setSchedule(kv, G, { enabled: true, hours: 1 }, "1", T0);
    const late = T0 + 10 * 24 * HOUR + 123; // 240 runs missed
    assert.deepStrictEqual(await claimDue(kv, G, late), true);
    assert.deepStrictEqual(await claimDue(kv, G, late), false, "no burst of missed runs");
    assert.deepStrictEqual(await claimDue(kv, G, late + HOUR - 1), false);
    assert.deepStrictEqual((await getSchedule(kv, G))!.nextAt, late + HOUR);
    assert.deepStrictEqual(await claimDue(kv, G, late + HOUR), true);
  });
});

Deno.test("schedule: of callers claiming the same due run at once, exactly one wins", async () => {
  await withKv(async (kv) => {
    await setSchedule(kv, G, { enabled: true, hours: 6 }, "1", T0);
    const now = T0 + 6 * HOUR;
    const wins = await Promise.all(Array.from({ length: 5 }, () => claimDue(kv, G, now)));
    assert.deepStrictEqual(wins.filter(Boolean).length, 1);
    assert.deepStrictEqual((await getSchedule(kv, G))!.nextAt, now + 6 * HOUR);
  });
});

Deno.test("schedule: a result is recorded (200 characters at most), and only on a schedule", async () => {
  await withKv(async (kv) => {
    await recordResult(kv, G, "created x");
    assert.deepStrictEqual(await getSchedule(kv, G), null, "no schedule: nothing is created");
    const before = await setSchedule(kv, G, { enabled: true, hours: 6 }, "1", T0);
    await recordResult(kv, G, "skipped: feature off");
    assert.deepStrictEqual(await getSchedule(kv, G), {
      ...before,
      lastResult: "skipped: feature off",
    });
    await recordResult(kv, G, "e".repeat(500));
    assert.deepStrictEqual((await getSchedule(kv, G))!.lastResult, "e".repeat(200));
  });
});

Deno.test("schedule: entries of the wrong shape read as none, are never claimed and are not listed", async () => {
  await withKv(async (kv) => {
    const good = await setSchedule(kv, G, { enabled: true, hours: 6 }, "1", T0);
    const bad = [
      { ...good, hours: 0 },
      { ...good, hours: 2.5 },
      { ...good, hours: MAX_HOURS + 1 },
      { ...good, enabled: "yes" },
      { ...good, nextAt: String(T0) },
      { enabled: true, hours: 6, nextAt: T0 }, // fields missing
      "every 6 hours",
    ];
    const ids = bad.map((_, i) => `2000000000000001${String(i).padStart(2, "0")}`);
    for (const [i, value] of bad.entries()) await kv.set(keys.backupSchedule(ids[i]), value);
    await setSchedule(kv, G2, { enabled: false }, "1", T0);

    for (const id of ids) {
      assert.deepStrictEqual(await getSchedule(kv, id), null);
      assert.deepStrictEqual(await claimDue(kv, id, T0 + 100 * HOUR), false);
    }
    // recordResult leaves them as they are.
    await recordResult(kv, ids[0], "x");
    assert.deepStrictEqual((await kv.get(keys.backupSchedule(ids[0]))).value, bad[0]);

    const listed = await listSchedules(kv);
    assert.deepStrictEqual(listed.map((l) => l.guildId).sort(), [G, G2]);
    assert.deepStrictEqual(listed.find((l) => l.guildId === G)!.schedule, good);
    assert.deepStrictEqual(listed.find((l) => l.guildId === G2)!.schedule.enabled, false);
  });
});

Deno.test("schedule: a bad stored entry is replaced by the next valid change", async () => {
  await withKv(async (kv) => {
    await kv.set(keys.backupSchedule(G), { enabled: true, hours: "six" });
    // Disabling falls back to the defaults, as for a guild with no schedule.
    const off = await setSchedule(kv, G, { enabled: false }, "1", T0);
    assert.deepStrictEqual([off.hours, off.nextAt, off.lastRunAt], [24, T0, null]);
    assert.deepStrictEqual(await getSchedule(kv, G), off);
  });
});

Deno.test("schedule: enabling again with the same interval keeps the run due; a new interval restarts", async () => {
  await withKv(async (kv) => {
    await setSchedule(kv, G, { enabled: true, hours: 6 }, "310000000000000001", T0);
    const again = await setSchedule(
      kv,
      G,
      { enabled: true, hours: 6 },
      "310000000000000002",
      T0 + 5 * HOUR,
    );
    assert.deepStrictEqual(again.nextAt, T0 + 6 * HOUR, "not postponed to 11 h");
    assert.deepStrictEqual(again.updatedBy, "310000000000000002");
    const changed = await setSchedule(
      kv,
      G,
      { enabled: true, hours: 12 },
      "310000000000000002",
      T0 + 5 * HOUR,
    );
    assert.deepStrictEqual(changed.nextAt, T0 + 17 * HOUR);
  });
});

Deno.test("backup refusals: schedule hours out of range carry their Reason", async () => {
  await withKv(async (kv) => {
    assertSays(
      await thrown(setSchedule(kv, G, { enabled: true, hours: 0 }, "1", 0)),
      RangeError,
      "hours must be a whole number from 1 to 168",
      "las horas deben ser un número entero entre 1 y 168",
    );
  });
});
