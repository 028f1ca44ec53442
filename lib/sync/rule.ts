/**
 * The rule of the Ethos role sync, as pure functions: which managed roles a member should hold,
 * and which writes turn what they hold into that. No I/O here; the engine feeds it fresh data.
 *
 * - Managed roles: every tier role and its variants, and when set the profile, validator and human
 *   roles. No other role is ever touched.
 * - A verified member with a score holds exactly one tier role (the highest tier whose minScore
 *   the score reaches, the level the API reports winning over the table) in its most specific
 *   configured variant (human+validator, validator, human, base), plus the profile role, plus the
 *   validator and human roles when they apply. A verified member without a score, one whose
 *   profile is a default (untouched) one unless those count, and a member without the verified
 *   role hold no managed role. Bots are skipped.
 * - Validator or human status that is not known (not read this time) keeps what the member holds.
 * - A score lookup that failed ("error") changes nothing: the member is skipped, never stripped.
 * - Roles the bot cannot manage (at or above its highest role, integration-managed, unknown) are
 *   left out of the writes and reported, so they are never retried forever.
 */
import { compareRoles } from "../discord/snowflake.ts";
import { LEVELS, type Tier } from "../config.ts";

export interface SyncRules {
  /** null: no verified role ("none"): every member linked to an Ethos profile is eligible. */
  verifiedRoleId: string | null;
  /** Highest minScore first (Config.ethos.tiers is sorted so). */
  tiers: Tier[];
  profileRoleId?: string;
  validatorRoleId?: string;
  humanRoleId?: string;
  /** Default (untouched) profiles count as a score; otherwise they hold no managed role. */
  countDefaultProfiles?: boolean;
}

/** What Ethos says of one member beyond the bare score; unknown fields are undefined. */
export interface Standing {
  score: number;
  /** The level the API reported (lower case), when it did. */
  level?: string;
  /** Holds an Ethos validator NFT. */
  validator?: boolean;
  /** Human verification is VERIFIED. */
  human?: boolean;
  /** Untouched since created: score 1200, nothing received, no address userkey, no XP. */
  isDefault?: boolean;
}

/** The score of one member as the engine knows it. */
export type ScoreInput =
  /** The member's Ethos score, or their standing. */
  | number
  | Standing
  /** No score (confirmed by the single lookup, or not needed because nothing would be lost). */
  | null
  /** Not looked up: the member is not verified, so the score does not matter. */
  | undefined
  /** The score API failed after retries. */
  | "error";

export interface MemberInput {
  roles: readonly string[];
  bot?: boolean;
}

export type SkipReason =
  | "bot"
  | "score_unavailable"
  | "role_above_bot"
  | "changed_during_sync"
  | "left_guild"
  | "not_configured";

export type Target =
  | { kind: "target"; roles: Set<string> }
  | { kind: "skip"; reason: SkipReason };

/** Every role the sync may give or take. */
export function managedRoles(rules: SyncRules): Set<string> {
  const out = new Set<string>();
  for (const t of rules.tiers) {
    for (const r of [t.roleId, t.validatorRoleId, t.humanRoleId, t.humanValidatorRoleId]) {
      if (r) out.add(r);
    }
  }
  for (const r of [rules.profileRoleId, rules.validatorRoleId, rules.humanRoleId]) {
    if (r) out.add(r);
  }
  return out;
}

const LEVEL_RANGE = new Map<string, [number, number]>(
  LEVELS.map((
    [name, min],
    i,
  ) => [name, [min, i + 1 < LEVELS.length ? LEVELS[i + 1][1] - 1 : Infinity]]),
);

/**
 * The score the tier table is read with: the score itself, moved into the range of the level the
 * API reported when the two disagree (the API's level wins; an unknown level string is ignored).
 */
function effectiveScore(score: number, level?: string): number {
  const range = level ? LEVEL_RANGE.get(level) : undefined;
  return range ? Math.min(Math.max(score, range[0]), range[1]) : score;
}

/** The tier a score falls in, or undefined when it is below every tier. */
export function tierFor(score: number, tiers: readonly Tier[], level?: string): Tier | undefined {
  const s = effectiveScore(score, level);
  let best: Tier | undefined;
  for (const t of tiers) {
    if (s >= t.minScore && (!best || t.minScore > best.minScore)) best = t;
  }
  return best;
}

function standingOf(score: number | Standing): Standing {
  return typeof score === "number" ? { score } : score;
}

/**
 * Whether deciding needs the profile's flags (validator, human, default profile) on top of the
 * score: a second bulk call per page, so only when some rule uses them.
 */
export function needsFlags(rules: SyncRules): boolean {
  return !rules.countDefaultProfiles || !!rules.validatorRoleId || !!rules.humanRoleId ||
    rules.tiers.some((t) => t.validatorRoleId || t.humanRoleId || t.humanValidatorRoleId);
}

/** Whether the member counts as verified: holds the verified role, or there is none to hold. */
export function isVerified(member: MemberInput, rules: SyncRules): boolean {
  return rules.verifiedRoleId === null || member.roles.includes(rules.verifiedRoleId);
}

/** Whether the score is needed to decide this member (verified humans only). */
export function needsScore(member: MemberInput, rules: SyncRules): boolean {
  return !member.bot && isVerified(member, rules);
}

/** A status flag, or when unknown, what the member's roles say of it (so nothing is stripped). */
function flag(known: boolean | undefined, held: readonly string[], roles: (string | undefined)[]) {
  return known ?? roles.some((r) => r !== undefined && held.includes(r));
}

/** The tier's most specific configured variant for these flags. */
function variant(tier: Tier, validator: boolean, human: boolean): string {
  if (validator && human && tier.humanValidatorRoleId) return tier.humanValidatorRoleId;
  if (validator && tier.validatorRoleId) return tier.validatorRoleId;
  if (human && tier.humanRoleId) return tier.humanRoleId;
  return tier.roleId;
}

/** The managed roles the member should hold, or why the member is left alone. */
export function targetRoles(member: MemberInput, score: ScoreInput, rules: SyncRules): Target {
  if (member.bot) return { kind: "skip", reason: "bot" };
  const roles = new Set<string>();
  if (!isVerified(member, rules)) return { kind: "target", roles };
  if (score === "error") return { kind: "skip", reason: "score_unavailable" };
  if (score === null || score === undefined) return { kind: "target", roles };
  const standing = standingOf(score);
  if (standing.isDefault && !rules.countDefaultProfiles) return { kind: "target", roles };
  const held = member.roles;
  const tiers = rules.tiers;
  const validator = flag(standing.validator, held, [
    rules.validatorRoleId,
    ...tiers.flatMap((t) => [t.validatorRoleId, t.humanValidatorRoleId]),
  ]);
  const human = flag(standing.human, held, [
    rules.humanRoleId,
    ...tiers.flatMap((t) => [t.humanRoleId, t.humanValidatorRoleId]),
  ]);
  const tier = tierFor(standing.score, tiers, standing.level);
  if (tier) roles.add(variant(tier, validator, human));
  if (rules.profileRoleId) roles.add(rules.profileRoleId);
  if (rules.validatorRoleId && validator) roles.add(rules.validatorRoleId);
  if (rules.humanRoleId && human) roles.add(rules.humanRoleId);
  return { kind: "target", roles };
}

export interface Blocked {
  roleId: string;
  op: "add" | "remove";
  reason: "role_above_bot";
}

/** A change as the member-role writer (discord/member_roles.ts) counts, applies and sends it. */
export interface RoleDiff {
  add: string[];
  remove: string[];
  /** Changes the rule wants but the bot may not make. */
  blocked: Blocked[];
}

/**
 * Writes that make `current` hold exactly `target` among the managed roles. Roles outside
 * `managed` are never added or removed; changes to roles outside `manageable` are reported in
 * `blocked` instead. Output is sorted, so equal inputs give equal diffs.
 */
export function diff(
  current: readonly string[],
  target: ReadonlySet<string>,
  managed: ReadonlySet<string>,
  manageable: ReadonlySet<string>,
): RoleDiff {
  const held = new Set(current);
  const out: RoleDiff = { add: [], remove: [], blocked: [] };
  for (const r of target) {
    if (!managed.has(r) || held.has(r)) continue;
    if (manageable.has(r)) out.add.push(r);
    else out.blocked.push({ roleId: r, op: "add", reason: "role_above_bot" });
  }
  for (const r of held) {
    if (!managed.has(r) || target.has(r)) continue;
    if (manageable.has(r)) out.remove.push(r);
    else out.blocked.push({ roleId: r, op: "remove", reason: "role_above_bot" });
  }
  out.add.sort();
  out.remove.sort();
  out.blocked.sort((a, b) => a.roleId < b.roleId ? -1 : a.roleId > b.roleId ? 1 : 0);
  return out;
}

/** The managed roles among `roles`, sorted: what "the member's Ethos roles" means. */
export function managedHeld(roles: readonly string[], managed: ReadonlySet<string>): string[] {
  return roles.filter((r) => managed.has(r)).sort();
}

// --- role hierarchy ------------------------------------------------------------------------------

export interface RoleInfo {
  id: string;
  position: number;
  managed?: boolean;
  permissions?: string;
}

const MANAGE_ROLES = 1n << 28n;
const ADMINISTRATOR = 1n << 3n;

export interface Hierarchy {
  /** Roles the bot may give and take. */
  manageable: Set<string>;
  /** Whether the bot has Manage Roles (or Administrator, or owns the guild). */
  canManageRoles: boolean;
  /** The bot's highest role id (the guild id for @everyone). */
  botTopRole: string;
}

/**
 * What the bot may manage, from the guild's roles and the bot member's roles: roles strictly
 * below its highest role, never @everyone or an integration's managed role. A guild owner bot
 * may manage every non-managed role.
 */
export function hierarchy(
  guildId: string,
  roles: readonly RoleInfo[],
  botRoles: readonly string[],
  botIsOwner = false,
): Hierarchy {
  const byId = new Map(roles.map((r) => [r.id, r]));
  const everyone = byId.get(guildId) ?? { id: guildId, position: 0, permissions: "0" };
  let top = everyone;
  let perms = BigInt(everyone.permissions ?? "0");
  for (const id of botRoles) {
    const r = byId.get(id);
    if (!r) continue;
    perms |= BigInt(r.permissions ?? "0");
    if (compareRoles(r, top) > 0) top = r;
  }
  const canManageRoles = botIsOwner || (perms & (MANAGE_ROLES | ADMINISTRATOR)) !== 0n;
  const manageable = new Set<string>();
  if (canManageRoles) {
    for (const r of roles) {
      if (r.id === guildId || r.managed) continue;
      if (botIsOwner || compareRoles(r, top) < 0) manageable.add(r.id);
    }
  }
  return { manageable, canManageRoles, botTopRole: top.id };
}
