/** HMAC-SHA256 signing with a key imported once; used for custom IDs and signed links. */
const encoder = new TextEncoder();

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

export async function createHmac(secret: string, purpose: string): Promise<Hmac> {
  // One key per purpose, so a signature made for one use is worthless for another.
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(`${purpose}\0${secret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sign = async (data: string, bytes = 32) => {
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
    return base64url(mac.subarray(0, bytes));
  };
  return {
    sign,
    async verify(data, signature, bytes = 32) {
      const expected = await sign(data, bytes);
      if (expected.length !== signature.length) return false;
      let diff = 0;
      for (let i = 0; i < expected.length; i++) {
        diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
      }
      return diff === 0;
    },
  };
}
