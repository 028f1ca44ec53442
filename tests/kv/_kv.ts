/** Helpers shared by the KV tests: a fresh in-memory KV per test, closed even when it fails. */

/** Runs `fn` with a fresh `:memory:` KV and closes it afterwards (test sanitizers need that). */
export async function withKv<T>(fn: (kv: Deno.Kv) => Promise<T>): Promise<T> {
  const kv = await Deno.openKv(":memory:");
  try {
    return await fn(kv);
  } finally {
    kv.close();
  }
}

/** Every entry under a prefix, in key order. */
export async function listAll<T = unknown>(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
): Promise<Deno.KvEntry<T>[]> {
  const out: Deno.KvEntry<T>[] = [];
  for await (const e of kv.list<T>({ prefix })) out.push(e);
  return out;
}

/** What one atomic commit carried, as measured by {@link instrumentAtomics}. */
export interface AtomicStats {
  checks: number;
  mutations: number;
  /** An upper bound of keys + values in bytes (what KV's 800 KiB limit counts). */
  bytes: number;
}

/** Deno KV's limits for one atomic operation (the stricter of the local and hosted ones). */
export const KV_LIMITS = { checks: 10, mutations: 1000, bytes: 800 * 1024, value: 65_536 };

function keyBytes(key: Deno.KvKey): number {
  let n = 0;
  for (const part of key) {
    if (typeof part === "string") n += 2 + new TextEncoder().encode(part).length;
    else if (part instanceof Uint8Array) n += 2 + part.length;
    else n += 10;
  }
  return n;
}

function valueBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Deno.KvU64) return 8;
  try {
    return new TextEncoder().encode(JSON.stringify(value) ?? "").length + 16;
  } catch {
    return 0;
  }
}

/**
 * Wraps a KV so that every atomic operation it commits is measured. Returns the wrapped KV (use it
 * in place of the original) and the list the stats are appended to.
 */
export function instrumentAtomics(kv: Deno.Kv): { kv: Deno.Kv; commits: AtomicStats[] } {
  const commits: AtomicStats[] = [];
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const stats: AtomicStats = { checks: 0, mutations: 0, bytes: 0 };
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        const member = Reflect.get(target, prop, target);
        if (typeof member !== "function") return member;
        return (...args: unknown[]) => {
          if (prop === "check") {
            for (const c of args as Deno.AtomicCheck[]) {
              stats.checks++;
              stats.bytes += keyBytes(c.key);
            }
          } else if (prop === "set") {
            stats.mutations++;
            stats.bytes += keyBytes(args[0] as Deno.KvKey) + valueBytes(args[1]);
          } else if (prop === "delete" || prop === "sum" || prop === "min" || prop === "max") {
            stats.mutations++;
            stats.bytes += keyBytes(args[0] as Deno.KvKey) + (prop === "delete" ? 0 : 8);
          } else if (prop === "commit") {
            commits.push({ ...stats });
          }
          const result = member.apply(target, args);
          return result === target ? proxy : result;
        };
      },
    });
    return proxy;
  };
  const wrapped = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapOp(target.atomic());
      const member = Reflect.get(target, prop, target);
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
  return { kv: wrapped, commits };
}
