/**
 * One signing key per purpose, derived from `SIGNING_SECRET` with HKDF-SHA256 (RFC 5869: salt
 * empty, info the purpose's name, 32 bytes), so a signature made for one use is worthless for
 * another and an operator's tool can derive the same keys. `SIGNING_SECRET_PREVIOUS` is accepted
 * when verifying, never when signing, so a rotation does not break live buttons and links.
 *
 * Without `SIGNING_SECRET` the keys come from a random secret generated once and kept in KV (all
 * isolates agree on it): nothing is derived from the bot token, so whoever holds the token cannot
 * mint links or sessions. Operators are told to set a secret of their own.
 */
import type { Config } from "./config.ts";
import { createHmac, type Hmac } from "./hmac.ts";
import { keys as kvKeys } from "./kv/keys.ts";

export const PURPOSES = ["custom-id", "status-link", "session", "export"] as const;
export type Purpose = typeof PURPOSES[number];

export interface SigningKeys {
  /** "configured": from SIGNING_SECRET; "derived": from the random secret kept in KV. */
  source: "configured" | "derived";
  customId: Hmac;
  statusLink: Hmac;
  session: Hmac;
  export: Hmac;
  tokenBox: TokenKeys;
}

/**
 * AES-256-GCM keys that seal OAuth tokens at rest (linked roles, lib/linked_roles/token_box.ts):
 * `current` seals and opens, `previous` (from SIGNING_SECRET_PREVIOUS) only opens, so a rotation
 * keeps stored tokens.
 */
export interface TokenKeys {
  current: CryptoKey;
  previous?: CryptoKey;
}

/** HKDF info of the token-sealing key. */
const TOKEN_BOX_PURPOSE = "linked-roles-token";

const encoder = new TextEncoder();

/** HKDF-SHA256 with an empty salt. */
export async function hkdfSha256(
  ikm: Uint8Array,
  info: string,
  length = 32,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", ikm as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/** The secret kept in KV when none is configured: created once, the same for every isolate. */
async function storedSecret(kv: Deno.Kv): Promise<string> {
  const key = kvKeys.generatedSigningSecret();
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get<string>(key);
    if (typeof entry.value === "string" && entry.value.length >= 32) return entry.value;
    const fresh = Array.from(crypto.getRandomValues(new Uint8Array(32)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    // Only one isolate's secret wins; the others read it on the next turn.
    if ((await kv.atomic().check(entry).set(key, fresh).commit()).ok) return fresh;
  }
  throw new Error("could not create the signing secret in KV");
}

export async function loadSigningKeys(
  config: Pick<Config, "signingSecret" | "signingSecretPrevious">,
  kv: Deno.Kv,
): Promise<SigningKeys> {
  const source = config.signingSecret ? "configured" : "derived";
  const secret = config.signingSecret ?? await storedSecret(kv);
  const previous = config.signingSecret ? config.signingSecretPrevious : undefined;
  const derive = async (purpose: Purpose) =>
    createHmac(
      await hkdfSha256(encoder.encode(secret), purpose),
      previous ? await hkdfSha256(encoder.encode(previous), purpose) : undefined,
    );
  const [customId, statusLink, session, exportKey] = await Promise.all(PURPOSES.map(derive));
  const aes = async (s: string) =>
    await crypto.subtle.importKey(
      "raw",
      await hkdfSha256(encoder.encode(s), TOKEN_BOX_PURPOSE) as BufferSource,
      "AES-GCM",
      false,
      ["encrypt", "decrypt"],
    );
  const tokenBox = {
    current: await aes(secret),
    ...(previous ? { previous: await aes(previous) } : {}),
  };
  return { source, customId, statusLink, session, export: exportKey, tokenBox };
}

export const SIGNING_SECRET_WARNING =
  "SIGNING_SECRET is not set: signed buttons, status links, sessions and export links use a " +
  "random secret kept in KV. Set SIGNING_SECRET (32+ random characters) so keys are yours to " +
  "rotate and your tools can derive them (HKDF-SHA256, see README).";
