/**
 * The guild an operator route acts on: `?guild=<id>`, else the configured default. The routes
 * that take it share the check and both refusals here.
 */
import type { Context } from "hono";
import { isSnowflake } from "./snowflake.ts";

/** The guild id to act on, or the 400 to send (a malformed `?guild=`, or none at all). */
export function requestedGuildOf(c: Context, fallback: string | undefined): string | Response {
  const requested = c.req.query("guild");
  if (requested !== undefined && !isSnowflake(requested)) {
    return c.json({ error: "guild must be a Discord id" }, 400);
  }
  const guildId = requested ?? fallback;
  if (!guildId) {
    return c.json({ error: "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID" }, 400);
  }
  return guildId;
}
