/** GET /linked-roles/status (bearer SYNC_AUTH_TOKEN): linked roles' setup and linked users. */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { linkedRolesStatus } from "../lib/linked_roles/status.ts";

export function linkedRolesStatusRoute(app: App): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    return json(await linkedRolesStatus(app.deps), 200, { "cache-control": "no-store" });
  };
}
