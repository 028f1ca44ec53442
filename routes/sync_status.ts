/** GET /sync-status (bearer token): the role sync's progress, in the shape every view reads. */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { syncGuildId, syncStatus } from "../lib/sync/service.ts";

export function syncStatusRoute(app: App): Handler {
  return async (c) => {
    const requested = c.req.query("guild");
    if (requested !== undefined && !/^\d{17,20}$/.test(requested)) {
      return c.json({ error: "guild must be a Discord id" }, 400);
    }
    const guildId = requested ?? syncGuildId(app.deps);
    if (!guildId) {
      return c.json({ error: "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID" }, 400);
    }
    const status = await syncStatus(app.deps, guildId);
    return c.json({ guildId, ...status }, 200, { "cache-control": "no-store" });
  };
}
