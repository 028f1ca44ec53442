/** The route table: one module per route; this file only wires them to paths. */
import type { App } from "../lib/app.ts";
import { Router } from "../lib/http/router.ts";
import { httpError } from "../lib/http/response.ts";
import { interactionsRoute } from "./interactions.ts";
import { healthRoute } from "./health.ts";

export function createHandler(app: App): (req: Request) => Promise<Response> {
  const router = new Router()
    .on("POST", "/interactions", interactionsRoute(app))
    .on("GET", "/health", healthRoute(app));
  return async (req) => {
    const start = performance.now();
    let res: Response;
    try {
      res = await router.handle(req);
    } catch (error) {
      app.deps.log.error("route failed", {
        method: req.method,
        path: new URL(req.url).pathname,
        error,
      });
      res = httpError(500, "internal error");
    }
    app.deps.log.debug("request", {
      method: req.method,
      path: new URL(req.url).pathname,
      status: res.status,
      ms: Math.round(performance.now() - start),
    });
    return res;
  };
}
