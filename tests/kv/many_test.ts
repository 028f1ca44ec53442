/** lib/kv/many.ts: many keys read in KV's chunks of ten, answers in the order asked. */
import assert from "node:assert/strict";
import { getManyChunked } from "../../lib/kv/many.ts";
import { withKv } from "./_kv.ts";

/** The KV with every getMany call's key count recorded. */
function counting(kv: Deno.Kv): { kv: Deno.Kv; sizes: number[] } {
  const sizes: number[] = [];
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      if (prop === "getMany") {
        return (keys: Deno.KvKey[]) => {
          sizes.push(keys.length);
          return target.getMany(keys);
        };
      }
      const member = Reflect.get(target, prop, target);
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
  return { kv: wrapped, sizes };
}

Deno.test("getManyChunked: 25 keys in calls of 10, 10 and 5, answers in the order asked", () =>
  withKv(async (raw) => {
    for (let i = 0; i < 25; i += 2) await raw.set(["n", i], i * 10);
    const { kv, sizes } = counting(raw);
    const keys = Array.from({ length: 25 }, (_, i) => ["n", 24 - i]);
    const got = await getManyChunked<number>(kv, keys);
    assert.deepEqual(sizes, [10, 10, 5]);
    assert.deepEqual(got.map((e) => e.key), keys);
    assert.deepEqual(
      got.map((e) => e.value),
      keys.map(([, i]) => (i as number) % 2 === 0 ? (i as number) * 10 : null),
    );
    assert.ok(got.filter((e) => e.value === null).every((e) => e.versionstamp === null));
  }));

Deno.test("getManyChunked: no keys, no call", () =>
  withKv(async (raw) => {
    const { kv, sizes } = counting(raw);
    assert.deepEqual(await getManyChunked(kv, []), []);
    assert.deepEqual(sizes, []);
  }));

Deno.test("getManyChunked: exactly 10 keys is one call", () =>
  withKv(async (raw) => {
    const { kv, sizes } = counting(raw);
    const got = await getManyChunked(kv, Array.from({ length: 10 }, (_, i) => ["k", i]));
    assert.equal(got.length, 10);
    assert.deepEqual(sizes, [10]);
  }));
