/** GET /health (no auth): version, uptime and whether KV answers. 503 when it does not. */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { kvHealth } from "../lib/ops/health.ts";

export function healthRoute(app: App): Handler {
  return async (c) => {
    const kv = await kvHealth(app.deps.kv, app.deps.clock);
    const body = {
      status: kv.ok ? "ok" : "degraded",
      version: app.deps.config.version,
      uptimeSeconds: Math.round((app.deps.clock.now() - app.deps.startedAt) / 1000),
      kv,
      // "derived": SIGNING_SECRET is unset and the keys come from a secret generated in KV.
      signingSecret: app.keys.source,
    };
    return c.json(body, kv.ok ? 200 : 503, { "cache-control": "no-store" });
  };
}
