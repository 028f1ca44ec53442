// THE REMOVED BASELINE (issue 17): lib/canonical.ts verbatim as of commit c73c24a, before hashing moved
// to @noble/hashes. Only bench/hashing_bench.ts imports it, to measure the new code against the old
// in the same run; nothing in lib/ may.
/**
 * Canonical JSON and SHA-256, for everything that hashes or fingerprints data: backups (their
 * checksum), the audit log's hash chain, split KV values. Canonical: object keys sorted (UTF-16
 * code units) at every level, undefined object fields dropped, arrays in the order given.
 */

/**
 * Canonical JSON: keys sorted at every level, undefined object fields dropped, arrays in the
 * order given (normalizeSnapshot fixes those). Throws on values JSON cannot carry.
 */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join("");
}

function write(value: unknown, out: string[]): void {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "string":
      out.push(JSON.stringify(value));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      if (!Number.isFinite(value)) throw new TypeError("canonical JSON: non-finite number");
      out.push(JSON.stringify(value));
      return;
    case "object": {
      if (Array.isArray(value)) {
        out.push("[");
        value.forEach((v, i) => {
          if (i) out.push(",");
          write(v === undefined ? null : v, out);
        });
        out.push("]");
        return;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      out.push("{");
      keys.forEach((k, i) => {
        if (i) out.push(",");
        out.push(JSON.stringify(k), ":");
        write(obj[k], out);
      });
      out.push("}");
      return;
    }
    default:
      throw new TypeError(`canonical JSON: cannot encode a ${typeof value}`);
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
