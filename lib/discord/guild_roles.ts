/**
 * The one read of a guild's roles and the bot's place among them, shared by the sync's guild
 * context and /ethos_setup's checks (services side by side, so the reader sits below both): the
 * guild, its roles and the bot's own member, 3 calls in parallel plus `/users/@me` once ever.
 * What the bot may manage is left to the caller (the role hierarchy is the sync rule's).
 */
import type { APIGuild, APIRole } from "discord-api-types/v10";
import type { RestClient } from "./rest.ts";
import { getGuild, getMember, getRoles } from "./api.ts";
import { botUserId } from "./bot_user.ts";

export interface GuildRoles {
  guild: APIGuild;
  roles: APIRole[];
  botUserId: string;
  /** The bot member's role ids. */
  botRoles: string[];
  /** An owner bot may manage every role whatever its position. */
  botIsOwner: boolean;
}

export interface GuildRolesOptions {
  /** Ask for the guild's approximate member count (the sync shows it). */
  withCounts?: boolean;
  signal?: AbortSignal;
}

export async function readGuildRoles(
  deps: { kv: Deno.Kv; rest: RestClient },
  applicationId: string,
  guildId: string,
  { withCounts = false, signal }: GuildRolesOptions = {},
): Promise<GuildRoles> {
  const botId = await botUserId(deps.kv, deps.rest, applicationId, signal);
  const [guild, roles, bot] = await Promise.all([
    getGuild(deps.rest, guildId, { withCounts, signal }),
    getRoles(deps.rest, guildId, { signal }),
    getMember(deps.rest, guildId, botId, { signal }),
  ]);
  return {
    guild,
    roles,
    botUserId: botId,
    botRoles: bot.roles,
    botIsOwner: guild.owner_id === botId,
  };
}
