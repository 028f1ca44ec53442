/**
 * Access to the status page: a signed link valid for one hour is exchanged for an HttpOnly,
 * SameSite=Strict session cookie, so no token stays in a URL (or in history, or a Referer).
 * Link tokens and session tokens are signed for different purposes: neither works as the other.
 */
import type { Hmac } from "../hmac.ts";

export const LINK_TTL_MS = 60 * 60_000;
export const COOKIE = "status_session";
const LINK = "status-link";
const SESSION = "status-session";

async function token(hmac: Hmac, purpose: string, expiresAt: number): Promise<string> {
  const exp = Math.floor(expiresAt / 1000).toString(36);
  return `${exp}.${await hmac.sign(`${purpose}|${exp}`, 24)}`;
}

async function valid(hmac: Hmac, purpose: string, value: string | null, now: number) {
  const m = value ? /^([0-9a-z]{1,10})\.([\w-]{32})$/.exec(value) : null;
  if (!m) return { ok: false as const };
  const expiresAt = parseInt(m[1], 36) * 1000;
  if (!(await hmac.verify(`${purpose}|${m[1]}`, m[2], 24)) || expiresAt <= now) {
    return { ok: false as const };
  }
  return { ok: true as const, expiresAt };
}

/** A link to the status page, valid for an hour. */
export async function createStatusLink(
  hmac: Hmac,
  baseUrl: string,
  now: number,
): Promise<{ url: string; expiresAt: number }> {
  const expiresAt = now + LINK_TTL_MS;
  const url = new URL("/status/login", baseUrl);
  url.searchParams.set("t", await token(hmac, LINK, expiresAt));
  return { url: url.toString(), expiresAt };
}

/** Checks a link token; on success, the Set-Cookie value of a session ending with the link. */
export async function exchangeLink(
  hmac: Hmac,
  linkToken: string | null,
  now: number,
  secure: boolean,
): Promise<string | null> {
  const link = await valid(hmac, LINK, linkToken, now);
  if (!link.ok) return null;
  const session = await token(hmac, SESSION, link.expiresAt);
  const maxAge = Math.floor((link.expiresAt - now) / 1000);
  return `${COOKIE}=${session}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${
    secure ? "; Secure" : ""
  }`;
}

export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/** Whether the request carries a live status session. */
export async function hasSession(hmac: Hmac, req: Request, now: number): Promise<boolean> {
  return (await valid(hmac, SESSION, readCookie(req, COOKIE), now)).ok;
}

/** Served over HTTPS: directly, or behind a proxy that says so (Deno Deploy terminates TLS). */
export function isHttps(req: Request): boolean {
  return new URL(req.url).protocol === "https:" ||
    req.headers.get("x-forwarded-proto")?.split(",")[0].trim() === "https";
}
