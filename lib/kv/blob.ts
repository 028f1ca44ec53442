/**
 * Values larger than KV's 64 KiB limit, split over several entries and read back whole or not at
 * all. Parts are written under a fresh version first; a head entry naming that version, its part
 * count and SHA-256 is switched atomically last, so a reader sees the old blob or the new one,
 * never a mix. Atomic batches stay under 800 KiB and 10 checks.
 */
import { sha256Hex } from "../canonical.ts";
import { z } from "zod";
import { formatKey } from "./codec.ts";
import { keys } from "./keys.ts";

export const PART_BYTES = 60_000;
const PARTS_PER_BATCH = 12; // 720 KB a batch, under the 800 KiB atomic limit
const ORPHAN_AGE_MS = 60 * 60_000;

const headSchema = z.object({
  version: z.string(),
  parts: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type BlobHead = z.infer<typeof headSchema>;

export class BlobCorruptError extends Error {
  constructor(key: Deno.KvKey, detail: string) {
    super(`blob ${formatKey(key)} is corrupt: ${detail}`);
    this.name = "BlobCorruptError";
  }
}

const partKey = (key: Deno.KvKey, version: string, i: number): Deno.KvKey =>
  keys.blob("part", ...key, version, i);
const partPrefix = (key: Deno.KvKey): Deno.KvKey => keys.blob("part", ...key);
const headKey = (key: Deno.KvKey): Deno.KvKey => keys.blob("head", ...key);

function newVersion(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function putBlob(
  kv: Deno.Kv,
  key: Deno.KvKey,
  bytes: Uint8Array,
  meta?: Record<string, unknown>,
): Promise<BlobHead> {
  const version = newVersion();
  const parts = Math.ceil(bytes.length / PART_BYTES);
  for (let start = 0; start < parts; start += PARTS_PER_BATCH) {
    const op = kv.atomic();
    for (let i = start; i < Math.min(parts, start + PARTS_PER_BATCH); i++) {
      op.set(partKey(key, version, i), bytes.subarray(i * PART_BYTES, (i + 1) * PART_BYTES));
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("blob part write failed");
  }
  const head: BlobHead = {
    version,
    parts,
    size: bytes.length,
    sha256: await sha256Hex(bytes),
    meta,
  };
  const previous = await kv.get(headKey(key));
  const res = await kv.atomic().check(previous).set(headKey(key), head).commit();
  if (!res.ok) {
    await deleteVersion(kv, key, version);
    throw new Error("blob head changed during write; retry");
  }
  const old = headSchema.safeParse(previous.value);
  if (old.success) await deleteVersion(kv, key, old.data.version);
  return head;
}

export async function getBlobHead(kv: Deno.Kv, key: Deno.KvKey): Promise<BlobHead | null> {
  const entry = await kv.get(headKey(key));
  const parsed = headSchema.safeParse(entry.value);
  return parsed.success ? parsed.data : null;
}

/** Reads the whole blob and checks its hash. Null when absent; throws BlobCorruptError. */
export async function getBlob(
  kv: Deno.Kv,
  key: Deno.KvKey,
): Promise<{ bytes: Uint8Array; head: BlobHead } | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const head = await getBlobHead(kv, key);
    if (!head) return null;
    const out = new Uint8Array(head.size);
    let offset = 0;
    let missing = false;
    for (let i = 0; i < head.parts && !missing; i += 10) {
      const batch = Array.from(
        { length: Math.min(10, head.parts - i) },
        (_, j) => partKey(key, head.version, i + j),
      );
      for (const entry of await kv.getMany<Uint8Array[]>(batch)) {
        if (!(entry.value instanceof Uint8Array)) {
          missing = true;
          break;
        }
        if (offset + entry.value.length > head.size) {
          throw new BlobCorruptError(key, "parts exceed the recorded size");
        }
        out.set(entry.value, offset);
        offset += entry.value.length;
      }
    }
    // A part can vanish when a concurrent write replaced the blob: read the new head again.
    if (missing) continue;
    if (offset !== head.size) throw new BlobCorruptError(key, "size mismatch");
    if (await sha256Hex(out) !== head.sha256) throw new BlobCorruptError(key, "checksum mismatch");
    return { bytes: out, head };
  }
  throw new BlobCorruptError(key, "parts missing");
}

export async function deleteBlob(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  const head = await getBlobHead(kv, key);
  await kv.delete(headKey(key));
  if (head) await deleteVersion(kv, key, head.version);
}

/**
 * Whether a key listed under `partPrefix(key)` is a part of this blob: [...prefix, version, i].
 * The prefix also covers the parts of longer blob keys (["a"] vs ["a", "b"]), which must be left
 * alone.
 */
function ownPart(key: Deno.KvKey, listed: Deno.KvKey): { version: string } | null {
  const n = partPrefix(key).length;
  const version = listed[n];
  if (listed.length !== n + 2 || typeof version !== "string" || typeof listed[n + 1] !== "number") {
    return null;
  }
  return { version };
}

async function deleteVersion(kv: Deno.Kv, key: Deno.KvKey, version: string): Promise<void> {
  await deleteKeys(kv, kv.list({ prefix: [...partPrefix(key), version] }), key);
}

async function deleteKeys(
  kv: Deno.Kv,
  entries: Deno.KvListIterator<unknown>,
  key: Deno.KvKey,
): Promise<void> {
  let op = kv.atomic();
  let n = 0;
  let bytes = 0;
  for await (const e of entries) {
    if (!ownPart(key, e.key)) continue;
    const size = keySize(e.key);
    // Deleted keys count towards the 800 KiB mutation limit too: long keys fill it before 500.
    if (n > 0 && (n === DELETES_PER_BATCH || bytes + size > DELETE_BATCH_BYTES)) {
      await op.commit();
      op = kv.atomic();
      n = 0;
      bytes = 0;
    }
    op.delete(e.key);
    n++;
    bytes += size;
  }
  if (n) await op.commit();
}

const DELETES_PER_BATCH = 500;
const DELETE_BATCH_BYTES = 512 * 1024;

/** An upper bound of a key's encoded size. */
function keySize(key: Deno.KvKey): number {
  let size = 0;
  for (const part of key) {
    if (typeof part === "string") size += 2 + 3 * part.length;
    else if (part instanceof Uint8Array) size += 2 + 2 * part.length;
    else size += 10;
  }
  return size;
}

/**
 * Every blob's orphans, for the daily cron: part versions older than an hour that no head names,
 * including those of blobs whose head is gone. A part key is `[...key, version, index]`, so the
 * blob's key is what comes before its last two parts. Entries are read one list call at a time:
 * once a version is decided from its first part, the next read starts past its parts (numbers
 * sort before booleans, so `[...key, version, true]`), and each version costs one entry read
 * however many 60 KB parts it has.
 */
export async function sweepAllOrphans(kv: Deno.Kv, now = Date.now()): Promise<number> {
  const prefix = keys.blob("part");
  const stale: { key: Deno.KvKey; version: string }[] = [];
  const heads = new Map<string, string | null>();
  let selector: Deno.KvListSelector = { prefix };
  let cursor: string | undefined;
  for (;;) {
    const list: Deno.KvListIterator<unknown> = kv.list(selector, { limit: 1, cursor });
    const next = await list.next();
    if (next.done) break;
    const rest: Deno.KvKey = next.value.key.slice(prefix.length);
    const version = rest.at(-2);
    if (rest.length < 3 || typeof version !== "string" || typeof rest.at(-1) !== "number") {
      cursor = list.cursor; // not a part: step over this one entry
      continue;
    }
    const key = rest.slice(0, -2);
    selector = { prefix, start: [...prefix, ...key, version, true] };
    cursor = undefined;
    const born = parseInt(version.split("-")[0], 36);
    if (!(now - born > ORPHAN_AGE_MS)) continue;
    const hk = formatKey(key);
    if (!heads.has(hk)) heads.set(hk, (await getBlobHead(kv, key))?.version ?? null);
    if (heads.get(hk) !== version) stale.push({ key, version });
  }
  for (const { key, version } of stale) await deleteVersion(kv, key, version);
  return stale.length;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function putJsonBlob(
  kv: Deno.Kv,
  key: Deno.KvKey,
  value: unknown,
  meta?: Record<string, unknown>,
): Promise<BlobHead> {
  return putBlob(kv, key, encoder.encode(JSON.stringify(value)), meta);
}

export async function getJsonBlob<S extends z.ZodType>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  schema: S,
): Promise<z.infer<S> | null> {
  const blob = await getBlob(kv, key);
  if (!blob) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(blob.bytes));
  } catch {
    throw new BlobCorruptError(key, "value is not JSON");
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new BlobCorruptError(key, "value does not match its schema");
  return parsed.data;
}
