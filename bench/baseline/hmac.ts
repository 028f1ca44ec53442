// THE REMOVED BASELINE (issue 17): lib/hmac.ts verbatim as of commit c73c24a, before hashing moved
// to @noble/hashes. Only bench/hashing_bench.ts imports it, to measure the new code against the old
// in the same run; nothing in lib/ may.
/**
 * HMAC-SHA256 signing for custom IDs and signed links, computed synchronously in JS (lib/sha256.ts):
 * a /help reply signs three custom IDs on the hot path, and WebCrypto's async sign (a thread-pool
 * round trip) or node:crypto's createHmac (a stream object per call) cost far more than the hash.
 */
import { hmacSha256 } from "./sha256.ts";

export interface Hmac {
  /** base64url signature, truncated to `bytes` bytes. */
  sign(data: string, bytes?: number): Promise<string>;
  verify(data: string, signature: string, bytes?: number): Promise<boolean>;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Unpadded base64url. */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  if (i + 1 === bytes.length) {
    const n = bytes[i] << 16;
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (i + 2 === bytes.length) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return s;
}

/** Compares in time that depends only on the lengths. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const encoder = new TextEncoder();
const ASCII = new Uint8Array(256);

/** UTF-8 of `data`; short ASCII (every custom ID) is copied into a reused buffer, with no op call. */
function utf8(data: string): Uint8Array {
  if (data.length > ASCII.length) return encoder.encode(data);
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c > 0x7f) return encoder.encode(data);
    ASCII[i] = c;
  }
  return ASCII.subarray(0, data.length);
}

/**
 * Signs with `key`; verifies against `key` and, during a rotation, `previous` too (never signs
 * with it), so live buttons and links survive the change of secret.
 */
export function createHmac(key: Uint8Array, previous?: Uint8Array): Hmac {
  const macs = [key, ...(previous ? [previous] : [])].map(hmacSha256);
  const signWith = (mac: (m: Uint8Array) => Uint8Array, data: string, bytes = 32) =>
    base64url(mac(utf8(data)).subarray(0, bytes));
  return {
    sign: (data, bytes) => Promise.resolve(signWith(macs[0], data, bytes)),
    verify: (data, signature, bytes) => {
      let ok = false;
      // Every key is tried, so the time taken does not tell which one matched.
      for (const mac of macs) ok = constantTimeEqual(signWith(mac, data, bytes), signature) || ok;
      return Promise.resolve(ok);
    },
  };
}
