/**
 * GET /status/login?t=…: exchanges a signed link for the session cookie, then sends the browser
 * to the clean /status URL. The hop is a page of our own (meta refresh) rather than a 3xx: a
 * SameSite=Strict cookie set on a navigation that came from another site (a link in Discord)
 * would not be sent on the redirect it ends with.
 */
import type { App } from "../lib/app.ts";
import { html } from "../lib/http/html.ts";
import type { Handler } from "../lib/http/router.ts";
import { exchangeLink, isHttps } from "../lib/http/status_access.ts";
import { renderRedirect, renderUnauthorized } from "../lib/status/html.ts";

export function statusLoginRoute(app: App): Handler {
  return async (req, ctx) => {
    const cookie = await exchangeLink(
      app.keys.statusLink,
      app.keys.session,
      ctx.url.searchParams.get("t"),
      app.deps.clock.now(),
      isHttps(req),
    );
    if (!cookie) return html(renderUnauthorized(), 401);
    return html(renderRedirect(), 200, { headers: { "set-cookie": cookie } });
  };
}
