/** Guild, role, emoji, sticker and current-user routes. */
import {
  type APIRole,
  ChannelType,
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
import { DiscordError, FormErrors, missingPermissions, unknownRole } from "./errors.ts";
import type { EmulatedGuild, GuildSettings } from "./guild.ts";
import { isSnowflake, normalizeId } from "./ids.ts";
import { ALL_PERMISSIONS, compareRoles, highestRole } from "./permissions.ts";

const MAX_ROLES = 250;

export function guildRoutes(): DiscordRoute[] {
  return [
    route("GET", "/users/@me", currentUser, { auth: "either", scope: "identify" }),
    route("GET", "/applications/@me", currentApplication),
    route("GET", "/guilds/:guild", getGuild),
    route("PATCH", "/guilds/:guild", modifyGuild),
    route("GET", "/guilds/:guild/roles", (ctx) => ok(guildOf(ctx).sortedRoles())),
    route("POST", "/guilds/:guild/roles", createRole),
    route("PATCH", "/guilds/:guild/roles", reorderRoles),
    route("GET", "/guilds/:guild/roles/:role", (ctx) => ok(roleOf(ctx, guildOf(ctx)))),
    route("PATCH", "/guilds/:guild/roles/:role", editRole),
    route("DELETE", "/guilds/:guild/roles/:role", deleteRole),
    route("GET", "/guilds/:guild/emojis", (ctx) => ok(guildOf(ctx).emojis)),
    route("GET", "/guilds/:guild/stickers", (ctx) => ok(guildOf(ctx).stickers)),
  ];
}

/** The bot user, or with a user's OAuth2 bearer token (scope identify) that user. */
function currentUser(ctx: Ctx) {
  if (ctx.bearer) {
    const user = ctx.state.user(ctx.bearer.userId);
    return ok({
      id: user.id,
      username: user.username,
      avatar: user.avatar,
      discriminator: "0",
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      global_name: user.global_name,
      avatar_decoration_data: null,
      banner_color: null,
      mfa_enabled: false,
      locale: "en-US",
      premium_type: 0,
    });
  }
  return ok({
    id: ctx.botUserId,
    username: ctx.state.config.botUsername,
    discriminator: "0",
    global_name: null,
    avatar: null,
    bot: true,
    verified: true,
    mfa_enabled: false,
    flags: 0,
    public_flags: 0,
  });
}

function currentApplication(ctx: Ctx) {
  return ok({
    id: ctx.applicationId,
    name: ctx.state.config.botUsername,
    icon: null,
    description: "",
    bot_public: false,
    bot_require_code_grant: false,
    verify_key: "0".repeat(64),
    flags: 0,
    approximate_guild_count: ctx.state.guilds.size,
  });
}

function getGuild(ctx: Ctx) {
  const g = guildOf(ctx);
  const body = guildBody(g);
  if (ctx.query.get("with_counts") === "true") {
    body.approximate_member_count = g.members.size;
    body.approximate_presence_count = Math.floor(g.members.size * 0.3);
  }
  return ok(body);
}

/** The guild object Discord sends, with the stored settings. */
function guildBody(g: EmulatedGuild): Record<string, unknown> {
  const s = g.settings;
  return {
    id: g.id,
    name: g.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: g.ownerId,
    region: "deprecated",
    afk_channel_id: s.afk_channel_id,
    afk_timeout: s.afk_timeout,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: s.verification_level,
    default_message_notifications: s.default_message_notifications,
    explicit_content_filter: s.explicit_content_filter,
    roles: g.sortedRoles(),
    emojis: g.emojis,
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: g.systemChannelId,
    system_channel_flags: s.system_channel_flags,
    rules_channel_id: s.rules_channel_id,
    max_presences: null,
    max_members: 500000,
    vanity_url_code: null,
    description: s.description,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: s.preferred_locale,
    public_updates_channel_id: s.public_updates_channel_id,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    stickers: g.stickers,
    premium_progress_bar_enabled: s.premium_progress_bar_enabled,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}

/** Discord's locales (the ones a guild's preferred_locale may take). */
const LOCALES = new Set([
  "id",
  "da",
  "de",
  "en-GB",
  "en-US",
  "es-ES",
  "es-419",
  "fr",
  "hr",
  "it",
  "lt",
  "hu",
  "nl",
  "no",
  "pl",
  "pt-BR",
  "ro",
  "fi",
  "sv-SE",
  "vi",
  "tr",
  "cs",
  "el",
  "bg",
  "ru",
  "uk",
  "hi",
  "th",
  "zh-CN",
  "ja",
  "zh-TW",
  "ko",
]);
const AFK_TIMEOUTS = [60, 300, 900, 1800, 3600];

/**
 * PATCH /guilds/{g}: Manage Server; validates the fields as Discord documents them (enums,
 * AFK timeouts, channel ids of the right type in this guild) and returns the guild.
 */
function modifyGuild(ctx: Ctx) {
  const g = guildOf(ctx);
  requireGuildPermission(ctx, g, P.ManageGuild);
  const b = bodyObject(ctx);
  const form = new FormErrors();
  const next: Partial<GuildSettings> = {};
  let name: string | undefined;
  if (b.name !== undefined) {
    if (typeof b.name !== "string" || b.name.trim().length < 2 || b.name.length > 100) {
      form.add(["name"], "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.");
    } else name = b.name;
  }
  const enumField = (
    key: "verification_level" | "default_message_notifications" | "explicit_content_filter",
    max: number,
  ) => {
    const v = b[key];
    if (v === undefined || v === null) return;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
      const choices = Array.from({ length: max + 1 }, (_, i) => i).join(", ");
      form.add([key], "BASE_TYPE_CHOICES", `Value must be one of {${choices}}.`);
    } else next[key] = v as number;
  };
  enumField("verification_level", 4);
  enumField("default_message_notifications", 1);
  enumField("explicit_content_filter", 2);
  if (b.afk_timeout !== undefined && b.afk_timeout !== null) {
    if (!AFK_TIMEOUTS.includes(b.afk_timeout as number)) {
      form.add(
        ["afk_timeout"],
        "BASE_TYPE_CHOICES",
        `Value must be one of {${AFK_TIMEOUTS.join(", ")}}.`,
      );
    } else next.afk_timeout = b.afk_timeout as number;
  }
  if (b.system_channel_flags !== undefined && b.system_channel_flags !== null) {
    if (!Number.isInteger(b.system_channel_flags) || (b.system_channel_flags as number) < 0) {
      form.add(["system_channel_flags"], "NUMBER_TYPE_COERCE", "Value is not int.");
    } else next.system_channel_flags = b.system_channel_flags as number;
  }
  if (b.preferred_locale !== undefined && b.preferred_locale !== null) {
    if (typeof b.preferred_locale !== "string" || !LOCALES.has(b.preferred_locale)) {
      form.add(["preferred_locale"], "LOCALE_INVALID", "Invalid locale.");
    } else next.preferred_locale = b.preferred_locale;
  }
  if (b.description !== undefined) {
    if (
      b.description !== null && (typeof b.description !== "string" || b.description.length > 120)
    ) {
      form.add(["description"], "BASE_TYPE_MAX_LENGTH", "Must be 120 or fewer in length.");
    } else next.description = b.description as string | null;
  }
  if (b.premium_progress_bar_enabled !== undefined && b.premium_progress_bar_enabled !== null) {
    if (typeof b.premium_progress_bar_enabled !== "boolean") {
      form.add(
        ["premium_progress_bar_enabled"],
        "BASE_TYPE_BOOLEAN",
        "Must be either true or false.",
      );
    } else next.premium_progress_bar_enabled = b.premium_progress_bar_enabled;
  }
  const channelField = (key: string, types: ChannelType[]): string | null | undefined => {
    const v = b[key];
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (!isSnowflake(v)) {
      form.add([key], "NUMBER_TYPE_COERCE", `Value "${String(v)}" is not snowflake.`);
      return undefined;
    }
    const ch = g.channels.get(normalizeId(v));
    if (!ch || !types.includes(ch.type)) {
      form.add([key], "CHANNEL_TYPE_INVALID", "Invalid channel for this setting.");
      return undefined;
    }
    return ch.id;
  };
  const afk = channelField("afk_channel_id", [ChannelType.GuildVoice]);
  if (afk !== undefined) next.afk_channel_id = afk;
  const text = [ChannelType.GuildText];
  const systemChannel = channelField("system_channel_id", text);
  const rules = channelField("rules_channel_id", text);
  if (rules !== undefined) next.rules_channel_id = rules;
  const updates = channelField("public_updates_channel_id", text);
  if (updates !== undefined) next.public_updates_channel_id = updates;
  form.throwIfAny();
  if (name !== undefined) g.name = name;
  if (systemChannel !== undefined) g.systemChannelId = systemChannel;
  Object.assign(g.settings, next);
  return ok(guildBody(g));
}

/** Checks POST/PATCH role fields; returns the ones to apply. */
function roleFields(ctx: Ctx, botPerms: bigint): Partial<APIRole> {
  const b = bodyObject(ctx);
  const form = new FormErrors();
  const out: Partial<APIRole> = {};
  if (b.name !== undefined && b.name !== null) {
    if (typeof b.name !== "string" || b.name.length > 100) {
      form.add(["name"], "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
    } else out.name = b.name;
  }
  if (b.permissions !== undefined && b.permissions !== null) {
    const raw = String(b.permissions);
    if (!/^\d+$/.test(raw)) {
      form.add(["permissions"], "NUMBER_TYPE_COERCE", `Value "${raw}" is not int.`);
    } else {
      const wanted = BigInt(raw) & ALL_PERMISSIONS;
      // Nobody may grant permissions they lack themselves, unless they are an administrator.
      if (botPerms !== ALL_PERMISSIONS && (wanted & ~botPerms) !== 0n) throw missingPermissions();
      out.permissions = wanted.toString();
    }
  }
  if (b.color !== undefined && b.color !== null) {
    if (!Number.isInteger(b.color) || (b.color as number) < 0 || (b.color as number) > 0xffffff) {
      form.add(["color"], "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.");
    } else {
      out.color = b.color as number;
      out.colors = { primary_color: out.color, secondary_color: null, tertiary_color: null };
    }
  }
  for (const flag of ["hoist", "mentionable"] as const) {
    if (b[flag] !== undefined && b[flag] !== null) {
      if (typeof b[flag] !== "boolean") {
        form.add([flag], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
      } else out[flag] = b[flag] as boolean;
    }
  }
  if (typeof b.unicode_emoji === "string" || b.unicode_emoji === null) {
    out.unicode_emoji = b.unicode_emoji as string | null;
  }
  form.throwIfAny();
  return out;
}

function createRole(ctx: Ctx) {
  const guild = guildOf(ctx);
  const perms = requireGuildPermission(ctx, guild, P.ManageRoles);
  const fields = roleFields(ctx, perms);
  if (guild.roles.size >= MAX_ROLES) {
    throw new DiscordError(
      400,
      RESTJSONErrorCodes.MaximumNumberOfGuildRolesReached,
      `Maximum number of server roles reached (${MAX_ROLES})`,
    );
  }
  const role = ctx.state.addRole(guild.id, {
    name: "new role",
    permissions: "0",
    ...fields,
    position: 1,
  });
  return ok(role);
}

/** The role in `params.role`; unknown ids answer 10011. */
function roleOf(ctx: Ctx, guild: EmulatedGuild): APIRole {
  const id = snowflakeParam(ctx.params.role, "role_id");
  const role = guild.roles.get(id);
  if (!role) throw unknownRole();
  return role;
}

/** Editing or deleting needs the role strictly below the bot's highest (owners excepted). */
function requireBelowBot(ctx: Ctx, guild: EmulatedGuild, role: APIRole): void {
  if (ctx.botUserId === guild.ownerId) return;
  if (compareRoles(role, highestRole(guild, ctx.botUserId)) >= 0) throw missingPermissions();
}

function editRole(ctx: Ctx) {
  const guild = guildOf(ctx);
  const role = roleOf(ctx, guild);
  const perms = requireGuildPermission(ctx, guild, P.ManageRoles);
  requireBelowBot(ctx, guild, role);
  Object.assign(role, roleFields(ctx, perms));
  return ok(role);
}

function deleteRole(ctx: Ctx) {
  const guild = guildOf(ctx);
  const role = roleOf(ctx, guild);
  requireGuildPermission(ctx, guild, P.ManageRoles);
  if (role.id === guild.id) {
    throw new DiscordError(400, RESTJSONErrorCodes.InvalidRole, "Invalid Role");
  }
  requireBelowBot(ctx, guild, role);
  if (role.managed) throw missingPermissions();
  ctx.state.deleteRole(guild.id, role.id);
  return noContent();
}

/**
 * PATCH /guilds/{g}/roles: moves the listed roles to their positions, shifting the others, then
 * renumbers 1..n as Discord keeps positions contiguous.
 */
function reorderRoles(ctx: Ctx) {
  const guild = guildOf(ctx);
  requireGuildPermission(ctx, guild, P.ManageRoles);
  const form = new FormErrors();
  if (!Array.isArray(ctx.body)) {
    form.add([], "BASE_TYPE_ARRAY", "Must be an array.");
    form.throwIfAny();
  }
  const moves: { role: APIRole; position: number }[] = [];
  (ctx.body as unknown[]).forEach((item, i) => {
    const o = item as Record<string, unknown> | null;
    if (!o || typeof o !== "object") {
      return form.add([i], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    }
    if (!isSnowflake(o.id)) {
      return form.add([i, "id"], "NUMBER_TYPE_COERCE", `Value "${String(o.id)}" is not snowflake.`);
    }
    if (o.position !== undefined && o.position !== null && !Number.isInteger(o.position)) {
      return form.add(
        [i, "position"],
        "NUMBER_TYPE_COERCE",
        `Value "${String(o.position)}" is not int.`,
      );
    }
    const role = guild.roles.get(o.id);
    if (!role) throw unknownRole();
    if (o.position !== undefined && o.position !== null) {
      moves.push({ role, position: o.position as number });
    }
  });
  form.throwIfAny();
  const top = highestRole(guild, ctx.botUserId);
  const owner = ctx.botUserId === guild.ownerId;
  for (const m of moves) {
    if (m.role.id === guild.id) {
      throw new DiscordError(400, RESTJSONErrorCodes.InvalidRole, "Invalid Role");
    }
    if (m.role.position === m.position) continue;
    if (!owner && (compareRoles(m.role, top) >= 0 || m.position >= top.position)) {
      throw missingPermissions();
    }
  }
  const moved = new Set(moves.map((m) => m.role.id));
  const order = guild.sortedRoles().filter((r) => r.id !== guild.id && !moved.has(r.id));
  for (const m of [...moves].sort((a, b) => a.position - b.position)) {
    order.splice(Math.max(0, Math.min(order.length, m.position - 1)), 0, m.role);
  }
  order.forEach((r, i) => (r.position = i + 1));
  return ok(guild.sortedRoles());
}
