/**
 * HMAC-SHA256 signing for custom IDs and signed links, computed synchronously with @noble/hashes:
 * a /help reply signs three custom IDs on the hot path, and WebCrypto's async sign (a thread-pool
 * round trip) or node:crypto's createHmac (a stream object per call) cost far more than the hash.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

export interface Hmac {
  /** base64url signature, truncated to `bytes` bytes. */
  sign(data: string, bytes?: number): Promise<string>;
  verify(data: string, signature: string, bytes?: number): Promise<boolean>;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Unpadded base64url of `bytes`, or of their first `length` bytes: a truncated signature is encoded
 * from the MAC itself, with no view made of it on the hot path.
 */
export function base64url(bytes: Uint8Array, length = bytes.length): string {
  const end = Math.min(length, bytes.length);
  let s = "";
  let i = 0;
  for (; i + 2 < end; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  if (i + 1 === end) {
    const n = bytes[i] << 16;
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63];
  } else if (i + 2 === end) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63];
  }
  return s;
}

/** Each character's index in ALPHABET; 64 for any other character below 128. */
const INDEX = new Uint8Array(128).fill(64);
for (let i = 0; i < 64; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

/**
 * Whether `signature` is `base64url(mac, bytes)`, in time that depends only on the lengths. Each
 * character is compared with the MAC's 6 bits it should encode, so verifying builds no string.
 */
function matchesSignature(mac: Uint8Array, bytes: number, signature: string): boolean {
  const n = Math.min(bytes, mac.length);
  if (signature.length !== Math.ceil((n * 4) / 3)) return false;
  let diff = 0;
  for (let j = 0; j < signature.length; j++) {
    const bit = 6 * j;
    const at = bit >> 3;
    // Bits past the n-th byte are zero, as base64url pads them.
    const word = (mac[at] << 8) | (at + 1 < n ? mac[at + 1] : 0);
    const c = signature.charCodeAt(j);
    diff |= (c > 127 ? 64 : INDEX[c]) ^ ((word >> (10 - (bit & 7))) & 63);
  }
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
 * The MAC of a message under `key`, in one buffer reused per key (read it before the next call).
 * noble's HMAC absorbs the key's padded blocks once, here; each message starts from a copy of that
 * keyed state, made into one reused object.
 */
function keyedMac(key: Uint8Array): (msg: Uint8Array) => Uint8Array {
  const keyed = hmac.create(sha256, key);
  const work = keyed.clone();
  const out = new Uint8Array(keyed.outputLen);
  return (msg) => {
    keyed._cloneInto(work).update(msg).digestInto(out);
    return out;
  };
}

/**
 * Signs with `key`; verifies against `key` and, during a rotation, `previous` too (never signs
 * with it), so live buttons and links survive the change of secret.
 */
export function createHmac(key: Uint8Array, previous?: Uint8Array): Hmac {
  const macs = [key, ...(previous ? [previous] : [])].map(keyedMac);
  return {
    sign: (data, bytes = 32) => Promise.resolve(base64url(macs[0](utf8(data)), bytes)),
    verify: (data, signature, bytes = 32) => {
      let ok = false;
      // Every key is tried, so the time taken does not tell which one matched.
      for (const mac of macs) ok = matchesSignature(mac(utf8(data)), bytes, signature) || ok;
      return Promise.resolve(ok);
    },
  };
}
