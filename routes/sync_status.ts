/** GET /sync-status (bearer token): the role sync's progress, in the shape every view reads. */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { syncGuildId, syncStatus } from "../lib/sync/service.ts";

export function syncStatusRoute(app: App): Handler {
  return async (req, { url }) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const requested = url.searchParams.get("guild");
    if (requested !== null && !/^\d{17,20}$/.test(requested)) {
      return httpError(400, "guild must be a Discord id");
    }
    const guildId = requested ?? syncGuildId(app.deps);
    if (!guildId) return httpError(400, "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID");
    const status = await syncStatus(app.deps, guildId);
    return json({ guildId, ...status }, 200, { "cache-control": "no-store" });
  };
}
