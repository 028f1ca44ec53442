/**
 * Bearer authentication for operator routes: constant-time comparison, and fail closed when the
 * server has no token configured.
 */
import { httpError } from "./response.ts";

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i % (x.length || 1)] ?? 0) ^ (y[i % (y.length || 1)] ?? 0);
  return diff === 0;
}

/** Null when authorised; otherwise the 401 response to send. */
export function requireBearer(req: Request, expected: string | undefined): Response | null {
  if (!expected) {
    return httpError(401, "this route is disabled: SYNC_AUTH_TOKEN is not set on the server");
  }
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) {
    return httpError(401, "missing bearer token");
  }
  if (!timingSafeEqual(match[1], expected)) return httpError(401, "invalid bearer token");
  return null;
}
