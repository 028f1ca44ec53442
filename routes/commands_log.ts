/** GET /commands/log[?limit=N] (bearer SYNC_AUTH_TOKEN): the newest sync attempts, newest first. */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { LOG_CAP, type LogReport, readLog } from "../lib/manifest/mod.ts";

const query = z.object({
  limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(LOG_CAP))
    .optional(),
});

export function commandsLogRoute(app: App): Handler {
  return async (req, { url }) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const parsed = query.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) return httpError(400, `limit must be a number from 1 to ${LOG_CAP}`);
    const report: LogReport = {
      entries: await readLog(app.deps.kv, parsed.data.limit ?? 20),
      cap: LOG_CAP,
    };
    return json(report, 200, { "cache-control": "no-store" });
  };
}
