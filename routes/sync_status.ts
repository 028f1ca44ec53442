/** GET /sync-status (bearer token): the role sync's progress, in the shape every view reads. */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { syncGuildId, syncStatus } from "../lib/sync/service.ts";

export function syncStatusRoute(app: App): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const guildId = syncGuildId(app.deps);
    if (!guildId) return httpError(400, "DISCORD_GUILD_ID is not set on the server");
    const status = await syncStatus(app.deps, guildId);
    return json({ guildId, ...status }, 200, { "cache-control": "no-store" });
  };
}
