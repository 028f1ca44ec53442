/**
 * POST /commands/sync {force?: boolean} (bearer SYNC_AUTH_TOKEN): syncs the manifest when it
 * changed (or always, with force). Always 200 once the sync ran: the report's `status` says how it
 * went (ok, skipped, degraded, failed).
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { readJson } from "../lib/http/body.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { manifestEnv, syncCommands } from "../lib/manifest/mod.ts";

const body = z.strictObject({ force: z.boolean().optional() });

export function commandsSyncRoute(app: App): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const raw = await readJson(req, 4 * 1024);
    if (!raw.ok) return httpError(raw.status, raw.error);
    const parsed = body.safeParse(raw.value);
    if (!parsed.success) return httpError(400, 'body must be {"force"?: boolean}');
    const report = await syncCommands(manifestEnv(app), {
      force: parsed.data.force,
      trigger: "operator",
    });
    return json(report, 200, { "cache-control": "no-store" });
  };
}
