/**
 * OAuth tokens sealed at rest: AES-256-GCM with a key derived from SIGNING_SECRET (HKDF, purpose
 * "linked-roles-token", lib/signing_keys.ts), a random 96-bit IV per seal, and the Discord user id
 * as associated data, so a sealed token copied onto another user's record does not open. After a
 * SIGNING_SECRET rotation the previous key still opens what it sealed; the next refresh reseals.
 */
import { base64url } from "../hmac.ts";
import type { TokenKeys } from "../signing_keys.ts";

export type { TokenKeys };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fromB64url(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return null;
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** `v1.<base64url(iv ‖ ciphertext)>`. */
export async function seal(keys: TokenKeys, userId: string, token: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(userId) },
      keys.current,
      encoder.encode(token),
    ),
  );
  const out = new Uint8Array(iv.length + ct.length);
  out.set(iv);
  out.set(ct, iv.length);
  return `v1.${base64url(out)}`;
}

/** The token, or null when it does not open (another key, another user, tampered). */
export async function open(
  keys: TokenKeys,
  userId: string,
  sealed: string,
): Promise<string | null> {
  if (!sealed.startsWith("v1.")) return null;
  const bytes = fromB64url(sealed.slice(3));
  if (!bytes || bytes.length < 12 + 16) return null;
  for (const key of [keys.current, keys.previous]) {
    if (!key) continue;
    try {
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: encoder.encode(userId) },
        key,
        bytes.slice(12),
      );
      return decoder.decode(pt);
    } catch {
      // Not this key: try the previous one.
    }
  }
  return null;
}
