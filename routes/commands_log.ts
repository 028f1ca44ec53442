/** GET /commands/log[?limit=N] (bearer SYNC_AUTH_TOKEN): the newest sync attempts, newest first. */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { LOG_CAP, type LogReport, readLog } from "../lib/manifest/mod.ts";

const query = z.object({
  limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(LOG_CAP))
    .optional(),
});

export function commandsLogRoute(app: App): Handler {
  return async (c) => {
    const parsed = query.safeParse(c.req.query());
    if (!parsed.success) {
      return c.json({ error: `limit must be a number from 1 to ${LOG_CAP}` }, 400);
    }
    const report: LogReport = {
      entries: await readLog(app.deps.kv, parsed.data.limit ?? 20),
      cap: LOG_CAP,
    };
    return c.json(report, 200, { "cache-control": "no-store" });
  };
}
