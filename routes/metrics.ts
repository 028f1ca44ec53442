/** GET /metrics: the Prometheus text format of every live isolate (bearer SYNC_AUTH_TOKEN). */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { gaugeText, linkedGauges, scrape } from "../lib/ops/metrics.ts";
import { freshGauges, freshReport } from "../lib/sync/fresh_pass.ts";
import { linkedRolesEnabled } from "../lib/linked_roles/connect.ts";
import { countLinked } from "../lib/linked_roles/store.ts";

export function metricsRoute(app: App): Handler {
  return async (c) => {
    if (!app.deps.metrics) return c.json({ error: "metrics are not enabled in this process" }, 503);
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
