/** Monotonic counters on KV's atomic sum (Deno.KvU64). */
export async function increment(kv: Deno.Kv, key: Deno.KvKey, by = 1): Promise<void> {
  await kv.atomic().sum(key, BigInt(by)).commit();
}

/** The counter's value; 0 when absent (or when the key holds something that is not a counter). */
export async function readCounter(kv: Deno.Kv, key: Deno.KvKey): Promise<number> {
  const entry = await kv.get(key);
  return entry.value instanceof Deno.KvU64 ? Number(entry.value.value) : 0;
}

/**
 * All counters under a prefix, keyed by the parts of the key after the prefix joined with "/"
 * (the last part for a flat prefix). Entries that are not counters are skipped.
 */
export async function readCounters(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const e of kv.list({ prefix })) {
    if (!(e.value instanceof Deno.KvU64)) continue;
    out.set(e.key.slice(prefix.length).map(String).join("/"), Number(e.value.value));
  }
  return out;
}
