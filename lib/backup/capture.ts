/**
 * Capture: reads a guild through the REST client into the snapshot model. The guild object
 * (settings, roles, emojis, stickers) and the channel list are two calls; members come page by
 * page (1000 a page, user-id order), so a large guild's capture can be split into chunks by the
 * capture job (capture_job.ts) and a small one read whole (`captureLive`, for diffs against the
 * live guild).
 */
import { compareIds } from "../discord/snowflake.ts";
import type {
  APIEmoji,
  APIGuild,
  APIGuildMember,
  APIRole,
  APISticker,
} from "discord-api-types/v10";
import type { RestClient } from "../discord/rest.ts";
import {
  getChannels,
  getEmojis,
  getGuild,
  getRoles,
  getStickers,
  listMembers,
} from "../discord/api.ts";
import { getFlags } from "../ops/flags.ts";
import { keys } from "../kv/keys.ts";
import { z } from "zod";
import {
  type BotSettings,
  type GuildSettings,
  normalizeSnapshot,
  type SnapChannel,
  type SnapEmoji,
  type SnapMember,
  type SnapRole,
  type Snapshot,
  SNAPSHOT_VERSION,
  type SnapSticker,
} from "./model.ts";
import { getSchedule } from "./schedule.ts";

/** Guild channel types a backup keeps (threads are not structure). */
const GUILD_CHANNEL_TYPES: ReadonlySet<number> = new Set([0, 2, 4, 5, 13, 15, 16]);
export const CATEGORY = 4;
export const MEMBER_PAGE = 1000;

/** Everything but the members: captured once at the start of a run and kept for its chunks. */
export interface CaptureBase {
  guild: GuildSettings;
  roles: SnapRole[];
  channels: SnapChannel[];
  emojis: SnapEmoji[];
  stickers: SnapSticker[];
  bot: BotSettings;
  /** Discord's approximate member count (bots included), for progress. */
  approxMembers: number | null;
}

export const captureBaseSchema = z.object({
  guild: z.unknown(),
  roles: z.array(z.unknown()),
  channels: z.array(z.unknown()),
  emojis: z.array(z.unknown()),
  stickers: z.array(z.unknown()),
  bot: z.unknown(),
  approxMembers: z.number().nullable(),
}).transform((v) => v as unknown as CaptureBase);

export function settingsOf(g: APIGuild): GuildSettings {
  return {
    id: g.id,
    name: g.name,
    description: g.description ?? null,
    verification_level: g.verification_level,
    default_message_notifications: g.default_message_notifications,
    explicit_content_filter: g.explicit_content_filter,
    afk_channel_id: g.afk_channel_id ?? null,
    afk_timeout: g.afk_timeout,
    system_channel_id: g.system_channel_id ?? null,
    system_channel_flags: g.system_channel_flags ?? 0,
    rules_channel_id: g.rules_channel_id ?? null,
    public_updates_channel_id: g.public_updates_channel_id ?? null,
    preferred_locale: g.preferred_locale ?? "en-US",
    premium_progress_bar_enabled: g.premium_progress_bar_enabled ?? false,
  };
}

export function roleOf(r: APIRole): SnapRole {
  return {
    id: r.id,
    name: r.name,
    color: r.color,
    hoist: r.hoist,
    mentionable: r.mentionable,
    permissions: r.permissions,
    position: r.position,
    managed: r.managed,
    unicode_emoji: r.unicode_emoji ?? null,
    icon: r.icon ?? null,
  };
}

/** A guild channel in the snapshot's shape; null for threads and DMs. */
export function channelOf(c: { id: string; type: number }): SnapChannel | null {
  if (!GUILD_CHANNEL_TYPES.has(c.type)) return null;
  const raw = c as unknown as Record<string, unknown>;
  const out: SnapChannel = {
    id: c.id,
    type: c.type,
    name: String(raw.name ?? ""),
    position: Number(raw.position ?? 0),
    parent_id: (raw.parent_id as string | null | undefined) ?? null,
    nsfw: Boolean(raw.nsfw ?? false),
    permission_overwrites: ((raw.permission_overwrites ?? []) as Record<string, unknown>[]).map(
      (o) => ({
        id: String(o.id),
        type: Number(o.type),
        allow: String(o.allow ?? "0"),
        deny: String(o.deny ?? "0"),
      }),
    ),
  };
  if (c.type === CATEGORY) out.parent_id = null;
  const copy = <K extends keyof SnapChannel>(k: K) => {
    if (raw[k] !== undefined) (out as Record<string, unknown>)[k] = raw[k];
  };
  copy("topic");
  copy("rate_limit_per_user");
  copy("bitrate");
  copy("user_limit");
  copy("rtc_region");
  copy("video_quality_mode");
  copy("default_auto_archive_duration");
  copy("default_thread_rate_limit_per_user");
  return out;
}

function emojiOf(e: APIEmoji): SnapEmoji {
  return {
    id: e.id ?? "0",
    name: e.name ?? "",
    animated: e.animated ?? false,
    managed: e.managed ?? false,
    available: e.available ?? true,
    require_colons: e.require_colons ?? true,
    roles: e.roles ?? [],
  };
}

function stickerOf(s: APISticker): SnapSticker {
  return {
    id: s.id,
    name: s.name,
    description: s.description ?? null,
    tags: s.tags ?? "",
    format_type: s.format_type,
    available: s.available ?? true,
  };
}

/** The bot's own per-guild settings: feature flags, command allow-lists, backup schedule. */
async function readBotSettings(kv: Deno.Kv, guildId: string): Promise<BotSettings> {
  const flags = await getFlags(kv, guildId);
  const commandRoles: Record<string, string[]> = {};
  const prefix = keys.commandRoles(guildId, "").slice(0, -1);
  for await (const e of kv.list({ prefix })) {
    const name = e.key[e.key.length - 1];
    if (typeof name === "string" && Array.isArray(e.value) && e.value.length) {
      commandRoles[name] = (e.value as unknown[]).filter((v): v is string => typeof v === "string");
    }
  }
  const schedule = await getSchedule(kv, guildId);
  return {
    flags: { ...flags },
    commandRoles,
    schedule: schedule ? { enabled: schedule.enabled, hours: schedule.hours } : null,
  };
}

export interface ReadOptions {
  signal?: AbortSignal;
}

/** Guild settings, roles, channels, emojis, stickers and the bot's settings: two REST calls. */
export async function captureBase(
  rest: RestClient,
  kv: Deno.Kv,
  guildId: string,
  opts: ReadOptions = {},
): Promise<CaptureBase> {
  const guild = await getGuild(rest, guildId, { withCounts: true, signal: opts.signal });
  const channels = await getChannels(rest, guildId, { signal: opts.signal });
  const roles = guild.roles ?? await getRoles(rest, guildId, { signal: opts.signal });
  const emojis = guild.emojis ?? await getEmojis(rest, guildId, { signal: opts.signal });
  const stickers = guild.stickers ?? await getStickers(rest, guildId, { signal: opts.signal });
  return {
    guild: settingsOf(guild),
    roles: roles.map(roleOf),
    channels: channels.map(channelOf).filter((c): c is SnapChannel => c !== null),
    emojis: emojis.map(emojiOf),
    stickers: stickers.map(stickerOf),
    bot: await readBotSettings(kv, guildId),
    approxMembers: (guild as { approximate_member_count?: number }).approximate_member_count ??
      null,
  };
}

/** Managed roles (bots, integrations, boosters) and @everyone: never part of member entries. */
export function unrecordedRoles(base: Pick<CaptureBase, "roles" | "guild">): Set<string> {
  const out = new Set<string>([base.guild.id]);
  for (const r of base.roles) if (r.managed) out.add(r.id);
  return out;
}

/** The snapshot entries of a member page: non-bot members with their non-managed roles. */
function memberEntries(page: APIGuildMember[], skipRoles: Set<string>): SnapMember[] {
  const out: SnapMember[] = [];
  for (const m of page) {
    if (!m.user || m.user.bot) continue;
    out.push({
      id: m.user.id,
      roles: m.roles.filter((r) => !skipRoles.has(r)).sort(compareIds),
    });
  }
  return out;
}

/** Reads one member page after `cursor`; returns its entries and the next cursor. */
export async function readMemberPage(
  rest: RestClient,
  guildId: string,
  cursor: string,
  skipRoles: Set<string>,
  opts: ReadOptions = {},
): Promise<{ entries: SnapMember[]; listed: number; next: string; done: boolean }> {
  const page = await listMembers(rest, guildId, { limit: MEMBER_PAGE, after: cursor }, {
    signal: opts.signal,
  });
  let next = cursor;
  for (const m of page) if (m.user && compareIds(m.user.id, next) > 0) next = m.user.id;
  return {
    entries: memberEntries(page, skipRoles),
    listed: page.length,
    next,
    done: page.length < MEMBER_PAGE,
  };
}

/** The snapshot of a base plus its member entries, normalised. */
export function assemble(base: CaptureBase, members: SnapMember[]): Snapshot {
  return normalizeSnapshot({
    v: SNAPSHOT_VERSION,
    guild: base.guild,
    roles: base.roles,
    channels: base.channels,
    emojis: base.emojis,
    stickers: base.stickers,
    members,
    bot: base.bot,
  });
}

export interface LiveSnapshot {
  snapshot: Snapshot;
  /** False when the guild had more members than `maxMembers` (member roles not compared). */
  membersComplete: boolean;
  calls: number;
}

/**
 * The live guild as a snapshot, read in one go (diffs against the live guild). Members are read
 * only up to `maxMembers` (each 1000 is one call through the member-list bucket); past that the
 * member part is left empty and `membersComplete` is false.
 */
export async function captureLive(
  rest: RestClient,
  kv: Deno.Kv,
  guildId: string,
  opts: ReadOptions & { maxMembers?: number } = {},
): Promise<LiveSnapshot> {
  const base = await captureBase(rest, kv, guildId, opts);
  let calls = 2;
  const maxMembers = opts.maxMembers ?? 25_000;
  if (base.approxMembers !== null && base.approxMembers > maxMembers) {
    return { snapshot: assemble(base, []), membersComplete: false, calls };
  }
  const skip = unrecordedRoles(base);
  const members: SnapMember[] = [];
  let cursor = "0";
  for (;;) {
    const page = await readMemberPage(rest, guildId, cursor, skip, opts);
    calls++;
    members.push(...page.entries);
    cursor = page.next;
    if (page.done) break;
    if (members.length > maxMembers) {
      return { snapshot: assemble(base, []), membersComplete: false, calls };
    }
  }
  return { snapshot: assemble(base, members), membersComplete: true, calls };
}
