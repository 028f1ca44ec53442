/** One emulated guild: roles, members, channels, emojis and stickers, stored in Discord's shapes. */
import {
  type APIEmoji,
  type APIOverwrite,
  type APIRole,
  type APISticker,
  ChannelType,
  type RoleFlags,
} from "discord-api-types/v10";
import { MemberStore } from "./members.ts";
import { compareRoles, type GuildLike } from "./permissions.ts";

/** Role ids of the Ethos roles the bot syncs, created by the seed below the bot's role. */
export interface EthosRoleIds {
  verified: string;
  profile: string;
  exemplary: string;
  reputable: string;
  neutral: string;
  questionable: string;
  untrusted: string;
}

/**
 * A guild channel as Discord sends it. Type-specific fields are optional here and only set for
 * the types that carry them, so the record serialises as the API object directly.
 */
export interface ChannelRecord {
  id: string;
  type: ChannelType;
  guild_id: string;
  name: string;
  position: number;
  parent_id: string | null;
  permission_overwrites: APIOverwrite[];
  nsfw: boolean;
  flags: number;
  topic?: string | null;
  rate_limit_per_user?: number;
  last_message_id?: string | null;
  default_auto_archive_duration?: number;
  bitrate?: number;
  user_limit?: number;
  rtc_region?: string | null;
  video_quality_mode?: number;
  available_tags?: unknown[];
  default_reaction_emoji?: unknown;
  default_sort_order?: number | null;
  default_forum_layout?: number;
  default_thread_rate_limit_per_user?: number;
}

/**
 * The guild settings Discord lets a bot with MANAGE_GUILD edit (PATCH /guilds/{id}), in Discord's
 * field names. `system_channel_id` lives on the guild itself (`systemChannelId`).
 */
export interface GuildSettings {
  description: string | null;
  verification_level: number;
  default_message_notifications: number;
  explicit_content_filter: number;
  afk_channel_id: string | null;
  afk_timeout: number;
  system_channel_flags: number;
  rules_channel_id: string | null;
  public_updates_channel_id: string | null;
  preferred_locale: string;
  premium_progress_bar_enabled: boolean;
}

export function defaultGuildSettings(): GuildSettings {
  return {
    description: null,
    verification_level: 1,
    default_message_notifications: 1,
    explicit_content_filter: 2,
    afk_channel_id: null,
    afk_timeout: 300,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    preferred_locale: "en-US",
    premium_progress_bar_enabled: false,
  };
}

export class EmulatedGuild implements GuildLike {
  readonly id: string;
  name: string;
  ownerId: string;
  readonly roles = new Map<string, APIRole>();
  readonly members = new MemberStore();
  readonly channels = new Map<string, ChannelRecord>();
  emojis: APIEmoji[] = [];
  stickers: APISticker[] = [];
  /** Set by the seed; undefined for guilds built by hand. */
  ethosRoles?: EthosRoleIds;
  /** The bot's own (managed) role, high up and holding MANAGE_ROLES. */
  botRole?: string;
  /** A role above the bot's, which the bot may never give or take. */
  aboveBotRole?: string;
  /** A managed role of another integration, below the bot's role. */
  managedRole?: string;
  /** Ordinary extra roles, for backup and restore tests. */
  extraRoles: string[] = [];
  systemChannelId: string | null = null;
  /** Editable settings (verification, notifications, content filter, AFK, locale, ...). */
  settings: GuildSettings = defaultGuildSettings();

  constructor(id: string, name: string, ownerId: string) {
    this.id = id;
    this.name = name;
    this.ownerId = ownerId;
  }

  everyoneRole(): APIRole {
    return this.roles.get(this.id)!;
  }

  /** Roles lowest first, as a positions list reads. */
  sortedRoles(): APIRole[] {
    return [...this.roles.values()].sort(compareRoles);
  }
}

export function makeRole(fields: Partial<APIRole> & Pick<APIRole, "id" | "name">): APIRole {
  const color = fields.color ?? 0;
  return {
    color,
    colors: fields.colors ?? { primary_color: color, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: 1,
    permissions: "0",
    managed: false,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...fields,
  };
}

/** A channel with the fields Discord sends for its type. */
export function makeChannel(
  fields: Partial<ChannelRecord> & Pick<ChannelRecord, "id" | "type" | "guild_id" | "name">,
): ChannelRecord {
  const base: ChannelRecord = {
    id: fields.id,
    type: fields.type,
    guild_id: fields.guild_id,
    name: fields.name,
    position: 0,
    parent_id: null,
    permission_overwrites: [],
    nsfw: false,
    flags: 0,
  };
  switch (fields.type) {
    case ChannelType.GuildText:
    case ChannelType.GuildAnnouncement:
      Object.assign(base, {
        topic: null,
        rate_limit_per_user: 0,
        last_message_id: null,
        default_auto_archive_duration: 4320,
      });
      break;
    case ChannelType.GuildVoice:
      Object.assign(base, {
        bitrate: 64000,
        user_limit: 0,
        rtc_region: null,
        rate_limit_per_user: 0,
        last_message_id: null,
        video_quality_mode: 1,
      });
      break;
    case ChannelType.GuildStageVoice:
      Object.assign(base, {
        bitrate: 64000,
        user_limit: 0,
        rtc_region: null,
        rate_limit_per_user: 0,
        topic: null,
        last_message_id: null,
      });
      break;
    case ChannelType.GuildForum:
    case ChannelType.GuildMedia:
      Object.assign(base, {
        topic: null,
        rate_limit_per_user: 0,
        last_message_id: null,
        available_tags: [],
        default_reaction_emoji: null,
        default_sort_order: null,
        default_forum_layout: 0,
        default_thread_rate_limit_per_user: 0,
      });
      break;
  }
  const out = { ...base, ...stripUndefined(fields) };
  if (fields.type === ChannelType.GuildCategory) out.parent_id = null;
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
