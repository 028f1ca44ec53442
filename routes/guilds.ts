/**
 * GET /guilds (bearer token): the guilds this deployment syncs (the environment's guild and every
 * guild set up with /ethos_setup, active ones), whether each is ready, its schedule and its sync
 * state; what `sync-helper.ts complete --all` walks.
 */
import type { App } from "../lib/app.ts";
import type { Handler } from "hono";
import { configuredGuilds } from "../lib/guilds/setup.ts";
import { syncStatus } from "../lib/sync/service.ts";

export function guildsRoute(app: App): Handler {
  return async (c) => {
    const guilds = await configuredGuilds(app.deps.config, app.deps.kv);
    const out = await Promise.all(guilds.map(async (g) => ({
      guildId: g.guildId,
      configured: g.configured,
      schedule: g.schedule,
      fromEnvironment: g.guildId === app.deps.config.discord.guildId,
      sync: (await syncStatus(app.deps, g.guildId)).state,
    })));
    return c.json({ guilds: out }, 200, { "cache-control": "no-store" });
  };
}
