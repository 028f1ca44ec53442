/**
 * Access to the status page: a signed link valid for one hour is exchanged for an HttpOnly,
 * SameSite=Strict session cookie, so no token stays in a URL (or in history, or a Referer).
 * Link tokens and session tokens are signed with different keys (purposes "status-link" and
 * "session"): neither works as the other.
 */
import { generateCookie } from "hono/cookie";
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
  linkKey: Hmac,
  sessionKey: Hmac,
  linkToken: string | null,
  now: number,
  secure: boolean,
): Promise<string | null> {
  const link = await valid(linkKey, LINK, linkToken, now);
  if (!link.ok) return null;
  const session = await token(sessionKey, SESSION, link.expiresAt);
  const maxAge = Math.floor((link.expiresAt - now) / 1000);
  return generateCookie(COOKIE, session, {
    path: "/",
    maxAge,
    httpOnly: true,
    sameSite: "Strict",
    secure,
  });
}

/**
 * Every value of cookie `name` in the Cookie header, in order (RFC 6265 section 5.4: a browser may
 * send several cookies of one name, from different paths or domains, and an attacker on a sibling
 * domain can plant one). Values in double quotes are unquoted. Hono's `getCookie` keeps only the
 * first of a name, which a planted cookie could shadow, hence this reader.
 */
export function readCookies(req: Request, name: string): string[] {
  const values: string[] = [];
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    values.push(value);
  }
  return values;
}

/** Whether the request carries a live status session, wherever it stands among its namesakes. */
export async function hasSession(sessionKey: Hmac, req: Request, now: number): Promise<boolean> {
  for (const value of readCookies(req, COOKIE).slice(0, 20)) {
    if ((await valid(sessionKey, SESSION, value, now)).ok) return true;
  }
  return false;
}

/** Served over HTTPS: directly, or behind a proxy that says so (Deno Deploy terminates TLS). */
export function isHttps(req: Request): boolean {
  return new URL(req.url).protocol === "https:" ||
    req.headers.get("x-forwarded-proto")?.split(",")[0].trim() === "https";
}
