/** What a Discord route handler gets and returns, plus the checks most handlers share. */
import type { EmulatedGuild } from "./guild.ts";
import { invalidField, missingPermissions, unknownGuild } from "./errors.ts";
import { isSnowflake, normalizeId } from "./ids.ts";
import { guildPermissions, has } from "./permissions.ts";
import type { BucketKind, EmulatorLimits } from "./ratelimit.ts";
import type { OAuthGrant } from "./oauth.ts";
import type { EmulatorState } from "./state.ts";
import type { EmulatorStats } from "./stats.ts";
import type { RouteShape } from "./router.ts";

export interface Ctx {
  state: EmulatorState;
  limits: Readonly<Required<EmulatorLimits>>;
  method: string;
  /** Path after /api/v10. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  /** Decoded X-Audit-Log-Reason. */
  reason: string | null;
  botUserId: string;
  applicationId: string;
  /** The caller's grant when it used a user's OAuth2 bearer token. */
  bearer?: OAuthGrant;
  stats: EmulatorStats;
  /** Set by member-role handlers so the write log can show before and after. */
  rolesChange?: { before: string[]; after: string[] };
}

export interface Reply {
  status: number;
  body?: unknown;
}

export type Handler = (ctx: Ctx) => Reply;

/**
 * Who may call a route: the bot token, a user's OAuth2 bearer token, either, or nobody in
 * particular (interaction webhooks, whose token is in the path).
 */
export type RouteAuth = "bot" | "bearer" | "either" | "none";

export interface DiscordRoute extends RouteShape {
  /** "PATCH /guilds/:guild/members/:user" */
  key: string;
  bucket: BucketKind;
  /** Params forming the major parameter of the bucket. */
  major: string[];
  auth: RouteAuth;
  /** OAuth2 scope a bearer token needs here; without it the answer is 403 50001. */
  scope?: string;
  /** Interaction callback and webhook-token routes: no global limit, no injected faults. */
  interaction: boolean;
  handler: Handler;
}

export function route(
  method: string,
  pattern: string,
  handler: Handler,
  opts: { bucket?: BucketKind; interaction?: boolean; auth?: RouteAuth; scope?: string } = {},
): DiscordRoute {
  const major = pattern.startsWith("/guilds/:guild") || pattern.includes("/guilds/:guild/")
    ? ["guild"]
    : pattern.startsWith("/channels/:channel")
    ? ["channel"]
    : pattern.startsWith("/webhooks/")
    ? ["app", "token"]
    : pattern.startsWith("/interactions/")
    ? ["interaction", "token"]
    : [];
  return {
    method,
    pattern,
    key: `${method} ${pattern}`,
    bucket: opts.bucket ?? "default",
    major,
    auth: opts.auth ?? (opts.interaction ? "none" : "bot"),
    ...(opts.scope ? { scope: opts.scope } : {}),
    interaction: opts.interaction ?? false,
    handler,
  };
}

export const ok = (body: unknown, status = 200): Reply => ({ status, body });
export const noContent = (): Reply => ({ status: 204 });

/** A snowflake path or body value, else 50035 NUMBER_TYPE_COERCE at `field`. */
export function snowflakeParam(value: string, field: string): string {
  if (!isSnowflake(value)) {
    throw invalidField([field], "NUMBER_TYPE_COERCE", `Value "${value}" is not snowflake.`);
  }
  return normalizeId(value);
}

/**
 * The guild in `params.guild`. A guild the bot is not in answers Unknown Guild, as Discord does
 * once a bot has been removed.
 */
export function guildOf(ctx: Ctx): EmulatedGuild {
  const id = snowflakeParam(ctx.params.guild, "guild_id");
  const guild = ctx.state.guilds.get(id);
  if (!guild || !guild.members.has(ctx.botUserId)) throw unknownGuild();
  return guild;
}

export function requireGuildPermission(ctx: Ctx, guild: EmulatedGuild, flag: bigint): bigint {
  const perms = guildPermissions(guild, ctx.botUserId);
  if (!has(perms, flag)) throw missingPermissions();
  return perms;
}

export function bodyObject(ctx: Ctx): Record<string, unknown> {
  const b = ctx.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== "object" || Array.isArray(b)) {
    throw invalidField([], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
  }
  return b as Record<string, unknown>;
}
