/**
 * Thin, typed wrappers over `RestClient` for the Discord routes the bot uses. Types come from
 * discord-api-types; every write that Discord records in the guild audit log takes a required
 * `reason` (sent as X-Audit-Log-Reason). The interaction webhook routes (follow-ups, the original
 * response) are the command framework's, in interactions/followup.ts; reading a scope's
 * registered commands is the manifest engine's.
 */
import type {
  APIApplicationCommand,
  APIChannel,
  APIEmoji,
  APIGuild,
  APIGuildMember,
  APIRole,
  APISticker,
  APIUser,
  RESTGetAPIGuildChannelsResult,
  RESTGetAPIGuildMembersResult,
  RESTPatchAPIChannelJSONBody,
  RESTPatchAPIGuildRolePositionsJSONBody,
  RESTPostAPIGuildChannelJSONBody,
  RESTPostAPIGuildRoleJSONBody,
  RESTPutAPIApplicationCommandsJSONBody,
  RESTPutAPIApplicationGuildCommandsJSONBody,
  RESTPutAPIChannelPermissionJSONBody,
} from "discord-api-types/v10";
import type { RequestOptions, RestClient } from "./rest.ts";

/** Options every wrapper accepts (cancellation, pause policy). */
export type CallOptions = Pick<RequestOptions, "signal" | "maxPauseWaitMs">;

const seg = (id: string) => encodeURIComponent(id);

// --- members -------------------------------------------------------------------------------

/** One page of members (max 1000), ascending by user id, after `after`. */
export function listMembers(
  rest: RestClient,
  guildId: string,
  page: { limit?: number; after?: string } = {},
  opts: CallOptions = {},
): Promise<RESTGetAPIGuildMembersResult> {
  return rest.get<RESTGetAPIGuildMembersResult>(`/guilds/${seg(guildId)}/members`, {
    ...opts,
    query: { limit: Math.min(1000, Math.max(1, page.limit ?? 1000)), after: page.after ?? "0" },
  });
}

export function getMember(
  rest: RestClient,
  guildId: string,
  userId: string,
  opts: CallOptions = {},
): Promise<APIGuildMember> {
  return rest.get<APIGuildMember>(`/guilds/${seg(guildId)}/members/${seg(userId)}`, opts);
}

/** Replaces the member's whole role list (idempotent; retried on 5xx). */
export function modifyMemberRoles(
  rest: RestClient,
  guildId: string,
  userId: string,
  roles: string[],
  reason: string,
  opts: CallOptions = {},
): Promise<APIGuildMember> {
  return rest.patch<APIGuildMember>(`/guilds/${seg(guildId)}/members/${seg(userId)}`, {
    ...opts,
    body: { roles },
    reason,
  });
}

export async function addMemberRole(
  rest: RestClient,
  guildId: string,
  userId: string,
  roleId: string,
  reason: string,
  opts: CallOptions = {},
): Promise<void> {
  await rest.put(`/guilds/${seg(guildId)}/members/${seg(userId)}/roles/${seg(roleId)}`, {
    ...opts,
    reason,
  });
}

export async function removeMemberRole(
  rest: RestClient,
  guildId: string,
  userId: string,
  roleId: string,
  reason: string,
  opts: CallOptions = {},
): Promise<void> {
  await rest.delete(`/guilds/${seg(guildId)}/members/${seg(userId)}/roles/${seg(roleId)}`, {
    ...opts,
    reason,
  });
}

// --- guild, roles, channels ------------------------------------------------------------------

export function getGuild(
  rest: RestClient,
  guildId: string,
  { withCounts = false, ...opts }: CallOptions & { withCounts?: boolean } = {},
): Promise<APIGuild> {
  return rest.get<APIGuild>(`/guilds/${seg(guildId)}`, {
    ...opts,
    query: withCounts ? { with_counts: true } : undefined,
  });
}

export function getRoles(
  rest: RestClient,
  guildId: string,
  opts: CallOptions = {},
): Promise<APIRole[]> {
  return rest.get<APIRole[]>(`/guilds/${seg(guildId)}/roles`, opts);
}

export function createRole(
  rest: RestClient,
  guildId: string,
  body: RESTPostAPIGuildRoleJSONBody,
  reason: string,
  opts: CallOptions = {},
): Promise<APIRole> {
  return rest.post<APIRole>(`/guilds/${seg(guildId)}/roles`, { ...opts, body, reason });
}

/** Posts a message in a channel (the log channel's run summaries). */
export function createMessage(
  rest: RestClient,
  channelId: string,
  body: { content: string; allowed_mentions?: { parse: never[] } },
  opts: CallOptions = {},
): Promise<{ id: string }> {
  return rest.post<{ id: string }>(`/channels/${seg(channelId)}/messages`, { ...opts, body });
}

/** Moves roles (Modify Guild Role Positions); answers the guild's roles. */
export function reorderRoles(
  rest: RestClient,
  guildId: string,
  positions: RESTPatchAPIGuildRolePositionsJSONBody,
  reason: string,
  opts: CallOptions = {},
): Promise<APIRole[]> {
  return rest.patch<APIRole[]>(`/guilds/${seg(guildId)}/roles`, {
    ...opts,
    body: positions,
    reason,
  });
}

export function getChannels(
  rest: RestClient,
  guildId: string,
  opts: CallOptions = {},
): Promise<RESTGetAPIGuildChannelsResult> {
  return rest.get<RESTGetAPIGuildChannelsResult>(`/guilds/${seg(guildId)}/channels`, opts);
}

export function createChannel(
  rest: RestClient,
  guildId: string,
  body: RESTPostAPIGuildChannelJSONBody,
  reason: string,
  opts: CallOptions = {},
): Promise<APIChannel> {
  return rest.post<APIChannel>(`/guilds/${seg(guildId)}/channels`, { ...opts, body, reason });
}

export function modifyChannel(
  rest: RestClient,
  channelId: string,
  body: RESTPatchAPIChannelJSONBody,
  reason: string,
  opts: CallOptions = {},
): Promise<APIChannel> {
  return rest.patch<APIChannel>(`/channels/${seg(channelId)}`, { ...opts, body, reason });
}

/** Creates or replaces one permission overwrite (role or member) on a channel. */
export async function editChannelPermission(
  rest: RestClient,
  channelId: string,
  overwriteId: string,
  body: RESTPutAPIChannelPermissionJSONBody,
  reason: string,
  opts: CallOptions = {},
): Promise<void> {
  await rest.put(`/channels/${seg(channelId)}/permissions/${seg(overwriteId)}`, {
    ...opts,
    body,
    reason,
  });
}

export function getEmojis(
  rest: RestClient,
  guildId: string,
  opts: CallOptions = {},
): Promise<APIEmoji[]> {
  return rest.get<APIEmoji[]>(`/guilds/${seg(guildId)}/emojis`, opts);
}

export function getStickers(
  rest: RestClient,
  guildId: string,
  opts: CallOptions = {},
): Promise<APISticker[]> {
  return rest.get<APISticker[]>(`/guilds/${seg(guildId)}/stickers`, opts);
}

export function getCurrentUser(rest: RestClient, opts: CallOptions = {}): Promise<APIUser> {
  return rest.get<APIUser>("/users/@me", opts);
}

// --- application commands -------------------------------------------------------------------

const commandsPath = (appId: string, guildId?: string) =>
  guildId
    ? `/applications/${seg(appId)}/guilds/${seg(guildId)}/commands`
    : `/applications/${seg(appId)}/commands`;

/** The registered command set (global, or one guild's), localisations included. */
export function getCommands(
  rest: RestClient,
  appId: string,
  guildId?: string,
  opts: CallOptions = {},
): Promise<APIApplicationCommand[]> {
  return rest.get<APIApplicationCommand[]>(commandsPath(appId, guildId), {
    ...opts,
    query: { with_localizations: true },
  });
}

/** Replaces the whole command set (global, or one guild's). PUT: safe to retry. */
export function bulkOverwriteCommands(
  rest: RestClient,
  appId: string,
  commands: RESTPutAPIApplicationCommandsJSONBody | RESTPutAPIApplicationGuildCommandsJSONBody,
  guildId?: string,
  opts: CallOptions = {},
): Promise<APIApplicationCommand[]> {
  return rest.put<APIApplicationCommand[]>(commandsPath(appId, guildId), {
    ...opts,
    body: commands,
  });
}
