/**
 * Each guild's own setup, made from inside Discord (/ethos_setup) and kept in KV: which role
 * stands for each Ethos level, the validator, human, profile and verified roles, the log channel
 * and the sync schedule. Every change bumps a version, commits only over the version it read (two
 * admins at once: one wins, the other re-reads and applies on top), and goes into the audit log.
 *
 * The environment's role ids stay the setup of DISCORD_GUILD_ID: for that guild the environment
 * wins wherever it sets something, and the stored setup fills the rest.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { type Config, type Level, LEVELS, type Tier } from "../config.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import type { Logger } from "../log/log.ts";

const snowflake = z.string().regex(/^\d{17,20}$/);
export const LEVEL_NAMES = LEVELS.map(([name]) => name) as Level[];
/** Roles a setup can name besides the ten levels. */
const EXTRA_SLOTS = ["validator", "human", "profile", "verified"] as const;
export type Slot = Level | typeof EXTRA_SLOTS[number];
export const SLOTS: readonly Slot[] = [...LEVEL_NAMES, ...EXTRA_SLOTS];
export const SCHEDULES = ["daily", "hourly", "off"] as const;
export type Schedule = typeof SCHEDULES[number];

const guildSetupSchema = z.object({
  version: z.number().int().nonnegative(),
  /** false once Discord said the bot is gone (Unknown Guild, lost access): no syncs. */
  active: z.boolean(),
  roles: z.partialRecord(z.enum(SLOTS as [Slot, ...Slot[]]), snowflake),
  /** "none": every member linked to an Ethos profile is eligible, no verified role needed. */
  verifiedNone: z.boolean(),
  logChannelId: snowflake.nullable(),
  schedule: z.enum(SCHEDULES),
  /** Roles /ethos_setup create made, so a re-run after a failure finishes instead of duplicating. */
  created: z.array(snowflake),
  updatedAt: z.number(),
  updatedBy: z.string(),
  /** When retention removed the sync data of this (inactive) guild; cleared on reactivation. */
  dataRemovedAt: z.number().optional(),
});
export type GuildSetup = z.infer<typeof guildSetupSchema>;

export const setupKey = (guildId: string): Deno.KvKey => ["guild_setup", guildId];

export function emptySetup(): GuildSetup {
  return {
    version: 0,
    active: true,
    roles: {},
    verifiedNone: false,
    logChannelId: null,
    schedule: "daily",
    created: [],
    updatedAt: 0,
    updatedBy: "",
  };
}

export async function getSetup(kv: Deno.Kv, guildId: string): Promise<GuildSetup | null> {
  const entry = await kv.get(setupKey(guildId));
  const parsed = guildSetupSchema.safeParse(entry.value);
  return parsed.success ? parsed.data : null;
}

export interface SetupDeps {
  kv: Deno.Kv;
  clock: Clock;
  log?: Logger;
}

export interface Actor {
  id: string;
  name?: string;
}

/**
 * Applies `change` to the stored setup (or an empty one) and commits it as the next version,
 * retrying on a concurrent change; `action` and `detail` go into the audit log.
 */
export async function updateSetup(
  deps: SetupDeps,
  guildId: string,
  actor: Actor,
  action: string,
  change: (setup: GuildSetup) => GuildSetup,
  detail: Record<string, unknown> = {},
): Promise<GuildSetup> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const entry = await deps.kv.get(setupKey(guildId));
    const parsed = guildSetupSchema.safeParse(entry.value);
    const current = parsed.success ? parsed.data : emptySetup();
    const next = guildSetupSchema.parse({
      ...change(structuredClone(current)),
      version: current.version + 1,
      updatedAt: deps.clock.now(),
      updatedBy: actor.id,
    });
    const ok = await deps.kv.atomic().check(entry).set(setupKey(guildId), next).commit();
    if (ok.ok) {
      await tryAppendAudit(deps, {
        guildId,
        actor: { id: actor.id, name: actor.name ?? actor.id },
        action: `setup.${action}`,
        detail: { version: next.version, ...detail },
      });
      return next;
    }
  }
  throw new Error("the setup changed too often while saving; try again");
}

/** Where a value of the effective setup comes from. */
export type Source = "environment" | "setup" | "default";

export interface EffectiveSetup {
  guildId: string;
  active: boolean;
  /** Role per slot, and where it comes from. */
  roles: Partial<Record<Slot, { id: string; source: Source }>>;
  /** Tiers from the level roles (or ETHOS_TIERS for the environment's guild), highest first. */
  tiers: Tier[];
  tiersSource: Source;
  verifiedRoleId: string | null;
  /** The verified role is "none": every linked member is eligible. */
  verifiedNone: boolean;
  logChannelId: string | null;
  schedule: Schedule;
  /** Whether a sync can run: at least one tier, and a verified role or "none". */
  configured: boolean;
}

const capital = (level: Level) => level[0].toUpperCase() + level.slice(1);

/** The environment's role ids for its guild, by slot (ETHOS_TIERS aside). */
function environmentRoles(config: Config): Partial<Record<Slot, string>> {
  const e = config.ethos;
  const out: Partial<Record<Slot, string>> = {};
  if (!config.ethos.tiersFromJson) {
    for (const t of e.tiers) {
      const level = LEVEL_NAMES.find((l) => capital(l) === t.name);
      if (level) out[level] = t.roleId;
    }
  }
  if (e.validatorRoleId) out.validator = e.validatorRoleId;
  if (e.humanRoleId) out.human = e.humanRoleId;
  if (e.profileRoleId) out.profile = e.profileRoleId;
  if (e.verifiedRoleId) out.verified = e.verifiedRoleId;
  return out;
}

/** The setup a guild runs with: the environment's (its own guild only), then the stored one. */
export function effectiveSetup(
  config: Config,
  guildId: string,
  stored: GuildSetup | null,
): EffectiveSetup {
  const fromEnv = guildId === config.discord.guildId ? environmentRoles(config) : {};
  const setup = stored ?? emptySetup();
  const roles: EffectiveSetup["roles"] = {};
  for (const slot of SLOTS) {
    const env = fromEnv[slot];
    const own = setup.roles[slot];
    if (env) roles[slot] = { id: env, source: "environment" };
    else if (own) roles[slot] = { id: own, source: "setup" };
  }
  const jsonTiers = guildId === config.discord.guildId && config.ethos.tiersFromJson;
  const tiers: Tier[] = jsonTiers ? [...config.ethos.tiers] : LEVELS.flatMap(([level, min]) => {
    const role = roles[level];
    return role ? [{ name: capital(level), minScore: min, roleId: role.id }] : [];
  });
  tiers.sort((a, b) => b.minScore - a.minScore);
  const verifiedRoleId = roles.verified?.id ?? null;
  const verifiedNone = !verifiedRoleId && setup.verifiedNone;
  return {
    guildId,
    active: setup.active,
    roles,
    tiers,
    tiersSource: jsonTiers ? "environment" : tiers.length ? "setup" : "default",
    verifiedRoleId,
    verifiedNone,
    logChannelId: setup.logChannelId,
    schedule: setup.schedule,
    configured: tiers.length > 0 && (verifiedRoleId !== null || verifiedNone),
  };
}

/** Every stored setup, by guild. */
export async function listSetups(kv: Deno.Kv): Promise<Map<string, GuildSetup>> {
  const out = new Map<string, GuildSetup>();
  for await (const e of kv.list({ prefix: ["guild_setup"] })) {
    const parsed = guildSetupSchema.safeParse(e.value);
    if (parsed.success && typeof e.key[1] === "string") out.set(e.key[1], parsed.data);
  }
  return out;
}

/**
 * Every guild the bot knows a setup for: the environment's guild and every guild with a stored
 * setup, as effective setups, active or not (the status page shows both).
 */
export async function knownGuilds(config: Config, kv: Deno.Kv): Promise<EffectiveSetup[]> {
  const stored = await listSetups(kv);
  const ids = new Set(stored.keys());
  if (config.discord.guildId) ids.add(config.discord.guildId);
  return [...ids].sort().map((id) => effectiveSetup(config, id, stored.get(id) ?? null));
}

/** The guilds the bot syncs: the known ones still active (the bot was not removed). */
export async function configuredGuilds(config: Config, kv: Deno.Kv): Promise<EffectiveSetup[]> {
  return (await knownGuilds(config, kv)).filter((s) => s.active);
}
