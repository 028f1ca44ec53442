/** POST /status-link (bearer SYNC_AUTH_TOKEN): a signed status-page link valid for one hour. */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { createStatusLink } from "../lib/http/status_access.ts";

export function statusLinkRoute(app: App): Handler {
  return async (req, ctx) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    // SELF_URL is the public address; without it, the address this request came to.
    const base = app.deps.config.selfUrl ?? ctx.url.origin;
    const link = await createStatusLink(app.keys.statusLink, base, app.deps.clock.now());
    return json({ url: link.url, expiresAt: new Date(link.expiresAt).toISOString() });
  };
}
