/** Guild channel routes and permission overwrites, with Discord's per-type field limits. */
import {
  type APIOverwrite,
  ChannelType as T,
  OverwriteType,
  PermissionFlagsBits as P,
  RESTJSONErrorCodes,
} from "discord-api-types/v10";
import {
  bodyObject,
  type Ctx,
  type DiscordRoute,
  guildOf,
  noContent,
  ok,
  requireGuildPermission,
  route,
  snowflakeParam,
} from "./context.ts";
import {
  DiscordError,
  emptyMessage,
  FormErrors,
  invalidField,
  missingAccess,
  missingPermissions,
  unknownChannel,
  unknownRole,
} from "./errors.ts";
import type { ChannelRecord, EmulatedGuild } from "./guild.ts";
import { isSnowflake, normalizeId } from "./ids.ts";
import { ALL_PERMISSIONS, channelPermissions, has } from "./permissions.ts";

const MAX_CHANNELS = 500;
const CREATABLE = [
  T.GuildText,
  T.GuildVoice,
  T.GuildCategory,
  T.GuildAnnouncement,
  T.GuildStageVoice,
  T.GuildForum,
  T.GuildMedia,
];
const TEXT_NAMED = [T.GuildText, T.GuildAnnouncement, T.GuildForum, T.GuildMedia];
const WITH_TOPIC = [
  T.GuildText,
  T.GuildAnnouncement,
  T.GuildForum,
  T.GuildMedia,
  T.GuildStageVoice,
];
const WITH_SLOWMODE = [
  T.GuildText,
  T.GuildAnnouncement,
  T.GuildForum,
  T.GuildMedia,
  T.GuildVoice,
  T.GuildStageVoice,
];
const VOICE = [T.GuildVoice, T.GuildStageVoice];

export function channelRoutes(): DiscordRoute[] {
  return [
    route("GET", "/guilds/:guild/channels", listChannels),
    route("POST", "/guilds/:guild/channels", createChannel),
    route("GET", "/channels/:channel", (ctx) => ok(channelOf(ctx).channel)),
    route("PATCH", "/channels/:channel", editChannel),
    route("DELETE", "/channels/:channel", deleteChannel),
    route("PUT", "/channels/:channel/permissions/:overwrite", putOverwrite),
    route("DELETE", "/channels/:channel/permissions/:overwrite", deleteOverwrite),
    route("POST", "/channels/:channel/messages", postMessage),
  ];
}

function listChannels(ctx: Ctx) {
  const guild = guildOf(ctx);
  return ok([...guild.channels.values()].sort((a, b) => a.position - b.position));
}

/** The channel in `params.channel`; channels the bot cannot see answer 50001, as on Discord. */
/**
 * A message posted to a text or announcement channel (the bot's log-channel summaries): needs
 * View Channel and Send Messages, and content of 1-2000 characters or at least one embed.
 */
function postMessage(ctx: Ctx) {
  const { channel, perms } = channelOf(ctx);
  if (channel.type !== T.GuildText && channel.type !== T.GuildAnnouncement) {
    throw new DiscordError(400, 50008, "Cannot send messages in a non-text channel");
  }
  if (!has(perms, P.SendMessages)) throw missingPermissions();
  const b = bodyObject(ctx);
  const content = typeof b.content === "string" ? b.content : "";
  const embeds = Array.isArray(b.embeds) ? b.embeds : [];
  if (!content && embeds.length === 0) throw emptyMessage();
  if (content.length > 2000) {
    throw invalidField(["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
  }
  const message = {
    id: ctx.state.ids.next(),
    channel_id: channel.id,
    content,
    embeds,
    author: { id: ctx.botUserId, bot: true },
    timestamp: new Date(ctx.state.now()).toISOString(),
  };
  ctx.state.channelMessages(channel.id).push(message);
  return ok(message);
}

function channelOf(ctx: Ctx): { guild: EmulatedGuild; channel: ChannelRecord; perms: bigint } {
  const id = snowflakeParam(ctx.params.channel, "channel_id");
  const found = ctx.state.channel(id);
  if (!found || !found.guild.members.has(ctx.botUserId)) throw unknownChannel();
  const perms = channelPermissions(found.guild, found.channel, ctx.botUserId);
  if (!has(perms, P.ViewChannel)) throw missingAccess();
  return { ...found, perms };
}

/**
 * Validates channel fields for `type` and returns those to set. Fields that do not apply to the
 * type are ignored, as Discord ignores them.
 */
function channelFields(
  b: Record<string, unknown>,
  type: T,
  guild: EmulatedGuild,
  form: FormErrors,
  creating: boolean,
): Partial<ChannelRecord> {
  const out: Partial<ChannelRecord> = {};
  if (b.name !== undefined || creating) {
    if (typeof b.name !== "string") {
      form.add(
        ["name"],
        b.name === undefined ? "BASE_TYPE_REQUIRED" : "STRING_TYPE_CONVERT",
        b.name === undefined ? "This field is required" : "Could not interpret value as string.",
      );
    } else if (b.name.length < 1 || b.name.length > 100) {
      form.add(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    } else {
      // Text-like channel names are lowercased with dashes for spaces, as the client shows.
      out.name = TEXT_NAMED.includes(type) ? b.name.toLowerCase().replace(/\s+/g, "-") : b.name;
    }
  }
  if (b.topic !== undefined && WITH_TOPIC.includes(type)) {
    const max = type === T.GuildForum || type === T.GuildMedia ? 4096 : 1024;
    if (b.topic !== null && (typeof b.topic !== "string" || b.topic.length > max)) {
      form.add(["topic"], "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`);
    } else out.topic = b.topic as string | null;
  }
  if (b.nsfw !== undefined && b.nsfw !== null) {
    if (typeof b.nsfw !== "boolean") {
      form.add(["nsfw"], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    } else out.nsfw = b.nsfw;
  }
  if (
    b.rate_limit_per_user !== undefined && b.rate_limit_per_user !== null &&
    WITH_SLOWMODE.includes(type)
  ) {
    const n = intIn(b.rate_limit_per_user, 0, 21600, ["rate_limit_per_user"], form);
    if (n !== undefined) out.rate_limit_per_user = n;
  }
  if (b.bitrate !== undefined && b.bitrate !== null && VOICE.includes(type)) {
    const n = intIn(b.bitrate, 8000, Number.MAX_SAFE_INTEGER, ["bitrate"], form);
    const max = type === T.GuildStageVoice ? 64000 : 96000;
    if (n !== undefined && n > max) {
      throw new DiscordError(
        400,
        RESTJSONErrorCodes.BitrateIsTooHighForChannelOfThisType,
        "Bitrate is too high for channel of this type",
      );
    }
    if (n !== undefined) out.bitrate = n;
  }
  if (b.user_limit !== undefined && b.user_limit !== null && VOICE.includes(type)) {
    const n = intIn(b.user_limit, 0, type === T.GuildStageVoice ? 10000 : 99, ["user_limit"], form);
    if (n !== undefined) out.user_limit = n;
  }
  if (b.position !== undefined && b.position !== null) {
    const n = intIn(b.position, 0, Number.MAX_SAFE_INTEGER, ["position"], form);
    if (n !== undefined) out.position = n;
  }
  if (b.parent_id !== undefined) {
    if (b.parent_id === null) out.parent_id = null;
    else if (type === T.GuildCategory) {
      form.add(
        ["parent_id"],
        "CHANNEL_PARENT_INVALID_TYPE",
        "Categories cannot have subcategories",
      );
    } else if (!isSnowflake(b.parent_id)) {
      form.add(
        ["parent_id"],
        "NUMBER_TYPE_COERCE",
        `Value "${String(b.parent_id)}" is not snowflake.`,
      );
    } else {
      const parent = guild.channels.get(normalizeId(b.parent_id));
      if (!parent || parent.type !== T.GuildCategory) {
        form.add(["parent_id"], "CHANNEL_PARENT_INVALID_TYPE", "Not a category");
      } else out.parent_id = parent.id;
    }
  }
  if (b.permission_overwrites !== undefined && b.permission_overwrites !== null) {
    out.permission_overwrites = overwrites(b.permission_overwrites, guild, form);
  }
  return out;
}

function intIn(
  v: unknown,
  min: number,
  max: number,
  path: string[],
  form: FormErrors,
): number | undefined {
  if (!Number.isInteger(v)) {
    form.add(path, "NUMBER_TYPE_COERCE", `Value "${String(v)}" is not int.`);
    return undefined;
  }
  const n = v as number;
  if (n < min) {
    form.add(path, "NUMBER_TYPE_MIN", `int value should be greater than or equal to ${min}.`);
  } else if (n > max) {
    form.add(path, "NUMBER_TYPE_MAX", `int value should be less than or equal to ${max}.`);
  } else return n;
  return undefined;
}

function overwrites(v: unknown, guild: EmulatedGuild, form: FormErrors): APIOverwrite[] {
  if (!Array.isArray(v)) {
    form.add(["permission_overwrites"], "BASE_TYPE_ARRAY", "Must be an array.");
    return [];
  }
  return v.flatMap((raw, i): APIOverwrite[] => {
    const o = overwrite(raw, form, ["permission_overwrites", i]);
    if (o && o.type === OverwriteType.Role && !guild.roles.has(o.id)) throw unknownRole();
    return o ? [o] : [];
  });
}

function overwrite(
  raw: unknown,
  form: FormErrors,
  path: (string | number)[],
  id?: string,
): APIOverwrite | undefined {
  const o = (raw ?? {}) as Record<string, unknown>;
  const before = form.count;
  const oid = id ?? o.id;
  if (!isSnowflake(oid)) {
    form.add([...path, "id"], "NUMBER_TYPE_COERCE", `Value "${String(oid)}" is not snowflake.`);
  }
  if (
    o.type !== OverwriteType.Role && o.type !== OverwriteType.Member && o.type !== "0" &&
    o.type !== "1"
  ) {
    form.add(
      [...path, "type"],
      o.type === undefined ? "BASE_TYPE_REQUIRED" : "BASE_TYPE_CHOICES",
      o.type === undefined ? "This field is required" : "Value must be one of {0, 1}.",
    );
  }
  for (const k of ["allow", "deny"] as const) {
    if (o[k] !== undefined && o[k] !== null && !/^\d+$/.test(String(o[k]))) {
      form.add([...path, k], "NUMBER_TYPE_COERCE", `Value "${String(o[k])}" is not int.`);
    }
  }
  if (form.count !== before) return undefined;
  return {
    id: normalizeId(oid as string),
    type: Number(o.type) as OverwriteType,
    allow: (BigInt(String(o.allow ?? "0")) & ALL_PERMISSIONS).toString(),
    deny: (BigInt(String(o.deny ?? "0")) & ALL_PERMISSIONS).toString(),
  };
}

/** Overwrites may only allow or deny what the bot itself has there, unless it is an admin. */
function requireGrantable(list: APIOverwrite[], perms: bigint): void {
  if (perms === ALL_PERMISSIONS) return;
  for (const o of list) {
    if (((BigInt(o.allow) | BigInt(o.deny)) & ~perms) !== 0n) throw missingPermissions();
  }
}

function createChannel(ctx: Ctx) {
  const guild = guildOf(ctx);
  const perms = requireGuildPermission(ctx, guild, P.ManageChannels);
  const b = bodyObject(ctx);
  const form = new FormErrors();
  const type = (b.type ?? T.GuildText) as T;
  if (!CREATABLE.includes(type)) {
    form.add(["type"], "BASE_TYPE_CHOICES", `Value must be one of {${CREATABLE.join(", ")}}.`);
    form.throwIfAny();
  }
  const fields = channelFields(b, type, guild, form, true);
  form.throwIfAny();
  if (fields.permission_overwrites?.length) {
    if (!has(perms, P.ManageRoles)) throw missingPermissions();
    requireGrantable(fields.permission_overwrites, perms);
  }
  if (guild.channels.size >= MAX_CHANNELS) {
    throw new DiscordError(
      400,
      RESTJSONErrorCodes.MaximumNumberOfGuildChannelsReached,
      `Maximum number of guild channels reached (${MAX_CHANNELS})`,
    );
  }
  const position = fields.position ??
    Math.max(-1, ...[...guild.channels.values()].map((c) => c.position)) + 1;
  const channel = ctx.state.addChannel(guild.id, { ...fields, type, name: fields.name!, position });
  return ok(channel, 201);
}

function editChannel(ctx: Ctx) {
  const { guild, channel, perms } = channelOf(ctx);
  if (!has(perms, P.ManageChannels)) throw missingPermissions();
  const b = bodyObject(ctx);
  const form = new FormErrors();
  let type = channel.type;
  if (b.type !== undefined && b.type !== channel.type) {
    // Only text and announcement channels convert into each other.
    const convertible = [T.GuildText, T.GuildAnnouncement];
    if (!convertible.includes(channel.type) || !convertible.includes(b.type as T)) {
      form.add(["type"], "CHANNEL_TYPE_INVALID", "Cannot convert channel to this type");
    } else type = b.type as T;
  }
  const fields = channelFields(b, type, guild, form, false);
  form.throwIfAny();
  if (fields.permission_overwrites) {
    if (!has(perms, P.ManageRoles)) throw missingPermissions();
    requireGrantable(fields.permission_overwrites, perms);
  }
  Object.assign(channel, fields, { type });
  return ok(channel);
}

function deleteChannel(ctx: Ctx) {
  const { channel, perms } = channelOf(ctx);
  if (!has(perms, P.ManageChannels)) throw missingPermissions();
  ctx.state.deleteChannel(channel.id);
  return ok(channel);
}

function putOverwrite(ctx: Ctx) {
  const { guild, channel, perms } = channelOf(ctx);
  if (!has(perms, P.ManageRoles)) throw missingPermissions();
  const targetId = snowflakeParam(ctx.params.overwrite, "overwrite_id");
  const form = new FormErrors();
  const o = overwrite(bodyObject(ctx), form, [], targetId);
  form.throwIfAny();
  if (o!.type === OverwriteType.Role && !guild.roles.has(targetId)) throw unknownRole();
  requireGrantable([o!], perms);
  const rest = channel.permission_overwrites.filter((x) => x.id !== targetId);
  channel.permission_overwrites = [...rest, o!];
  return noContent();
}

function deleteOverwrite(ctx: Ctx) {
  const { channel, perms } = channelOf(ctx);
  if (!has(perms, P.ManageRoles)) throw missingPermissions();
  const targetId = snowflakeParam(ctx.params.overwrite, "overwrite_id");
  if (!channel.permission_overwrites.some((x) => x.id === targetId)) {
    throw new DiscordError(404, RESTJSONErrorCodes.UnknownPermissionOverwrite, "Unknown Overwrite");
  }
  channel.permission_overwrites = channel.permission_overwrites.filter((x) => x.id !== targetId);
  return noContent();
}
