/**
 * What the sync needs to know about a guild before touching roles: the rules from the config,
 * the bot's user id, which roles it may manage (from the guild's roles and the bot member's
 * roles), the member count, and warnings for managed roles it cannot give. Read at the start of a
 * run and refreshed every few minutes (kept in the run's checkpoint and in a short KV cache for
 * /ethos_refresh), so chunks do not spend calls re-reading it.
 */
import { type EffectiveSetup, effectiveSetup, getSetup } from "../guilds/setup.ts";
import { z } from "zod";
import type { APIRole } from "discord-api-types/v10";
import type { Config } from "../config.ts";
import type { RestClient } from "../discord/rest.ts";
import { readGuildRoles } from "../discord/guild_roles.ts";
import { keys } from "../kv/keys.ts";
import type { Clock } from "../clock.ts";
import { hierarchy, managedRoles, type SyncRules } from "./rule.ts";
import { type Reason, reason, ReasonError } from "../i18n/reason.ts";

export const CONTEXT_TTL_MS = 10 * 60_000;

export const guildContextSchema = z.object({
  guildId: z.string(),
  botUserId: z.string(),
  manageable: z.array(z.string()),
  canManageRoles: z.boolean(),
  memberCount: z.number().int().nonnegative().nullable(),
  roleNames: z.record(z.string(), z.string()),
  warnings: z.array(z.string()),
  at: z.number(),
});
export type GuildContext = z.infer<typeof guildContextSchema>;

/** Why a guild cannot sync: its message is the Reason in English, for the logs and the API. */
export class SyncConfigError extends ReasonError {
  constructor(why: Reason) {
    super(why);
    this.name = "SyncConfigError";
  }
}

/**
 * The rules a guild syncs by, from its effective setup (the environment's roles for
 * DISCORD_GUILD_ID, /ethos_setup for the rest), or a SyncConfigError naming what is missing.
 */
export function rulesFromSetup(config: Config, setup: EffectiveSetup): SyncRules {
  if (!setup.active) throw new SyncConfigError(reason("reason.sync_inactive"));
  if (setup.tiers.length === 0) throw new SyncConfigError(reason("reason.sync_no_tiers"));
  if (!setup.verifiedRoleId && !setup.verifiedNone) {
    throw new SyncConfigError(reason("reason.sync_no_verified_role"));
  }
  return {
    verifiedRoleId: setup.verifiedRoleId,
    tiers: setup.tiers,
    profileRoleId: setup.roles.profile?.id,
    validatorRoleId: setup.roles.validator?.id,
    humanRoleId: setup.roles.human?.id,
    countDefaultProfiles: config.ethos.countDefaultProfiles,
  };
}

/** The rules of a guild, read from its stored setup over the environment's. */
export async function rulesFor(
  deps: { config: Config; kv: Deno.Kv },
  guildId: string,
): Promise<SyncRules> {
  const stored = await getSetup(deps.kv, guildId);
  return rulesFromSetup(deps.config, effectiveSetup(deps.config, guildId, stored));
}

/** Reads the guild, its roles and the bot member (3 calls, plus /users/@me once ever). */
export async function loadGuildContext(
  deps: { kv: Deno.Kv; rest: RestClient; clock: Clock },
  config: Config,
  guildId: string,
  rules: SyncRules,
  signal?: AbortSignal,
): Promise<GuildContext> {
  const { guild, roles, botUserId, botRoles, botIsOwner } = await readGuildRoles(
    deps,
    config.discord.applicationId,
    guildId,
    { withCounts: true, signal },
  );
  const h = hierarchy(guildId, roles, botRoles, botIsOwner);
  const byId = new Map<string, APIRole>(roles.map((r) => [r.id, r]));
  const managed = managedRoles(rules);
  const roleNames: Record<string, string> = {};
  const warnings: string[] = [];
  const label = (id: string) => {
    const tier = rules.tiers.find((t) => t.roleId === id);
    return tier ? `tier ${tier.name}` : id === rules.profileRoleId ? "profile role" : "role";
  };
  for (const id of [...managed, ...(rules.verifiedRoleId ? [rules.verifiedRoleId] : [])]) {
    const role = byId.get(id);
    if (!role) {
      warnings.push(`The ${label(id)} (${id}) does not exist in this server.`);
      continue;
    }
    roleNames[id] = role.name;
    if (managed.has(id) && !h.manageable.has(id)) {
      warnings.push(
        `The ${
          label(id)
        } "${role.name}" is at or above the bot's highest role (or managed by an integration): members who need it are skipped.`,
      );
    }
  }
  if (!h.canManageRoles) warnings.push("The bot lacks the Manage Roles permission.");
  return {
    guildId,
    botUserId,
    manageable: [...h.manageable].filter((id) => managed.has(id)).sort(),
    canManageRoles: h.canManageRoles,
    memberCount: typeof guild.approximate_member_count === "number"
      ? guild.approximate_member_count
      : null,
    roleNames,
    warnings,
    at: deps.clock.now(),
  };
}

/** The context from the short KV cache, or freshly loaded (and cached). */
export async function cachedGuildContext(
  deps: { kv: Deno.Kv; rest: RestClient; clock: Clock },
  config: Config,
  guildId: string,
  rules: SyncRules,
  signal?: AbortSignal,
): Promise<GuildContext> {
  const key = keys.syncContext(guildId);
  const entry = await deps.kv.get(key);
  const parsed = guildContextSchema.safeParse(entry.value);
  if (parsed.success && deps.clock.now() - parsed.data.at < CONTEXT_TTL_MS) return parsed.data;
  const ctx = await loadGuildContext(deps, config, guildId, rules, signal);
  await deps.kv.set(key, ctx, { expireIn: CONTEXT_TTL_MS });
  return ctx;
}
