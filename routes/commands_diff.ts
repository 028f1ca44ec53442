/**
 * GET /commands/diff[?guild=<id>] (bearer SYNC_AUTH_TOKEN): the code's manifest against what
 * Discord has registered in the target scope (or that guild). 502 when Discord cannot be asked.
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { diffCommands, guildScope, manifestEnv, targetScope } from "../lib/manifest/mod.ts";

const query = z.object({ guild: z.string().regex(/^\d{17,20}$/).optional() });

export function commandsDiffRoute(app: App): Handler {
  return async (req, { url }) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const parsed = query.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) return httpError(400, "guild must be a Discord id");
    const env = manifestEnv(app);
    const scope = parsed.data.guild ? guildScope(parsed.data.guild) : targetScope(env);
    try {
      return json(await diffCommands(env, scope), 200, { "cache-control": "no-store" });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return httpError(502, `could not read the registered commands from Discord: ${detail}`, {
        scope,
      });
    }
  };
}
