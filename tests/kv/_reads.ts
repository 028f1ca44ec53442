/**
 * A KV that counts its reads of some keys: for tests that bound how often a code path reads a
 * key (a job's preflight reads the feature flags once per chunk, not once per layer).
 */

/**
 * Wraps `kv` so that every `get` of one of `watched` (by name) is counted in `reads`. Use the
 * returned KV in place of the original.
 */
export function countingReads<N extends string>(
  kv: Deno.Kv,
  watched: Record<N, Deno.KvKey>,
): { kv: Deno.Kv; reads: Record<N, number> } {
  const names = Object.keys(watched) as N[];
  const reads = Object.fromEntries(names.map((n) => [n, 0])) as Record<N, number>;
  const same = (a: Deno.KvKey, b: Deno.KvKey) => JSON.stringify(a) === JSON.stringify(b);
  const counted = new Proxy(kv, {
    get(target, prop) {
      if (prop === "get") {
        return (key: Deno.KvKey, o?: { consistency?: Deno.KvConsistencyLevel }) => {
          for (const n of names) if (same(key, watched[n])) reads[n]++;
          return target.get(key, o);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: counted, reads };
}
