/** GET /sync-status (bearer token): the role sync's progress, in the shape every view reads. */
import { requestedGuild } from "../lib/deps.ts";
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { syncStatus } from "../lib/sync/service.ts";
import { requestedGuildOf } from "../lib/http/requested_guild.ts";

export function syncStatusRoute(app: App): Handler {
  return async (c) => {
    const guildId = requestedGuildOf(c, requestedGuild(app.deps));
    if (guildId instanceof Response) return guildId;
    const status = await syncStatus(app.deps, guildId);
    return c.json({ guildId, ...status }, 200, { "cache-control": "no-store" });
  };
}
