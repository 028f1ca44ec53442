/** Values validated with zod on read: a stored value that no longer fits its schema is an error. */
import type { z } from "zod";

/**
 * A KV key for messages: JSON-like (`["user","1",2]`), but total, since keys may hold bigints
 * (`5n`), bytes (`0x0aff`) or booleans, where JSON.stringify throws or garbles.
 */
export function formatKey(key: Deno.KvKey): string {
  const parts = key.map((p) => {
    if (typeof p === "bigint") return `${p}n`;
    if (p instanceof Uint8Array) {
      return `0x${Array.from(p, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    }
    if (typeof p === "symbol") return String(p);
    return JSON.stringify(p);
  });
  return `[${parts.join(",")}]`;
}

export class KvCodecError extends Error {
  constructor(readonly key: Deno.KvKey, detail: string) {
    super(`KV value at ${formatKey(key)} does not match its schema: ${detail}`);
    this.name = "KvCodecError";
  }
}

export interface Typed<T> {
  value: T;
  versionstamp: string;
}

export async function getTyped<S extends z.ZodType>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  schema: S,
  consistency: Deno.KvConsistencyLevel = "strong",
): Promise<Typed<z.infer<S>> | null> {
  const entry = await kv.get(key, { consistency });
  if (entry.versionstamp === null) return null;
  return { value: decode(key, entry.value, schema), versionstamp: entry.versionstamp };
}

export function decode<S extends z.ZodType>(key: Deno.KvKey, raw: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) =>
      i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message
    );
    throw new KvCodecError(key, detail.join("; "));
  }
  return parsed.data;
}

/** Lists a prefix, validating each value. */
export async function* listTyped<S extends z.ZodType>(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  schema: S,
  options: Deno.KvListOptions = {},
): AsyncGenerator<{ key: Deno.KvKey; value: z.infer<S>; versionstamp: string }> {
  for await (const entry of kv.list(selector, options)) {
    yield {
      key: entry.key,
      value: decode(entry.key, entry.value, schema),
      versionstamp: entry.versionstamp,
    };
  }
}
