import { z } from "zod";
import { ManualClock } from "../_clock.ts";
import { claimRecord, getRecord, setRecord } from "../../lib/kv/record.ts";
import assert from "node:assert/strict";
import { withKv } from "./_kv.ts";

const item = z.object({ name: z.string(), n: z.number() });
const KEY = ["test", "record"];

Deno.test("record: set then get returns the value", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await setRecord(kv, KEY, { name: "a", n: 1 }, 60_000, clock);
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), { name: "a", n: 1 });
  }));

Deno.test("record: the expiry is stored in the value", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    await setRecord(kv, KEY, "v", 5_000, clock);
    const raw = await kv.get(KEY);
    assert.deepStrictEqual(raw.value, { expiresAt: 1_005_000, value: "v" });
  }));

Deno.test("record: expiry is enforced on read though KV still holds the entry", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await setRecord(kv, KEY, { name: "a", n: 1 }, 1_000, clock);
    clock.advance(999);
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), { name: "a", n: 1 });
    clock.advance(1);
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), null);
    // KV has not deleted it (its expireIn is real time): the value's expiry decided.
    assert.ok((await kv.get(KEY)).versionstamp !== null, "the entry is still stored");
  }));

Deno.test("record: absent, malformed or off-schema values read as null", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), null);
    await kv.set(KEY, { name: "a", n: 1 }); // not an envelope
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), null);
    await kv.set(KEY, { expiresAt: "later", value: { name: "a", n: 1 } });
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), null);
    await setRecord(kv, KEY, { name: "a", n: "one" }, 1_000, clock);
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), null);
  }));

Deno.test("record: the schema's output is returned (defaults, transforms)", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await setRecord(kv, KEY, { name: "a" }, 1_000, clock);
    const schema = z.object({ name: z.string().toUpperCase(), n: z.number().default(7) });
    assert.deepStrictEqual(await getRecord(kv, KEY, schema, clock), { name: "A", n: 7 });
  }));

Deno.test("record: fractional and past TTLs are accepted (KV's expireIn wants whole ms)", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await setRecord(kv, KEY, "soon", 1_500.5, clock);
    assert.deepStrictEqual(await getRecord(kv, KEY, z.string(), clock), "soon");
    clock.advance(1_500);
    assert.deepStrictEqual(await getRecord(kv, KEY, z.string(), clock), "soon");
    clock.advance(1);
    assert.deepStrictEqual(await getRecord(kv, KEY, z.string(), clock), null);

    await setRecord(kv, KEY, "past", -10, clock);
    assert.deepStrictEqual(await getRecord(kv, KEY, z.string(), clock), null);
    assert.deepStrictEqual(await claimRecord(kv, ["claim"], "x", 0.5, clock), true);
    assert.deepStrictEqual(await claimRecord(kv, ["claim"], "y", 0.5, clock), false);
  }));

Deno.test("record: claim is true once, false while live, true again after expiry", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    assert.deepStrictEqual(
      await claimRecord(kv, KEY, { name: "first", n: 1 }, 10_000, clock),
      true,
    );
    assert.deepStrictEqual(
      await claimRecord(kv, KEY, { name: "second", n: 2 }, 10_000, clock),
      false,
    );
    clock.advance(9_999);
    assert.deepStrictEqual(
      await claimRecord(kv, KEY, { name: "third", n: 3 }, 10_000, clock),
      false,
    );
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), { name: "first", n: 1 });
    clock.advance(1);
    assert.deepStrictEqual(
      await claimRecord(kv, KEY, { name: "fourth", n: 4 }, 10_000, clock),
      true,
    );
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), { name: "fourth", n: 4 });
    assert.deepStrictEqual(
      await claimRecord(kv, KEY, { name: "fifth", n: 5 }, 10_000, clock),
      false,
    );
  }));

Deno.test("record: claim takes over a key whose value is not a record", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await kv.set(KEY, "garbage");
    assert.deepStrictEqual(await claimRecord(kv, KEY, { name: "a", n: 1 }, 1_000, clock), true);
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), { name: "a", n: 1 });
  }));

Deno.test("record: claim does not disturb a live record set by setRecord", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    await setRecord(kv, KEY, { name: "set", n: 0 }, 1_000, clock);
    assert.deepStrictEqual(
      await claimRecord(kv, KEY, { name: "claim", n: 1 }, 1_000, clock),
      false,
    );
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), { name: "set", n: 0 });
  }));

Deno.test("record: of 10 concurrent claims exactly one wins, and its value is stored", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => claimRecord(kv, KEY, { name: `c${i}`, n: i }, 60_000, clock),
      ),
    );
    assert.deepStrictEqual(results.filter(Boolean).length, 1, `results: ${results}`);
    const winner = results.indexOf(true);
    assert.deepStrictEqual(await getRecord(kv, KEY, item, clock), {
      name: `c${winner}`,
      n: winner,
    });
  }));

Deno.test("record: concurrent claims after expiry also yield exactly one winner", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    assert.deepStrictEqual(await claimRecord(kv, KEY, { name: "old", n: 0 }, 1_000, clock), true);
    clock.advance(1_000);
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => claimRecord(kv, KEY, { name: `c${i}`, n: i }, 1_000, clock),
      ),
    );
    assert.deepStrictEqual(results.filter(Boolean).length, 1, `results: ${results}`);
  }));

Deno.test("record: different keys are independent", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    assert.deepStrictEqual(await claimRecord(kv, ["idem", "a"], 1, 1_000, clock), true);
    assert.deepStrictEqual(await claimRecord(kv, ["idem", "b"], 1, 1_000, clock), true);
    assert.deepStrictEqual(await claimRecord(kv, ["idem", "a"], 1, 1_000, clock), false);
  }));
