/** GET /metrics: the Prometheus text format of every live isolate (bearer SYNC_AUTH_TOKEN). */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { scrape } from "../lib/ops/metrics.ts";

export function metricsRoute(app: App): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    if (!app.deps.metrics) return httpError(503, "metrics are not enabled in this process");
    const { text, contentType } = await scrape(app.deps.kv, app.deps.metrics);
    return new Response(text, {
      headers: { "content-type": contentType, "cache-control": "no-store" },
    });
  };
}
