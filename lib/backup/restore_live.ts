/**
 * The live guild as a restore plans against it (restore_plan.ts): its settings, roles and
 * channels, and how high the bot's own roles reach. Read afresh by every restore chunk and by the
 * restore preview.
 */
import { botUserId } from "../discord/bot_user.ts";
import type { AppDeps } from "../deps.ts";
import { getChannels, getGuild, getMember, getRoles } from "../discord/api.ts";
import { channelOf, roleOf, settingsOf } from "./capture.ts";
import type { LiveGuild } from "./restore_plan.ts";
import { compareRoles } from "../discord/snowflake.ts";

/** The live guild: guild (with roles), channels and the bot's member (three calls). */
export async function readLiveGuild(
  deps: AppDeps,
  guildId: string,
  signal?: AbortSignal,
): Promise<LiveGuild & { approxMembers: number | null }> {
  const { rest } = deps;
  const botId = await botUserId(deps.kv, deps.rest, deps.config.discord.applicationId, signal);
  const guild = await getGuild(rest, guildId, { withCounts: true, signal });
  const channels = await getChannels(rest, guildId, { signal });
  const me = await getMember(rest, guildId, botId, { signal });
  const roles = (guild.roles ?? await getRoles(rest, guildId, { signal })).map(roleOf);
  let top = roles.find((r) => r.id === guildId) ?? { id: guildId, position: 0 };
  for (const r of roles) {
    if (me.roles.includes(r.id) && compareRoles(r, top) > 0) top = r;
  }
  // The owner outranks every role.
  const isOwner = guild.owner_id === botId;
  return {
    guildId,
    guild: settingsOf(guild),
    roles,
    channels: channels.map(channelOf).filter((c) => c !== null),
    botTopPosition: isOwner ? Number.MAX_SAFE_INTEGER : top.position,
    botTopId: isOwner ? "0" : top.id,
    approxMembers: (guild as { approximate_member_count?: number }).approximate_member_count ??
      null,
  };
}
