/**
 * POST /stop-sync (bearer token): the running chunk stops after its current batch; a run with
 * no chunk running is marked stopped at once. Continue it later with POST /trigger-sync.
 */
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { stopSync, syncGuildId } from "../lib/sync/service.ts";

export function stopSyncRoute(app: App): Handler {
  return async (req, { url }) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    await req.body?.cancel();
    const requested = url.searchParams.get("guild");
    if (requested !== null && !/^\d{17,20}$/.test(requested)) {
      return httpError(400, "guild must be a Discord id");
    }
    const guildId = requested ?? syncGuildId(app.deps);
    if (!guildId) return httpError(400, "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID");
    const result = await stopSync(app.deps, guildId, "http");
    if (result.status === "noop") {
      return json({
        stopped: false,
        message: `nothing to stop: ${result.reason}`,
        status: result.progress,
      });
    }
    return json({
      stopped: result.status === "stopped",
      state: result.status,
      status: result.progress,
    }, 202);
  };
}
