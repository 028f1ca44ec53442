/** The route table: one module per route; this file only wires them to paths. */
import type { App } from "../lib/app.ts";
import { Router } from "../lib/http/router.ts";
import { httpError } from "../lib/http/response.ts";
import { interactionsRoute } from "./interactions.ts";
import { healthRoute } from "./health.ts";
import { metricsRoute } from "./metrics.ts";
import { statusJsonRoute, statusPageRoute } from "./status.ts";
import { statusLoginRoute } from "./status_login.ts";
import { statusLinkRoute } from "./status_link.ts";
import { commandsDiffRoute } from "./commands_diff.ts";
import { commandsSyncRoute } from "./commands_sync.ts";
import { commandsLogRoute } from "./commands_log.ts";
import { triggerSyncRoute } from "./trigger_sync.ts";
import { syncStatusRoute } from "./sync_status.ts";
import { stopSyncRoute } from "./stop_sync.ts";
import { guildsRoute } from "./guilds.ts";
import { registerBackupRoutes } from "./backups.ts";
import { linkedRoleRoute } from "./linked_role.ts";
import { linkedRoleCallbackRoute } from "./linked_role_callback.ts";
import { linkedRolesRegisterRoute } from "./linked_roles_register.ts";
import { linkedRolesStatusRoute } from "./linked_roles_status.ts";

export function createHandler(app: App): (req: Request) => Promise<Response> {
  const router = new Router()
    .on("POST", "/interactions", interactionsRoute(app))
    .on("GET", "/health", healthRoute(app))
    .on("GET", "/metrics", metricsRoute(app))
    .on("GET", "/status", statusPageRoute(app))
    .on("GET", "/status.json", statusJsonRoute(app))
    .on("GET", "/status/login", statusLoginRoute(app))
    .on("POST", "/status-link", statusLinkRoute(app))
    .on("GET", "/commands/diff", commandsDiffRoute(app))
    .on("POST", "/commands/sync", commandsSyncRoute(app))
    .on("GET", "/commands/log", commandsLogRoute(app))
    .on("POST", "/trigger-sync", triggerSyncRoute(app))
    .on("GET", "/sync-status", syncStatusRoute(app))
    .on("POST", "/stop-sync", stopSyncRoute(app))
    .on("GET", "/guilds", guildsRoute(app))
    .on("GET", "/linked-role", linkedRoleRoute(app))
    .on("GET", "/linked-role/callback", linkedRoleCallbackRoute(app))
    .on("POST", "/linked-roles/register", linkedRolesRegisterRoute(app))
    .on("GET", "/linked-roles/status", linkedRolesStatusRoute(app));
  registerBackupRoutes(router, app);
  // The per-request debug line (and the clock read and URL parse it needs) only when it is kept.
  const debug = app.deps.config.logLevel === "debug";
  const path = (req: Request) => new URL(req.url).pathname;
  return async (req) => {
    const start = debug ? performance.now() : 0;
    let res: Response;
    try {
      res = await router.handle(req);
    } catch (error) {
      app.deps.log.error("route failed", { method: req.method, path: path(req), error });
      res = httpError(500, "internal error");
    }
    if (debug) {
      app.deps.log.debug("request", {
        method: req.method,
        path: path(req),
        status: res.status,
        ms: Math.round(performance.now() - start),
      });
    }
    return res;
  };
}
