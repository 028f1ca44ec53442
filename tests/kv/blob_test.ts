import { z } from "zod";
import {
  BlobCorruptError,
  deleteBlob,
  getBlob,
  getBlobHead,
  getJsonBlob,
  PART_BYTES,
  putBlob,
  putJsonBlob,
  sweepAllOrphans,
} from "../../lib/kv/blob.ts";
import { keys } from "../../lib/kv/keys.ts";
import { sha256Hex } from "../../lib/canonical.ts";
import assert from "node:assert/strict";
import { instrumentAtomics, KV_LIMITS, listAll, withKv } from "./_kv.ts";

const KEY = ["backup", "123456789012345678", "b1"];
const PARTS = keys.blob("part", ...KEY);
const HEAD = keys.blob("head", ...KEY);

/** Random bytes; crypto.getRandomValues fills at most 65,536 bytes a call. */
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, i + 65_536));
  return out;
}

/** The part entries of `key`'s blob (only its own: [...prefix, version, index]). */
async function partsOf(kv: Deno.Kv, key: Deno.KvKey = KEY) {
  const prefix = keys.blob("part", ...key);
  return (await listAll<Uint8Array>(kv, prefix)).filter((e) => e.key.length === prefix.length + 2);
}

for (const size of [0, 1, PART_BYTES - 1, 60_000, 60_001, 2 * 60_000, 2 * 1024 * 1024]) {
  Deno.test(`blob: round-trips ${size} bytes, in parts under 64 KiB`, () =>
    withKv(async (kv) => {
      const bytes = randomBytes(size);
      const head = await putBlob(kv, KEY, bytes);
      const expectedParts = Math.ceil(size / PART_BYTES);
      assert.deepStrictEqual(head.size, size);
      assert.deepStrictEqual(head.parts, expectedParts);
      assert.deepStrictEqual(head.sha256, await sha256Hex(bytes));
      assert.deepStrictEqual(await getBlobHead(kv, KEY), head);

      const blob = await getBlob(kv, KEY);
      assert.ok(blob != null);
      assert.deepStrictEqual(blob.head, head);
      assert.deepStrictEqual(blob.bytes.length, size);
      assert.ok(equalBytes(blob.bytes, bytes), "the bytes read back differ");

      const parts = await partsOf(kv);
      assert.deepStrictEqual(parts.length, expectedParts);
      let total = 0;
      for (const [i, part] of parts.entries()) {
        assert.deepStrictEqual(part.key, [...PARTS, head.version, i]);
        assert.ok(part.value instanceof Uint8Array, "parts are stored as bytes");
        assert.ok(
          part.value.byteLength < KV_LIMITS.value,
          `part ${i} is ${part.value.byteLength} bytes`,
        );
        total += part.value.byteLength;
      }
      assert.deepStrictEqual(total, size);
    }));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

Deno.test("blob: a subarray view stores only its own bytes", () =>
  withKv(async (kv) => {
    const big = randomBytes(300_000);
    const view = big.subarray(100_000, 170_000);
    await putBlob(kv, KEY, view);
    const blob = await getBlob(kv, KEY);
    assert.ok(blob != null);
    assert.ok(equalBytes(blob.bytes, view));
    for (const part of await partsOf(kv)) assert.ok(part.value.byteLength <= PART_BYTES);
  }));

Deno.test("blob: every atomic operation stays within KV's limits", () =>
  withKv(async (raw) => {
    const { kv, commits } = instrumentAtomics(raw);
    await putBlob(kv, KEY, randomBytes(2 * 1024 * 1024), { note: "first" });
    await putBlob(kv, KEY, randomBytes(1_500_000)); // overwrite: deletes the old parts
    await sweepAllOrphans(kv, Date.now() + 2 * 3_600_000);
    await deleteBlob(kv, KEY);
    assert.ok(commits.length >= 5, `only ${commits.length} commits seen`);
    for (const [i, c] of commits.entries()) {
      assert.ok(c.checks <= KV_LIMITS.checks, `commit ${i}: ${c.checks} checks`);
      assert.ok(c.mutations <= KV_LIMITS.mutations, `commit ${i}: ${c.mutations} mutations`);
      assert.ok(c.bytes <= KV_LIMITS.bytes, `commit ${i}: ${c.bytes} bytes`);
    }
    assert.deepStrictEqual(await listAll(raw, ["blob"]), []);
  }));

Deno.test("blob: absent reads as null", () =>
  withKv(async (kv) => {
    assert.deepStrictEqual(await getBlob(kv, KEY), null);
    assert.deepStrictEqual(await getBlobHead(kv, KEY), null);
    assert.deepStrictEqual(await getJsonBlob(kv, KEY, z.unknown()), null);
  }));

Deno.test("blob: meta is kept in the head", () =>
  withKv(async (kv) => {
    const head = await putBlob(kv, KEY, randomBytes(10), { kind: "backup", roles: 3 });
    assert.deepStrictEqual(head.meta, { kind: "backup", roles: 3 });
    assert.deepStrictEqual((await getBlobHead(kv, KEY))?.meta, { kind: "backup", roles: 3 });
  }));

Deno.test("blob: overwriting replaces the whole value and deletes the old parts", () =>
  withKv(async (kv) => {
    const first = await putBlob(kv, KEY, randomBytes(200_000));
    const small = randomBytes(70_000);
    const second = await putBlob(kv, KEY, small);
    assert.ok(first.version !== second.version);
    const blob = await getBlob(kv, KEY);
    assert.ok(blob != null);
    assert.ok(equalBytes(blob.bytes, small), "reads the new value only");
    const parts = await partsOf(kv);
    assert.deepStrictEqual(parts.length, 2);
    assert.ok(parts.every((p) => p.key[PARTS.length] === second.version), "old parts remain");

    const empty = await putBlob(kv, KEY, new Uint8Array());
    assert.deepStrictEqual((await getBlob(kv, KEY))?.bytes.length, 0);
    assert.deepStrictEqual(empty.parts, 0);
    assert.deepStrictEqual(await partsOf(kv), []);
  }));

Deno.test("blob: a flipped byte in a stored part is detected", () =>
  withKv(async (kv) => {
    const head = await putBlob(kv, KEY, randomBytes(150_000));
    const key = [...PARTS, head.version, 1];
    const part = (await kv.get<Uint8Array>(key)).value!;
    const bad = part.slice();
    bad[1234] ^= 0x01;
    await kv.set(key, bad);
    await assert.rejects(() => getBlob(kv, KEY), (e) =>
      e instanceof BlobCorruptError && e.message.includes("checksum mismatch"));
  }));

Deno.test("blob: a truncated or overlong part is detected", () =>
  withKv(async (kv) => {
    const head = await putBlob(kv, KEY, randomBytes(150_000));
    const key = [...PARTS, head.version, 2];
    const part = (await kv.get<Uint8Array>(key)).value!;
    await kv.set(key, part.subarray(0, part.length - 1));
    await assert.rejects(() => getBlob(kv, KEY), (e) =>
      e instanceof BlobCorruptError && e.message.includes("size mismatch"));
    await kv.set(key, new Uint8Array(part.length + 1));
    await assert.rejects(() =>
      getBlob(kv, KEY), (e) =>
      e instanceof BlobCorruptError && e.message.includes("exceed"));
  }));

Deno.test("blob: a missing part is an error, never partial data", () =>
  withKv(async (kv) => {
    const head = await putBlob(kv, KEY, randomBytes(250_000));
    await kv.delete([...PARTS, head.version, 2]);
    await assert.rejects(() => getBlob(kv, KEY), (err) => {
      assert.ok(err instanceof BlobCorruptError);
      assert.match(err.message, /parts missing/);
      assert.ok(err.message.includes(JSON.stringify(KEY)), err.message);
      assert.deepStrictEqual(err.name, "BlobCorruptError");
      return true;
    });
  }));

Deno.test("blob: a part that is not bytes counts as missing", () =>
  withKv(async (kv) => {
    const head = await putBlob(kv, KEY, randomBytes(100));
    await kv.set([...PARTS, head.version, 0], "not bytes");
    await assert.rejects(() => getBlob(kv, KEY), BlobCorruptError);
  }));

Deno.test("blob: deleteBlob removes the head and every part", () =>
  withKv(async (kv) => {
    await putBlob(kv, KEY, randomBytes(300_000));
    const other = [...KEY.slice(0, 2), "b2"];
    await putBlob(kv, other, randomBytes(10));
    await deleteBlob(kv, KEY);
    assert.deepStrictEqual(await getBlob(kv, KEY), null);
    assert.deepStrictEqual((await kv.get(HEAD)).versionstamp, null);
    assert.deepStrictEqual(await partsOf(kv), []);
    assert.deepStrictEqual((await getBlob(kv, other))?.bytes.length, 10, "other blobs untouched");
    await deleteBlob(kv, KEY); // absent: no error
  }));

Deno.test("blob: keys that extend another blob's key are separate blobs", () =>
  withKv(async (kv) => {
    const parent = ["backup", "g1"];
    const child = ["backup", "g1", "b1"];
    const a = randomBytes(70_000);
    const b = randomBytes(130_000);
    await putBlob(kv, parent, a);
    await putBlob(kv, child, b);
    await putBlob(kv, parent, randomBytes(5)); // overwrite the parent
    await deleteBlob(kv, parent);
    const blob = await getBlob(kv, child);
    assert.ok(blob != null);
    assert.ok(equalBytes(blob.bytes, b));
  }));

/** Plants parts of a version no head names, as a writer that died mid-way leaves them. */
async function plantOrphan(kv: Deno.Kv, key: Deno.KvKey, version: string, parts = 2) {
  for (let i = 0; i < parts; i++) {
    await kv.set([...keys.blob("part", ...key), version, i], new Uint8Array([i]));
  }
}

Deno.test("blob: the sweep deletes only old versions no head names", () =>
  withKv(async (kv) => {
    const now = Date.now();
    const head = await putBlob(kv, KEY, randomBytes(130_000));
    const old = `${(now - 2 * 3_600_000).toString(36)}-deadbeef`;
    const young = `${(now - 60_000).toString(36)}-cafebabe`;
    await plantOrphan(kv, KEY, old, 3);
    await plantOrphan(kv, KEY, young, 2);

    assert.deepStrictEqual(await sweepAllOrphans(kv, now), 1);
    const versions = new Set((await partsOf(kv)).map((p) => p.key[PARTS.length]));
    assert.deepStrictEqual(versions, new Set([head.version, young]));
    assert.deepStrictEqual((await getBlob(kv, KEY))?.bytes.length, 130_000);

    // Once the young one is old too, it goes; the current version never does.
    assert.deepStrictEqual(await sweepAllOrphans(kv, now + 2 * 3_600_000), 1);
    assert.deepStrictEqual(
      new Set((await partsOf(kv)).map((p) => p.key[PARTS.length])),
      new Set([head.version]),
    );
    assert.deepStrictEqual(await sweepAllOrphans(kv, now + 2 * 3_600_000), 0);
    assert.deepStrictEqual((await getBlob(kv, KEY))?.bytes.length, 130_000);
  }));

Deno.test("blob: the sweep of a blob without a head takes every old version", () =>
  withKv(async (kv) => {
    await plantOrphan(kv, KEY, "1-aaaaaaaa");
    await plantOrphan(kv, KEY, "2-bbbbbbbb");
    assert.deepStrictEqual(await sweepAllOrphans(kv), 2);
    assert.deepStrictEqual(await partsOf(kv), []);
  }));

Deno.test("blob: the sweep keeps the live version of a blob whose key extends another's", () =>
  withKv(async (kv) => {
    const parent = ["backup", "g1"];
    const child = ["backup", "g1", "b1"];
    const bytes = randomBytes(130_000);
    await putBlob(kv, child, bytes);
    const parentHead = await putBlob(kv, parent, randomBytes(10));
    await plantOrphan(kv, parent, "1-deadbeef");
    assert.deepStrictEqual(await sweepAllOrphans(kv, Date.now() + 2 * 3_600_000), 1);
    assert.deepStrictEqual(
      (await partsOf(kv, parent)).map((p) => p.key.at(-2)),
      [parentHead.version],
      "the parent's orphan goes",
    );
    const blob = await getBlob(kv, child);
    assert.ok(blob != null, "the child blob survives the sweep");
    assert.ok(equalBytes(blob.bytes, bytes));
    assert.deepStrictEqual((await getBlob(kv, parent))?.bytes.length, 10);
  }));

Deno.test("blob: the sweep tells keys apart by their parts' types, not their text", () =>
  withKv(async (kv) => {
    // ["g", 1] and ["g", "1"] print alike: one's live version must not count as the other's.
    const numeric = ["backup", 1];
    const text = ["backup", "1"];
    const live = await putBlob(kv, numeric, randomBytes(10));
    await plantOrphan(kv, text, live.version);
    assert.deepStrictEqual(await sweepAllOrphans(kv, Date.now() + 2 * 3_600_000), 1);
    assert.deepStrictEqual((await getBlob(kv, numeric))?.bytes.length, 10);
    assert.deepStrictEqual(await partsOf(kv, text), []);
  }));

Deno.test("blob: sweeping many orphan parts under a long key stays within the mutation size", () =>
  withKv(async (kv) => {
    const key = ["backup", "x".repeat(1_800)];
    const version = "1-deadbeef";
    const prefix = keys.blob("part", ...key);
    for (let i = 0; i < 600; i += 30) {
      const op = kv.atomic();
      for (let j = i; j < i + 30; j++) op.set([...prefix, version, j], new Uint8Array(1));
      await op.commit();
    }
    assert.deepStrictEqual(await sweepAllOrphans(kv), 1);
    assert.deepStrictEqual(await partsOf(kv, key), []);
  }));

Deno.test("blob: concurrent writers leave one whole value and no stray parts", () =>
  withKv(async (kv) => {
    const values = Array.from({ length: 5 }, (_, i) => randomBytes(100_000 + i));
    const results = await Promise.allSettled(values.map((v) => putBlob(kv, KEY, v)));
    assert.ok(results.some((r) => r.status === "fulfilled"), "no writer succeeded");
    for (const r of results) {
      if (r.status === "rejected") assert.match(String(r.reason), /retry/);
    }
    const blob = await getBlob(kv, KEY);
    assert.ok(blob != null);
    assert.ok(values.some((v) => equalBytes(v, blob.bytes)), "the value is one writer's, whole");
    const parts = await partsOf(kv);
    assert.ok(parts.every((p) => p.key[PARTS.length] === blob.head.version), "stray parts remain");
  }));

Deno.test("blob: readers during an overwrite see the old value or the new one", () =>
  withKv(async (kv) => {
    const before = randomBytes(300_000);
    const after = randomBytes(200_000);
    await putBlob(kv, KEY, before);
    const [, ...reads] = await Promise.all([
      putBlob(kv, KEY, after),
      ...Array.from({ length: 8 }, () => getBlob(kv, KEY)),
    ]);
    for (const read of reads) {
      assert.ok(read != null);
      assert.ok(equalBytes(read.bytes, before) || equalBytes(read.bytes, after), "a mixed read");
    }
  }));

const backupSchema = z.object({
  guildId: z.string(),
  roles: z.array(z.object({ id: z.string(), name: z.string() })),
});

Deno.test("blob: JSON values round-trip with schema validation", () =>
  withKv(async (kv) => {
    const value = {
      guildId: "123456789012345678",
      roles: Array.from({ length: 3_000 }, (_, i) => ({ id: String(i), name: `role ${i} ✓` })),
    };
    const head = await putJsonBlob(kv, KEY, value, { v: 1 });
    assert.ok(head.parts > 1, "large enough to need several parts");
    assert.deepStrictEqual(head.meta, { v: 1 });
    assert.deepStrictEqual(await getJsonBlob(kv, KEY, backupSchema), value);
  }));

Deno.test("blob: a JSON value that does not fit the schema is an error", () =>
  withKv(async (kv) => {
    await putJsonBlob(kv, KEY, { guildId: 5, roles: [] });
    await assert.rejects(
      () => getJsonBlob(kv, KEY, backupSchema),
      (e) => e instanceof BlobCorruptError && e.message.includes("schema"),
    );
  }));

Deno.test("blob: bytes that are not JSON are reported as corrupt, not as a SyntaxError", () =>
  withKv(async (kv) => {
    await putBlob(kv, KEY, new TextEncoder().encode("{not json"));
    await assert.rejects(
      () => getJsonBlob(kv, KEY, backupSchema),
      (e) => e instanceof BlobCorruptError && e.message.includes("not JSON"),
    );
  }));

Deno.test("blob: a corrupt blob under a key with a bigint still raises BlobCorruptError", () =>
  withKv(async (kv) => {
    const key = ["backup", 42n];
    const head = await putBlob(kv, key, randomBytes(10));
    await kv.delete([...keys.blob("part", ...key), head.version, 0]);
    await assert.rejects(
      () => getBlob(kv, key),
      (e) => e instanceof BlobCorruptError && e.message.includes('["backup",42n]'),
    );
  }));

Deno.test("blob: the daily sweep finds every blob's orphans, also of blobs whose head is gone", () =>
  withKv(async (kv) => {
    const now = Date.now();
    const old = `${(now - 2 * 3_600_000).toString(36)}-deadbeef`;
    const young = `${(now - 60_000).toString(36)}-cafebabe`;
    const other: Deno.KvKey = ["backup", "g2", 7n, "page"];
    const kept = await putBlob(kv, KEY, randomBytes(70_000));
    await plantOrphan(kv, KEY, old, 3);
    await plantOrphan(kv, KEY, young, 1);
    await plantOrphan(kv, other, old, 2); // no head at all: a deleted blob's leftovers
    assert.deepStrictEqual(await sweepAllOrphans(kv, now), 2);
    const left: string[] = [];
    for await (const e of kv.list({ prefix: keys.blob("part") })) left.push(String(e.key.at(-2)));
    assert.deepStrictEqual(new Set(left), new Set([kept.version, young]));
    assert.deepStrictEqual((await getBlob(kv, KEY))?.bytes.length, 70_000);
  }));

/** `kv` with its list calls counted: entries read by the sweep's scan (the deletions aside). */
function countScanReads(kv: Deno.Kv): { kv: Deno.Kv; reads: { entries: number } } {
  const reads = { entries: 0 };
  const scan = keys.blob("part").length;
  const counted = new Proxy(kv, {
    get(target, prop) {
      if (prop !== "list") {
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return (selector: Deno.KvListSelector, options?: Deno.KvListOptions) => {
        const list = target.list(selector, options);
        if (!("prefix" in selector) || selector.prefix.length !== scan) return list;
        const next = list.next.bind(list);
        list.next = async () => {
          const r = await next();
          if (!r.done) reads.entries++;
          return r;
        };
        return list;
      };
    },
  });
  return { kv: counted, reads };
}

Deno.test("blob: the sweep reads one entry per version, however many parts it has", () =>
  withKv(async (raw) => {
    const now = Date.now();
    const live = await putBlob(raw, KEY, randomBytes(40 * PART_BYTES));
    await plantOrphan(raw, KEY, `${(now - 60_000).toString(36)}-cafebabe`, 40);
    await plantOrphan(raw, ["backup", "g2"], "1-deadbeef", 40);
    await raw.set([...keys.blob("part"), "stray"], 1); // not a part: stepped over, kept
    const { kv, reads } = countScanReads(raw);
    assert.deepStrictEqual(await sweepAllOrphans(kv, now + 2 * 3_600_000), 2);
    assert.deepStrictEqual(reads.entries, 4);
    assert.deepStrictEqual((await raw.get([...keys.blob("part"), "stray"])).value, 1);
    assert.deepStrictEqual(
      (await partsOf(raw)).map((p) => p.key.at(-2)),
      Array(40).fill(live.version),
    );
    assert.deepStrictEqual(await partsOf(raw, ["backup", "g2"]), []);
  }));
