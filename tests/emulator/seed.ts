/**
 * Deterministic guild generator: the same seed and options always give the same members, roles,
 * channels and scores, so a failing benchmark or test can be replayed exactly.
 */
import {
  type APIEmoji,
  type APIRole,
  type APISticker,
  ChannelType,
  OverwriteType,
  PermissionFlagsBits as P,
  StickerFormatType,
  StickerType,
} from "discord-api-types/v10";
import { EmulatedGuild, type EthosRoleIds, makeChannel, makeRole } from "./guild.ts";
import { type IdAllocator, snowflakeAt } from "./ids.ts";
import type { MemberRecord } from "./members.ts";
import { Prng } from "./prng.ts";
import type { ScoreBook } from "./scores.ts";

export interface SeedGuildOptions {
  /** Default "200000000000000001". */
  id?: string;
  /** Non-bot members. */
  members: number;
  /** Other bot members besides the emulated bot; default 3. */
  bots?: number;
  /** Share of members holding the verified role; default 0.8. */
  verifiedShare?: number;
  /** Share of members with an Ethos score; default 0.85. */
  scoredShare?: number;
  /** Share of verified and scored members already holding exactly the right tier role; default 0.5. */
  inSyncShare?: number;
  /** Extra non-Ethos channels; default 2. */
  channels?: number;
  /** Extra non-Ethos roles; default 3. */
  roles?: number;
  /** Guild name; default "Emulated Guild <n>". */
  name?: string;
}

export const DEFAULT_GUILD_ID = "200000000000000001";

export type Tier = "exemplary" | "reputable" | "neutral" | "questionable" | "untrusted";

/** Lower bounds of each tier the seed's "in sync" members are given. */
export const DEFAULT_TIER_THRESHOLDS: Readonly<Record<Exclude<Tier, "untrusted">, number>> = Object
  .freeze({ exemplary: 2000, reputable: 1800, neutral: 1200, questionable: 800 });

export const TIERS: readonly Tier[] = [
  "exemplary",
  "reputable",
  "neutral",
  "questionable",
  "untrusted",
];

export function tierForScore(score: number, t = DEFAULT_TIER_THRESHOLDS): Tier {
  if (score >= t.exemplary) return "exemplary";
  if (score >= t.reputable) return "reputable";
  if (score >= t.neutral) return "neutral";
  if (score >= t.questionable) return "questionable";
  return "untrusted";
}

export interface SeedContext {
  ids: IdAllocator;
  scores: ScoreBook;
  seed: number;
  botUserId: string;
  applicationId: string;
  botUsername: string;
  /** Ordinal of this guild, for default names. */
  ordinal: number;
}

/** Permissions of a fresh guild's @everyone role. */
export const EVERYONE_PERMISSIONS = P.CreateInstantInvite | P.AddReactions | P.Stream |
  P.ViewChannel | P.SendMessages | P.EmbedLinks | P.AttachFiles | P.ReadMessageHistory |
  P.UseExternalEmojis | P.Connect | P.Speak | P.UseVAD | P.ChangeNickname |
  P.UseApplicationCommands | P.CreatePublicThreads | P.SendMessagesInThreads;

/**
 * What the bot's invite asks for: enough to sync roles and to back up and restore a guild
 * (Manage Server restores the guild's settings).
 */
export const BOT_ROLE_PERMISSIONS = P.ManageRoles | P.ManageChannels | P.ManageGuild |
  P.ViewChannel |
  P.SendMessages | P.EmbedLinks | P.ReadMessageHistory;

const SCORE_TIME_END = Date.UTC(2025, 0, 1);
const SCORE_TIME_SPAN = 90 * 86_400_000;
const MEMBER_ID_START = Date.UTC(2016, 0, 1);
const MEMBER_ID_SPAN = Date.UTC(2024, 0, 1) - MEMBER_ID_START;
const GUILD_CREATED = Date.UTC(2020, 0, 1);

const TIER_COLORS: Record<Tier, number> = {
  exemplary: 0x2e7d32,
  reputable: 0x1565c0,
  neutral: 0x9e9e9e,
  questionable: 0xef6c00,
  untrusted: 0xc62828,
};

export function seedGuild(ctx: SeedContext, options: SeedGuildOptions): EmulatedGuild {
  const guildId = options.id ?? DEFAULT_GUILD_ID;
  const prng = new Prng((ctx.seed ^ Math.imul(hashString(guildId), 0x9e3779b1)) >>> 0);
  const humans = Math.max(0, Math.floor(options.members));
  const bots = Math.max(0, options.bots ?? 3);
  const extraRoleCount = options.roles ?? 3;

  // Member ids first: sorted, random-looking snowflakes spread over eight years.
  const total = humans + bots;
  const userIds = generateUserIds(prng.fork(1), total);
  const botIndices = new Set<number>();
  const botPicker = prng.fork(2);
  while (botIndices.size < Math.min(bots, total)) botIndices.add(botPicker.int(total));
  const firstHuman = userIds.findIndex((_, i) => !botIndices.has(i));
  const ownerId = firstHuman >= 0 ? userIds[firstHuman] : ctx.botUserId;

  const guild = new EmulatedGuild(
    guildId,
    options.name ?? `Emulated Guild ${ctx.ordinal}`,
    ownerId,
  );

  // Roles, bottom to top.
  let position = 0;
  guild.roles.set(
    guildId,
    makeRole({
      id: guildId,
      name: "@everyone",
      position: position++,
      permissions: EVERYONE_PERMISSIONS.toString(),
    }),
  );
  const rolePrng = prng.fork(3);
  for (let i = 1; i <= extraRoleCount; i++) {
    const role = makeRole({
      id: ctx.ids.next(),
      name: `Role ${i}`,
      position: position++,
      color: rolePrng.int(0xffffff),
      hoist: rolePrng.chance(0.3),
      mentionable: rolePrng.chance(0.3),
    });
    guild.roles.set(role.id, role);
    guild.extraRoles.push(role.id);
  }
  const addRole = (name: string, extra: Partial<APIRole> = {}) => {
    const role = makeRole({ id: ctx.ids.next(), name, position: position++, ...extra });
    guild.roles.set(role.id, role);
    return role.id;
  };
  const tierIds = {} as Record<Tier, string>;
  for (const tier of [...TIERS].reverse()) {
    tierIds[tier] = addRole(tier[0].toUpperCase() + tier.slice(1), {
      color: TIER_COLORS[tier],
      hoist: true,
    });
  }
  const ethosRoles: EthosRoleIds = {
    ...tierIds,
    profile: addRole("Ethos Profile", { color: 0x5c6bc0 }),
    verified: addRole("Ethos Verified", { color: 0x00897b, mentionable: true }),
  };
  guild.ethosRoles = ethosRoles;
  const botIds = userIds.filter((_, i) => botIndices.has(i));
  const otherBotId = botIds[0];
  if (otherBotId) {
    guild.managedRole = addRole("Helper Bot", {
      managed: true,
      permissions: (P.ViewChannel | P.SendMessages).toString(),
      tags: { bot_id: otherBotId },
    });
  }
  guild.botRole = addRole(ctx.botUsername, {
    managed: true,
    permissions: BOT_ROLE_PERMISSIONS.toString(),
    tags: { bot_id: ctx.botUserId },
  });
  guild.aboveBotRole = addRole("Admin", {
    color: 0xffd600,
    hoist: true,
    permissions: P.Administrator.toString(),
  });

  // Members, in id order so the store only appends; the emulated bot joins at its own place.
  const mp = prng.fork(4);
  const verifiedShare = options.verifiedShare ?? 0.8;
  const scoredShare = options.scoredShare ?? 0.85;
  const inSyncShare = options.inSyncShare ?? 0.5;
  const scores: { userId: string; score: number; at: number }[] = [];
  const joinSpan = Date.UTC(2024, 5, 1) - GUILD_CREATED;
  let humanNo = 0;
  for (let i = 0; i < total; i++) {
    const id = userIds[i];
    const joinedAt = discordTimestamp(GUILD_CREATED + mp.int(joinSpan));
    if (botIndices.has(i)) {
      guild.members.upsert({
        id,
        username: `bot_${i}`,
        bot: true,
        roles: id === otherBotId && guild.managedRole ? [guild.managedRole] : [],
        joinedAt,
        nick: null,
      });
      continue;
    }
    humanNo++;
    const roles: string[] = [];
    for (const extra of guild.extraRoles) if (mp.chance(0.1)) roles.push(extra);
    const verified = mp.chance(verifiedShare);
    const scored = mp.chance(scoredShare);
    let score: number | undefined;
    if (scored) {
      score = Math.max(0, Math.min(2800, Math.round(mp.normal(1400, 700))));
      scores.push({ userId: id, score, at: SCORE_TIME_END - mp.int(SCORE_TIME_SPAN) });
    }
    if (verified) roles.push(ethosRoles.verified);
    if (verified && score !== undefined) {
      const right = tierIds[tierForScore(score)];
      if (mp.chance(inSyncShare)) {
        roles.push(right, ethosRoles.profile);
      } else {
        const r = mp.next();
        const wrong = tierIds[pickOther(mp, tierForScore(score))];
        if (r < 0.4) {
          // no tier role yet
        } else if (r < 0.8) roles.push(wrong);
        else roles.push(right, wrong);
        if (mp.chance(0.5)) roles.push(ethosRoles.profile);
      }
    } else if (mp.chance(verified ? 0.2 : 0.05)) {
      roles.push(tierIds[mp.pick(TIERS)]);
    }
    if (id === ownerId) roles.push(guild.aboveBotRole);
    guild.members.upsert({
      id,
      username: `user_${humanNo}`,
      bot: false,
      roles,
      joinedAt,
      nick: mp.chance(0.1) ? `Nick ${humanNo}` : null,
    });
  }
  const botMember: MemberRecord = {
    id: ctx.botUserId,
    username: ctx.botUsername,
    bot: true,
    roles: [guild.botRole],
    joinedAt: discordTimestamp(GUILD_CREATED + 86_400_000),
    nick: null,
  };
  guild.members.upsert(botMember);
  ctx.scores.load(scores);

  seedChannels(ctx, guild, prng.fork(5), options.channels ?? 2);
  seedEmojisAndStickers(ctx, guild);
  return guild;
}

function seedChannels(ctx: SeedContext, guild: EmulatedGuild, prng: Prng, extra: number): void {
  const g = guild.id;
  const roles = guild.ethosRoles!;
  const add = (fields: Omit<Parameters<typeof makeChannel>[0], "id" | "guild_id">) => {
    const ch = makeChannel({ id: ctx.ids.next(), guild_id: g, ...fields });
    guild.channels.set(ch.id, ch);
    return ch.id;
  };
  const info = add({ type: ChannelType.GuildCategory, name: "Information", position: 0 });
  add({
    type: ChannelType.GuildText,
    name: "welcome",
    position: 0,
    parent_id: info,
    topic: "Say hi",
  });
  add({
    type: ChannelType.GuildText,
    name: "rules",
    position: 1,
    parent_id: info,
    permission_overwrites: [
      { id: g, type: OverwriteType.Role, allow: "0", deny: P.SendMessages.toString() },
    ],
  });
  add({
    type: ChannelType.GuildText,
    name: "verified-lounge",
    position: 2,
    parent_id: info,
    permission_overwrites: [
      { id: g, type: OverwriteType.Role, allow: "0", deny: P.ViewChannel.toString() },
      { id: roles.verified, type: OverwriteType.Role, allow: P.ViewChannel.toString(), deny: "0" },
      { id: guild.botRole!, type: OverwriteType.Role, allow: P.ViewChannel.toString(), deny: "0" },
    ],
  });
  add({
    type: ChannelType.GuildText,
    name: "staff",
    position: 3,
    parent_id: info,
    permission_overwrites: [
      { id: g, type: OverwriteType.Role, allow: "0", deny: P.ViewChannel.toString() },
    ],
  });
  const community = add({ type: ChannelType.GuildCategory, name: "Community", position: 1 });
  const general = add({
    type: ChannelType.GuildText,
    name: "general",
    position: 4,
    parent_id: community,
    topic: "General chat",
    rate_limit_per_user: 5,
  });
  add({
    type: ChannelType.GuildVoice,
    name: "Voice Chat",
    position: 5,
    parent_id: community,
    bitrate: 64000,
    user_limit: 10,
  });
  add({
    type: ChannelType.GuildForum,
    name: "ideas",
    position: 6,
    parent_id: community,
    topic: "Post ideas here",
  });
  add({
    type: ChannelType.GuildStageVoice,
    name: "Town Hall",
    position: 7,
    parent_id: community,
    bitrate: 64000,
  });
  for (let i = 1; i <= extra; i++) {
    add({
      type: ChannelType.GuildText,
      name: `extra-${i}`,
      position: 7 + i,
      parent_id: community,
      nsfw: prng.chance(0.2),
      rate_limit_per_user: prng.pick([0, 0, 5, 30]),
    });
  }
  guild.systemChannelId = general;
}

function seedEmojisAndStickers(ctx: SeedContext, guild: EmulatedGuild): void {
  const emoji = (name: string, animated: boolean): APIEmoji => ({
    id: ctx.ids.next(),
    name,
    roles: [],
    require_colons: true,
    managed: false,
    animated,
    available: true,
  });
  guild.emojis = [emoji("ethos", false), emoji("verified_check", false), emoji("party", true)];
  const sticker: APISticker = {
    id: ctx.ids.next(),
    name: "wave",
    tags: "wave",
    type: StickerType.Guild,
    format_type: StickerFormatType.PNG,
    description: "A friendly wave",
    available: true,
    guild_id: guild.id,
  };
  guild.stickers = [sticker];
}

function generateUserIds(prng: Prng, count: number): string[] {
  const out: string[] = new Array(count);
  const meanStep = Math.max(2, Math.floor(MEMBER_ID_SPAN / Math.max(1, count)));
  let ms = MEMBER_ID_START;
  for (let i = 0; i < count; i++) {
    ms += 1 + prng.int(2 * meanStep - 1);
    out[i] = snowflakeAt(ms, prng.int(1 << 22));
  }
  return out;
}

function pickOther(prng: Prng, tier: Tier): Tier {
  const others = TIERS.filter((t) => t !== tier);
  return prng.pick(others);
}

/** Discord's timestamp format, e.g. "2021-03-04T05:06:07.123000+00:00". */
export function discordTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "000+00:00");
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
