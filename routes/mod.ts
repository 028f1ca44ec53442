/**
 * The route table on Hono: one module per route; this file only wires them to paths, with the
 * operator guard and body caps each needs, and the answers for an unknown path (404), a known
 * path with another method (405 with Allow) and a route that throws (500, logged).
 */
import { Hono } from "hono";
import { METHODS } from "hono/router";
import type { H } from "hono/types";
import { HTTPException } from "hono/http-exception";
import type { App } from "../lib/app.ts";
import { operatorAuth } from "../lib/http/operator.ts";
import { JSON_BODY_LIMIT, limitBody } from "../lib/http/json_body.ts";
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

/**
 * A Hono app that remembers each path's methods, for the 405's Allow header. The 405 is
 * registered for the other methods only, never with `all`: a second handler matching a request
 * makes Hono compose a chain for it, about 3 µs a request on the interactions hot path (measured).
 */
export class Routes {
  readonly web = new Hono();
  #methods = new Map<string, string[]>();

  on(method: string, path: string, ...handlers: H[]): this {
    this.web.on(method, [path], ...handlers);
    const methods = this.#methods.get(path) ?? [];
    methods.push(method, ...(method === "GET" ? ["HEAD"] : []));
    this.#methods.set(path, methods);
    return this;
  }

  /** After every route: other methods on a known path get 405. */
  close(): Hono {
    for (const [path, methods] of this.#methods) {
      const others = METHODS.map((m) => m.toUpperCase()).filter((m) => !methods.includes(m));
      this.web.on(
        others,
        [path],
        (c) =>
          c.json({ error: `method ${c.req.method} not allowed` }, 405, {
            allow: methods.join(", "),
          }),
      );
    }
    return this.web;
  }
}

export function createHandler(app: App): (req: Request) => Promise<Response> {
  const routes = new Routes();
  const { log, config } = app.deps;
  // The per-request debug line (and the clock read it needs) only when it is kept.
  if (config.logLevel === "debug") {
    routes.web.use(async (c, next) => {
      const start = performance.now();
      await next();
      log.debug("request", {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - start),
      });
    });
  }
  // /interactions has no middleware: it caps its body itself (see interactions.ts).
  const operator = operatorAuth(config.syncAuthToken);
  const json = limitBody(JSON_BODY_LIMIT);
  const small = limitBody(4 * 1024);
  routes
    .on("POST", "/interactions", interactionsRoute(app))
    .on("GET", "/health", healthRoute(app))
    .on("GET", "/metrics", operator, metricsRoute(app))
    .on("GET", "/status", statusPageRoute(app))
    .on("GET", "/status.json", statusJsonRoute(app))
    .on("GET", "/status/login", statusLoginRoute(app))
    .on("POST", "/status-link", operator, statusLinkRoute(app))
    .on("GET", "/commands/diff", operator, commandsDiffRoute(app))
    .on("POST", "/commands/sync", operator, small, commandsSyncRoute(app))
    .on("GET", "/commands/log", operator, commandsLogRoute(app))
    .on("POST", "/trigger-sync", operator, json, triggerSyncRoute(app))
    .on("GET", "/sync-status", operator, syncStatusRoute(app))
    .on("POST", "/stop-sync", operator, stopSyncRoute(app))
    .on("GET", "/guilds", operator, guildsRoute(app))
    .on("GET", "/linked-role", linkedRoleRoute(app))
    .on("GET", "/linked-role/callback", linkedRoleCallbackRoute(app))
    .on("POST", "/linked-roles/register", operator, small, linkedRolesRegisterRoute(app))
    .on("GET", "/linked-roles/status", operator, linkedRolesStatusRoute(app));
  registerBackupRoutes(routes, app, operator, json);
  const web = routes.close();
  web.notFound((c) => c.json({ error: "not found" }, 404));
  web.onError((error, c) => {
    // bearerAuth and bodyLimit refuse by throwing the response they mean.
    if (error instanceof HTTPException) return error.getResponse();
    log.error("route failed", { method: c.req.method, path: c.req.path, error });
    return c.json({ error: "internal error" }, 500);
  });
  // Promise.resolve hands Hono's promise on as it is: no extra await on the hot path.
  return (req) => Promise.resolve(web.fetch(req));
}
