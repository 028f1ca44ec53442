import { z } from "zod";
import { decode, formatKey, getTyped, KvCodecError, listTyped } from "../../lib/kv/codec.ts";
import {
  assertEquals,
  assertExists,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../_assert.ts";
import { withKv } from "./_kv.ts";

const user = z.object({
  id: z.string(),
  score: z.number().int(),
  tags: z.array(z.string()).default([]),
});

Deno.test("codec: getTyped of an absent key is null", () =>
  withKv(async (kv) => {
    assertEquals(await getTyped(kv, ["user", "none"], user), null);
  }));

Deno.test("codec: getTyped returns the parsed value and its versionstamp", () =>
  withKv(async (kv) => {
    const res = await kv.set(["user", "1"], { id: "1", score: 1500 });
    const got = await getTyped(kv, ["user", "1"], user);
    assertExists(got);
    assertEquals(got.value, { id: "1", score: 1500, tags: [] }, "defaults applied");
    assertEquals(got.versionstamp, res.versionstamp);
    const eventual = await getTyped(kv, ["user", "1"], user, "eventual");
    assertEquals(eventual?.value.score, 1500);
  }));

Deno.test("codec: getTyped throws KvCodecError on a value that does not fit", () =>
  withKv(async (kv) => {
    await kv.set(["user", "2"], { id: 2, score: 1.5 });
    const err = await assertRejects(
      () => getTyped(kv, ["user", "2"], user),
      KvCodecError,
      'KV value at ["user","2"] does not match its schema',
    );
    assertInstanceOf(err, Error);
    assertEquals(err.name, "KvCodecError");
    assertEquals(err.key, ["user", "2"]);
    assertStringIncludes(err.message, "id:");
    assertStringIncludes(err.message, "score:");
  }));

Deno.test("codec: a stored null or primitive does not pass an object schema", () =>
  withKv(async (kv) => {
    await kv.set(["user", "3"], null);
    await assertRejects(() => getTyped(kv, ["user", "3"], user), KvCodecError);
    await kv.set(["user", "4"], "text");
    await assertRejects(() => getTyped(kv, ["user", "4"], user), KvCodecError);
  }));

Deno.test("codec: decode validates and transforms", () => {
  assertEquals(decode(["k"], "42", z.coerce.number()), 42);
  const err = assertThrows(() => decode(["k", 1n], { id: "x" }, user), KvCodecError);
  assertEquals(err.key, ["k", 1n]);
});

Deno.test("codec: keys of every part type are named in errors", () => {
  const key: Deno.KvKey = ["k", 1, 2n, true, new Uint8Array([0, 255])];
  assertEquals(formatKey(key), '["k",1,2n,true,0x00ff]');
  const err = assertThrows(() => decode(key, 1, z.string()), KvCodecError);
  assertStringIncludes(err.message, '["k",1,2n,true,0x00ff]');
});

Deno.test("codec: listTyped yields validated entries in key order", () =>
  withKv(async (kv) => {
    await kv.set(["user", "b"], { id: "b", score: 2 });
    await kv.set(["user", "a"], { id: "a", score: 1, tags: ["x"] });
    await kv.set(["user", "c"], { id: "c", score: 3 });
    await kv.set(["other", "z"], "ignored");
    const got = [];
    for await (const e of listTyped(kv, { prefix: ["user"] }, user)) got.push(e);
    assertEquals(got.map((e) => e.key), [["user", "a"], ["user", "b"], ["user", "c"]]);
    assertEquals(got.map((e) => e.value), [
      { id: "a", score: 1, tags: ["x"] },
      { id: "b", score: 2, tags: [] },
      { id: "c", score: 3, tags: [] },
    ]);
    for (const e of got) assertEquals(e.versionstamp, (await kv.get(e.key)).versionstamp);
  }));

Deno.test("codec: listTyped passes list options through", () =>
  withKv(async (kv) => {
    for (const id of ["a", "b", "c", "d"]) await kv.set(["user", id], { id, score: 0 });
    const ids = [];
    for await (const e of listTyped(kv, { prefix: ["user"] }, user, { reverse: true, limit: 2 })) {
      ids.push(e.value.id);
    }
    assertEquals(ids, ["d", "c"]);
    const ranged = [];
    for await (const e of listTyped(kv, { start: ["user", "b"], end: ["user", "d"] }, user)) {
      ranged.push(e.value.id);
    }
    assertEquals(ranged, ["b", "c"]);
  }));

Deno.test("codec: listTyped throws KvCodecError at the first bad value", () =>
  withKv(async (kv) => {
    await kv.set(["user", "a"], { id: "a", score: 1 });
    await kv.set(["user", "b"], { id: "b", score: "high" });
    await kv.set(["user", "c"], { id: "c", score: 3 });
    const seen: string[] = [];
    const err = await assertRejects(async () => {
      for await (const e of listTyped(kv, { prefix: ["user"] }, user)) seen.push(e.value.id);
    }, KvCodecError);
    assertEquals(seen, ["a"]);
    assertEquals(err.key, ["user", "b"]);
  }));
