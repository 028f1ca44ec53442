/**
 * GET /linked-role/callback?code&state (or ?error&state): where Discord returns the browser. The
 * state must match the cookie and be unused; the page says what Discord now knows, or what went
 * wrong with a 4xx status. 404 without DISCORD_CLIENT_SECRET.
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { html } from "../lib/http/html.ts";
import type { Handler } from "hono";
import { readCookies } from "../lib/http/status_access.ts";
import {
  CLEAR_STATE_COOKIE,
  completeConnect,
  linkedRolesEnabled,
  STATE_COOKIE,
} from "../lib/linked_roles/connect.ts";
import { renderOutcome } from "../lib/linked_roles/page.ts";

const param = z.string().max(512).optional();
const query = z.object({ code: param, state: param, error: param });

export function linkedRoleCallbackRoute(app: App): Handler {
  return async (c) => {
    if (!linkedRolesEnabled(app.deps)) return c.notFound();
    const parsed = query.safeParse({
      code: c.req.query("code"),
      state: c.req.query("state"),
      error: c.req.query("error"),
    });
    const outcome = parsed.success
      ? await completeConnect(app.deps, app.keys.tokenBox, {
        ...parsed.data,
        cookieStates: readCookies(c.req.raw, STATE_COOKIE).slice(0, 10),
      })
      : { kind: "bad_state" as const, reason: "missing" as const };
    const page = renderOutcome(outcome);
    return html(page.html, page.status, { headers: { "set-cookie": CLEAR_STATE_COOKIE } });
  };
}
