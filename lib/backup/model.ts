/**
 * The snapshot of a guild: what a backup holds, its canonical form and checksum.
 *
 * A snapshot is the guild's content only: no backup id, label or capture time (those live in the
 * index). So two captures of an unchanged guild have the same canonical bytes and the same
 * checksum, however they were chunked, interrupted and resumed.
 *
 * Canonical form: JSON with object keys sorted, undefined fields left out, and every list in a
 * stable order (roles, channels, overwrites, emojis, stickers and members by numeric id; a
 * member's role ids likewise). The checksum (stored with the backup) is the SHA-256 of its UTF-8
 * bytes.
 *
 * Discord objects keep Discord's field names (snake_case), so an export reads like the API and
 * a restore sends the fields back as they are.
 */
import { compareIds } from "../discord/snowflake.ts";
import { canonicalJson } from "../canonical.ts";
import { z } from "zod";

export const SNAPSHOT_VERSION = 1;

const id = z.string().regex(/^\d{1,20}$/);

const guildSettingsSchema = z.object({
  id,
  name: z.string(),
  description: z.string().nullable(),
  verification_level: z.number().int(),
  default_message_notifications: z.number().int(),
  explicit_content_filter: z.number().int(),
  afk_channel_id: id.nullable(),
  afk_timeout: z.number().int(),
  system_channel_id: id.nullable(),
  system_channel_flags: z.number().int(),
  rules_channel_id: id.nullable(),
  public_updates_channel_id: id.nullable(),
  preferred_locale: z.string(),
  premium_progress_bar_enabled: z.boolean(),
});
export type GuildSettings = z.infer<typeof guildSettingsSchema>;

const roleSchema = z.object({
  id,
  name: z.string(),
  color: z.number().int(),
  hoist: z.boolean(),
  mentionable: z.boolean(),
  permissions: z.string().regex(/^\d+$/),
  position: z.number().int(),
  managed: z.boolean(),
  unicode_emoji: z.string().nullable(),
  icon: z.string().nullable(),
});
export type SnapRole = z.infer<typeof roleSchema>;

const overwriteSchema = z.object({
  id,
  /** 0 role, 1 member. */
  type: z.number().int().min(0).max(1),
  allow: z.string().regex(/^\d+$/),
  deny: z.string().regex(/^\d+$/),
});
export type SnapOverwrite = z.infer<typeof overwriteSchema>;

const channelSchema = z.object({
  id,
  type: z.number().int(),
  name: z.string(),
  position: z.number().int(),
  parent_id: id.nullable(),
  nsfw: z.boolean(),
  permission_overwrites: z.array(overwriteSchema),
  topic: z.string().nullable().optional(),
  rate_limit_per_user: z.number().int().optional(),
  bitrate: z.number().int().optional(),
  user_limit: z.number().int().optional(),
  rtc_region: z.string().nullable().optional(),
  video_quality_mode: z.number().int().optional(),
  default_auto_archive_duration: z.number().int().optional(),
  default_thread_rate_limit_per_user: z.number().int().optional(),
});
export type SnapChannel = z.infer<typeof channelSchema>;

const emojiSchema = z.object({
  id,
  name: z.string(),
  animated: z.boolean(),
  managed: z.boolean(),
  available: z.boolean(),
  require_colons: z.boolean(),
  roles: z.array(id),
});
export type SnapEmoji = z.infer<typeof emojiSchema>;

const stickerSchema = z.object({
  id,
  name: z.string(),
  description: z.string().nullable(),
  tags: z.string(),
  format_type: z.number().int(),
  available: z.boolean(),
});
export type SnapSticker = z.infer<typeof stickerSchema>;

export const memberSchema = z.object({ id, roles: z.array(id) });
export type SnapMember = z.infer<typeof memberSchema>;

const scheduleSettingsSchema = z.object({
  enabled: z.boolean(),
  hours: z.number().int().min(1).max(168),
});

/** The bot's own per-guild settings. */
const botSettingsSchema = z.object({
  flags: z.record(z.string(), z.boolean()),
  commandRoles: z.record(z.string(), z.array(id)),
  schedule: scheduleSettingsSchema.nullable(),
});
export type BotSettings = z.infer<typeof botSettingsSchema>;

export const snapshotSchema = z.object({
  v: z.literal(SNAPSHOT_VERSION),
  guild: guildSettingsSchema,
  roles: z.array(roleSchema),
  channels: z.array(channelSchema),
  emojis: z.array(emojiSchema),
  stickers: z.array(stickerSchema),
  /** Every non-bot member with their non-managed roles (possibly none). */
  members: z.array(memberSchema),
  bot: botSettingsSchema,
});
export type Snapshot = z.infer<typeof snapshotSchema>;

const byId = <T extends { id: string }>(list: T[]): T[] =>
  [...list].sort((a, b) => compareIds(a.id, b.id));
const sortedIds = (ids: string[]): string[] => [...new Set(ids)].sort(compareIds);

/** Puts every list of the snapshot in its canonical order (a new object; the input is kept). */
export function normalizeSnapshot(s: Snapshot): Snapshot {
  const commandRoles: Record<string, string[]> = {};
  for (const name of Object.keys(s.bot.commandRoles).sort()) {
    commandRoles[name] = sortedIds(s.bot.commandRoles[name]);
  }
  return {
    ...s,
    roles: byId(s.roles),
    channels: byId(s.channels).map((c) => ({
      ...c,
      permission_overwrites: byId(c.permission_overwrites),
    })),
    emojis: byId(s.emojis).map((e) => ({ ...e, roles: sortedIds(e.roles) })),
    stickers: byId(s.stickers),
    members: byId(s.members).map((m) => ({ id: m.id, roles: sortedIds(m.roles) })),
    bot: { ...s.bot, commandRoles },
  };
}

const encoder = new TextEncoder();

/** The canonical bytes of a snapshot (normalised first). */
export function canonicalBytes(s: Snapshot): Uint8Array {
  return encoder.encode(canonicalJson(normalizeSnapshot(s)));
}

export interface SnapshotCounts {
  roles: number;
  channels: number;
  categories: number;
  overwrites: number;
  emojis: number;
  stickers: number;
  members: number;
  memberRoles: number;
}

export function countsOf(s: Snapshot): SnapshotCounts {
  let overwrites = 0;
  let categories = 0;
  for (const c of s.channels) {
    overwrites += c.permission_overwrites.length;
    if (c.type === 4) categories++;
  }
  let memberRoles = 0;
  for (const m of s.members) memberRoles += m.roles.length;
  return {
    roles: s.roles.length,
    channels: s.channels.length - categories,
    categories,
    overwrites,
    emojis: s.emojis.length,
    stickers: s.stickers.length,
    members: s.members.length,
    memberRoles,
  };
}
