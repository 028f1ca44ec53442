/**
 * POST /commands/sync {force?: boolean} (bearer SYNC_AUTH_TOKEN): syncs the manifest when it
 * changed (or always, with force). Always 200 once the sync ran: the report's `status` says how it
 * went (ok, skipped, degraded, failed).
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { parseBody } from "../lib/http/json_body.ts";
import type { Handler } from "hono";
import { manifestEnv, syncCommands } from "../lib/manifest/mod.ts";

const body = z.strictObject({ force: z.boolean().optional() });

export function commandsSyncRoute(app: App): Handler {
  return async (c) => {
    const parsed = await parseBody(c, body, 'body must be {"force"?: boolean}');
    if (!parsed.ok) return parsed.res;
    const report = await syncCommands(manifestEnv(app), {
      force: parsed.value.force,
      trigger: "operator",
    });
    return c.json(report, 200, { "cache-control": "no-store" });
  };
}
