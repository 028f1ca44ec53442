/**
 * POST /stop-sync (bearer token): the running chunk stops after its current batch; a run with
 * no chunk running is marked stopped at once. Continue it later with POST /trigger-sync.
 */
import { requestedGuild } from "../lib/deps.ts";
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { stopSync } from "../lib/sync/service.ts";
import { requestedGuildOf } from "../lib/http/requested_guild.ts";

export function stopSyncRoute(app: App): Handler {
  return async (c) => {
    await c.req.raw.body?.cancel();
    const guildId = requestedGuildOf(c, requestedGuild(app.deps));
    if (guildId instanceof Response) return guildId;
    const result = await stopSync(app.deps, guildId, "http");
    if (result.status === "noop") {
      return c.json({
        stopped: false,
        message: `nothing to stop: ${result.reason}`,
        status: result.progress,
      });
    }
    return c.json({
      stopped: result.status === "stopped",
      state: result.status,
      status: result.progress,
    }, 202);
  };
}
