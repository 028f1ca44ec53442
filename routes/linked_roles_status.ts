/** GET /linked-roles/status (bearer SYNC_AUTH_TOKEN): linked roles' setup and linked users. */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { linkedRolesStatus } from "../lib/linked_roles/status.ts";

export function linkedRolesStatusRoute(app: App): Handler {
  return async (c) =>
    c.json(await linkedRolesStatus(app.deps), 200, { "cache-control": "no-store" });
}
