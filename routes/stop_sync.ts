/**
 * POST /stop-sync (bearer token): the running chunk stops after its current batch; a run with
 * no chunk running is marked stopped at once. Continue it later with POST /trigger-sync.
 */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { stopSync, syncGuildId } from "../lib/sync/service.ts";

export function stopSyncRoute(app: App): Handler {
  return async (c) => {
    await c.req.raw.body?.cancel();
    const requested = c.req.query("guild");
    if (requested !== undefined && !/^\d{17,20}$/.test(requested)) {
      return c.json({ error: "guild must be a Discord id" }, 400);
    }
    const guildId = requested ?? syncGuildId(app.deps);
    if (!guildId) {
      return c.json({ error: "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID" }, 400);
    }
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
