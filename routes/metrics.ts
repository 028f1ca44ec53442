/** GET /metrics: the Prometheus text format of every live isolate (bearer SYNC_AUTH_TOKEN). */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { gaugeText, linkedGauges, scrape } from "../lib/ops/metrics.ts";
import { freshGauges, freshReport } from "../lib/sync/fresh_pass.ts";
import { linkedRolesEnabled } from "../lib/linked_roles/connect.ts";
import { countLinked } from "../lib/linked_roles/store.ts";

export function metricsRoute(app: App): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    if (!app.deps.metrics) return httpError(503, "metrics are not enabled in this process");
    const { text, contentType } = await scrape(app.deps.kv, app.deps.metrics);
    const [report, linkedUsers] = await Promise.all([
      freshReport(app.deps),
      countLinked(app.deps.kv),
    ]);
    const gauges = gaugeText([
      ...freshGauges(report, app.deps.clock.now()),
      ...linkedGauges({ enabled: linkedRolesEnabled(app.deps), linkedUsers }),
    ]);
    return new Response(text + gauges, {
      headers: { "content-type": contentType, "cache-control": "no-store" },
    });
  };
}
