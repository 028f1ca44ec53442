import { z } from "zod";
import { decode, formatKey, getTyped, KvCodecError, listTyped } from "../../lib/kv/codec.ts";
import assert from "node:assert/strict";
import { withKv } from "./_kv.ts";

const user = z.object({
  id: z.string(),
  score: z.number().int(),
  tags: z.array(z.string()).default([]),
});

Deno.test("codec: getTyped of an absent key is null", () =>
  withKv(async (kv) => {
    assert.deepStrictEqual(await getTyped(kv, ["user", "none"], user), null);
  }));

Deno.test("codec: getTyped returns the parsed value and its versionstamp", () =>
  withKv(async (kv) => {
    const res = await kv.set(["user", "1"], { id: "1", score: 1500 });
    const got = await getTyped(kv, ["user", "1"], user);
    assert.ok(got != null);
    assert.deepStrictEqual(got.value, { id: "1", score: 1500, tags: [] }, "defaults applied");
    assert.deepStrictEqual(got.versionstamp, res.versionstamp);
    const eventual = await getTyped(kv, ["user", "1"], user, "eventual");
    assert.deepStrictEqual(eventual?.value.score, 1500);
  }));

Deno.test("codec: getTyped throws KvCodecError on a value that does not fit", () =>
  withKv(async (kv) => {
    await kv.set(["user", "2"], { id: 2, score: 1.5 });
    await assert.rejects(() => getTyped(kv, ["user", "2"], user), (err) => {
      assert.ok(err instanceof KvCodecError);
      assert.ok(err.message.includes('KV value at ["user","2"] does not match its schema'));
      assert.deepStrictEqual(err.name, "KvCodecError");
      assert.deepStrictEqual(err.key, ["user", "2"]);
      assert.match(err.message, /id:/);
      assert.match(err.message, /score:/);
      return true;
    });
  }));

Deno.test("codec: a stored null or primitive does not pass an object schema", () =>
  withKv(async (kv) => {
    await kv.set(["user", "3"], null);
    await assert.rejects(() => getTyped(kv, ["user", "3"], user), KvCodecError);
    await kv.set(["user", "4"], "text");
    await assert.rejects(() => getTyped(kv, ["user", "4"], user), KvCodecError);
  }));

Deno.test("codec: decode validates and transforms", () => {
  assert.deepStrictEqual(decode(["k"], "42", z.coerce.number()), 42);
  assert.throws(() => decode(["k", 1n], { id: "x" }, user), (err) => {
    assert.ok(err instanceof KvCodecError);
    assert.deepStrictEqual(err.key, ["k", 1n]);
    return true;
  });
});

Deno.test("codec: keys of every part type are named in errors", () => {
  const key: Deno.KvKey = ["k", 1, 2n, true, new Uint8Array([0, 255])];
  assert.deepStrictEqual(formatKey(key), '["k",1,2n,true,0x00ff]');
  assert.throws(() => decode(key, 1, z.string()), (err) => {
    assert.ok(err instanceof KvCodecError);
    assert.match(err.message, /\["k",1,2n,true,0x00ff\]/);
    return true;
  });
});

Deno.test("codec: listTyped yields validated entries in key order", () =>
  withKv(async (kv) => {
    await kv.set(["user", "b"], { id: "b", score: 2 });
    await kv.set(["user", "a"], { id: "a", score: 1, tags: ["x"] });
    await kv.set(["user", "c"], { id: "c", score: 3 });
    await kv.set(["other", "z"], "ignored");
    const got = [];
    for await (const e of listTyped(kv, { prefix: ["user"] }, user)) got.push(e);
    assert.deepStrictEqual(got.map((e) => e.key), [["user", "a"], ["user", "b"], ["user", "c"]]);
    assert.deepStrictEqual(got.map((e) => e.value), [
      { id: "a", score: 1, tags: ["x"] },
      { id: "b", score: 2, tags: [] },
      { id: "c", score: 3, tags: [] },
    ]);
    for (const e of got) assert.deepStrictEqual(e.versionstamp, (await kv.get(e.key)).versionstamp);
  }));

Deno.test("codec: listTyped passes list options through", () =>
  withKv(async (kv) => {
    for (const id of ["a", "b", "c", "d"]) await kv.set(["user", id], { id, score: 0 });
    const ids = [];
    for await (const e of listTyped(kv, { prefix: ["user"] }, user, { reverse: true, limit: 2 })) {
      ids.push(e.value.id);
    }
    assert.deepStrictEqual(ids, ["d", "c"]);
    const ranged = [];
    for await (const e of listTyped(kv, { start: ["user", "b"], end: ["user", "d"] }, user)) {
      ranged.push(e.value.id);
    }
    assert.deepStrictEqual(ranged, ["b", "c"]);
  }));

Deno.test("codec: listTyped throws KvCodecError at the first bad value", () =>
  withKv(async (kv) => {
    await kv.set(["user", "a"], { id: "a", score: 1 });
    await kv.set(["user", "b"], { id: "b", score: "high" });
    await kv.set(["user", "c"], { id: "c", score: 3 });
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const e of listTyped(kv, { prefix: ["user"] }, user)) seen.push(e.value.id);
    }, (err) => {
      assert.ok(err instanceof KvCodecError);
      assert.deepStrictEqual(err.key, ["user", "b"]);
      return true;
    });
    assert.deepStrictEqual(seen, ["a"]);
  }));
