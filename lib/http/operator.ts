/**
 * The guard in front of every operator route: Hono's `bearerAuth` (timing-safe) against
 * SYNC_AUTH_TOKEN, failing closed when the server has none. Refusals are JSON `{error}` with 401,
 * as every other route error is, and carry the RFC 6750 WWW-Authenticate challenge.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";

const refuse = (error: string) => (c: Context) => c.json({ error }, 401);

const missing = refuse("missing bearer token");
const invalid = refuse("invalid bearer token");

export const DISABLED = "this route is disabled: SYNC_AUTH_TOKEN is not set on the server";

/** Middleware admitting only `Authorization: Bearer <token>`; refusing everything without one. */
export function operatorAuth(token: string | undefined): MiddlewareHandler {
  if (!token) return (c) => Promise.resolve(c.json({ error: DISABLED }, 401));
  return bearerAuth({
    token,
    noAuthenticationHeader: { message: missing },
    // A header that is not `Bearer <token68>` gets 401 (not Hono's 400), worded by what it lacks:
    // a Bearer value that is no token at all (`Bearer a b`) is a wrong token, anything else none.
    invalidAuthenticationHeader: {
      message: (c) =>
        (/^bearer +\S/i.test(c.req.header("authorization") ?? "") ? invalid : missing)(c),
    },
    invalidToken: { message: invalid },
  });
}
