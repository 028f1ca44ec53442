/**
 * HMAC-SHA256 signing for custom IDs and signed links. Computed synchronously with the runtime's
 * built-in node:crypto: WebCrypto's sign is an async op whose thread-pool round trip cost far
 * more than the hash itself (a /help reply signs three custom IDs on the hot path).
 */
import { createHmac as nodeHmac, timingSafeEqual } from "node:crypto";

export interface Hmac {
  /** base64url signature, truncated to `bytes` bytes. */
  sign(data: string, bytes?: number): Promise<string>;
  verify(data: string, signature: string, bytes?: number): Promise<boolean>;
}

export function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const encoder = new TextEncoder();

export function createHmac(secret: string, purpose: string): Promise<Hmac> {
  // One key per purpose, so a signature made for one use is worthless for another.
  const key = encoder.encode(`${purpose}\0${secret}`);
  const signSync = (data: string, bytes = 32) =>
    base64url(new Uint8Array(nodeHmac("sha256", key).update(data).digest()).subarray(0, bytes));
  return Promise.resolve({
    sign: (data, bytes) => Promise.resolve(signSync(data, bytes)),
    verify(data, signature, bytes) {
      const expected = encoder.encode(signSync(data, bytes));
      const given = encoder.encode(signature);
      return Promise.resolve(expected.length === given.length && timingSafeEqual(expected, given));
    },
  });
}
