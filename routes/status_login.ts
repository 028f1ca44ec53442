/**
 * GET /status/login?t=…: exchanges a signed link for the session cookie, then sends the browser
 * to the clean /status URL. The hop is a page of our own (meta refresh) rather than a 3xx: a
 * SameSite=Strict cookie set on a navigation that came from another site (a link in Discord)
 * would not be sent on the redirect it ends with.
 */
import type { App } from "../lib/app.ts";
import { html } from "../lib/http/html.ts";
import type { Handler } from "hono";
import { exchangeLink, isHttps } from "../lib/http/status_access.ts";
import { renderRedirect, renderUnauthorized } from "../lib/status/html.ts";

export function statusLoginRoute(app: App): Handler {
  return async (c) => {
    const cookie = await exchangeLink(
      app.keys.statusLink,
      app.keys.session,
      c.req.query("t") ?? null,
      app.deps.clock.now(),
      isHttps(c.req.raw),
    );
    if (!cookie) return html(renderUnauthorized(), 401);
    return html(renderRedirect(), 200, { headers: { "set-cookie": cookie } });
  };
}
