/**
 * Signed custom IDs for components and modals: `route|state|expiry|signature`, at most 100
 * characters (Discord's limit). A tampered or expired ID is refused, so a button cannot be forged
 * to reach a route with state the bot never issued.
 */
import type { Hmac } from "../hmac.ts";

const CUSTOM_ID_MAX = 100;
const SIG_BYTES = 12; // 16 base64url characters, 96 bits
const ROUTE = /^[a-z0-9_.-]{1,40}$/;

export type CustomIdCheck =
  | { ok: true; route: string; state: string; expiresAt: number }
  | { ok: false; reason: "malformed" | "tampered" | "expired" };

export interface CustomIds {
  sign(route: string, state: string, ttlMs: number, nowMs: number): Promise<string>;
  verify(customId: string, nowMs: number): Promise<CustomIdCheck>;
}

export function createCustomIds(hmac: Hmac): CustomIds {
  return {
    async sign(route, state, ttlMs, nowMs) {
      if (!ROUTE.test(route)) throw new Error(`invalid custom id route "${route}"`);
      if (state.includes("|")) throw new Error("custom id state must not contain '|'");
      const expiry = Math.ceil((nowMs + ttlMs) / 1000).toString(36);
      const body = `${route}|${state}|${expiry}`;
      const id = `${body}|${await hmac.sign(body, SIG_BYTES)}`;
      if (id.length > CUSTOM_ID_MAX) {
        throw new Error(`custom id for ${route} is ${id.length} characters; the limit is 100`);
      }
      return id;
    },
    async verify(customId, nowMs) {
      const parts = customId.split("|");
      if (parts.length !== 4 || customId.length > CUSTOM_ID_MAX) {
        return { ok: false, reason: "malformed" };
      }
      const [route, state, expiry, sig] = parts;
      if (!(await hmac.verify(`${route}|${state}|${expiry}`, sig, SIG_BYTES))) {
        return { ok: false, reason: "tampered" };
      }
      const expiresAt = parseInt(expiry, 36) * 1000;
      if (!Number.isFinite(expiresAt) || expiresAt <= nowMs) {
        return { ok: false, reason: "expired" };
      }
      return { ok: true, route, state, expiresAt };
    },
  };
}
