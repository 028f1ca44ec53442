import { increment, readCounter, readCounters } from "../../lib/kv/counter.ts";
import { keys } from "../../lib/kv/keys.ts";
import { assert, assertEquals, assertInstanceOf } from "../_assert.ts";
import { withKv } from "./_kv.ts";

Deno.test("counter: absent reads as 0", () =>
  withKv(async (kv) => {
    assertEquals(await readCounter(kv, keys.counter("nothing")), 0);
  }));

Deno.test("counter: increments by 1 or by a given amount", () =>
  withKv(async (kv) => {
    const key = keys.counter("interactions");
    await increment(kv, key);
    assertEquals(await readCounter(kv, key), 1);
    await increment(kv, key, 41);
    assertEquals(await readCounter(kv, key), 42);
    await increment(kv, key, 0);
    assertEquals(await readCounter(kv, key), 42);
  }));

Deno.test("counter: stored as a KvU64", () =>
  withKv(async (kv) => {
    const key = keys.counter("u64");
    await increment(kv, key, 3);
    const raw = (await kv.get(key)).value;
    assertInstanceOf(raw, Deno.KvU64);
    assertEquals(raw.value, 3n);
  }));

Deno.test("counter: concurrent increments are all counted", () =>
  withKv(async (kv) => {
    const key = keys.counter("concurrent");
    await Promise.all(Array.from({ length: 50 }, (_, i) => increment(kv, key, i % 3 + 1)));
    const expected = Array.from({ length: 50 }, (_, i) => i % 3 + 1).reduce((a, b) => a + b);
    assertEquals(await readCounter(kv, key), expected);
  }));

Deno.test("counter: large values", () =>
  withKv(async (kv) => {
    const key = keys.counter("large");
    await increment(kv, key, 2 ** 40);
    await increment(kv, key, 2 ** 40);
    assertEquals(await readCounter(kv, key), 2 ** 41);
  }));

Deno.test("counter: readCounters lists a prefix, keyed by what follows it", () =>
  withKv(async (kv) => {
    await increment(kv, keys.counter("cmd", "ethos"), 3);
    await increment(kv, keys.counter("cmd", "help"));
    await increment(kv, keys.counter("cmd", "admin", "sync"), 2);
    await increment(kv, keys.counter("errors"), 9); // outside the prefix
    const counts = await readCounters(kv, keys.counter("cmd"));
    assertEquals(
      counts,
      new Map([["admin/sync", 2], ["ethos", 3], ["help", 1]]),
    );
    assertEquals(await readCounters(kv, keys.counter("none")), new Map());
  }));

Deno.test("counter: values that are not counters read as 0 and are skipped in lists", () =>
  withKv(async (kv) => {
    await kv.set(keys.counter("weird"), "not a counter");
    await kv.set(keys.counter("grp", "null"), null);
    await kv.set(keys.counter("grp", "num"), 5);
    await increment(kv, keys.counter("grp", "real"), 2);
    assertEquals(await readCounter(kv, keys.counter("weird")), 0);
    const counts = await readCounters(kv, keys.counter("grp"));
    assertEquals(counts, new Map([["real", 2]]));
    assert(![...counts.values()].some(Number.isNaN));
  }));
