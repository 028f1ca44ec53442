/**
 * GET /commands/diff[?guild=<id>] (bearer SYNC_AUTH_TOKEN): the code's manifest against what
 * Discord has registered in the target scope (or that guild). 502 when Discord cannot be asked.
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { diffCommands, guildScope, manifestEnv, targetScope } from "../lib/manifest/mod.ts";
import { SNOWFLAKE } from "../lib/discord/snowflake.ts";

const query = z.object({ guild: z.string().regex(SNOWFLAKE).optional() });

export function commandsDiffRoute(app: App): Handler {
  return async (c) => {
    const parsed = query.safeParse(c.req.query());
    if (!parsed.success) return c.json({ error: "guild must be a Discord id" }, 400);
    const env = manifestEnv(app);
    const scope = parsed.data.guild ? guildScope(parsed.data.guild) : targetScope(env);
    try {
      return c.json(await diffCommands(env, scope), 200, { "cache-control": "no-store" });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return c.json({
        error: `could not read the registered commands from Discord: ${detail}`,
        scope,
      }, 502);
    }
  };
}
