/**
 * GET /linked-role: Discord's "Linked Roles Verification URL". Sends the browser to Discord's
 * authorize page with a fresh state, bound to a short-lived cookie. 404 without
 * DISCORD_CLIENT_SECRET (linked roles off).
 */
import type { App } from "../lib/app.ts";
import { html } from "../lib/http/html.ts";
import type { Handler } from "hono";
import { beginConnect, linkedRolesEnabled } from "../lib/linked_roles/connect.ts";
import { renderRedirect } from "../lib/linked_roles/page.ts";

export function linkedRoleRoute(app: App): Handler {
  return async (c) => {
    if (!linkedRolesEnabled(app.deps)) return c.notFound();
    const { location, cookie } = await beginConnect(app.deps);
    return html(renderRedirect(location), 302, {
      headers: { location, "set-cookie": cookie },
    });
  };
}
