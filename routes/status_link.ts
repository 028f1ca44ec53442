/** POST /status-link (bearer SYNC_AUTH_TOKEN): a signed status-page link valid for one hour. */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { createStatusLink } from "../lib/http/status_access.ts";

export function statusLinkRoute(app: App): Handler {
  return async (c) => {
    // SELF_URL is the public address; without it, the address this request came to.
    const base = app.deps.config.selfUrl ?? new URL(c.req.url).origin;
    const link = await createStatusLink(app.keys.statusLink, base, app.deps.clock.now());
    return c.json({ url: link.url, expiresAt: new Date(link.expiresAt).toISOString() });
  };
}
