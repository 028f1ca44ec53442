/**
 * One member's roles, synced now (/ethos_refresh): a fresh read of the member, a fresh score
 * (single lookup, bypassing the cache, which it then updates), the rule, and the fewest writes
 * through the member-role writer (discord/member_roles.ts): one role call for a single change,
 * else one PATCH computed from the read a moment before.
 */
import { indexedRoles, noteMembers, rolesKeyOf } from "./member_index.ts";
import { EthosProfileClient } from "../ethos/profile.ts";
import type { AppDeps } from "../deps.ts";
import { getMember } from "../discord/api.ts";
import { isUnknownMember } from "../discord/errors.ts";
import {
  callsFor,
  changeCount,
  cheapestRoute,
  rolesAfter,
  sendRoleCall,
} from "../discord/member_roles.ts";
import { cachedGuildContext, rulesFor } from "./context.ts";
import {
  diff,
  isVerified,
  managedRoles,
  needsFlags,
  type ScoreInput,
  type Standing,
  targetRoles,
  tierFor,
} from "./rule.ts";
import { syncServices } from "./service.ts";

export type RefreshResult =
  | {
    status: "changed" | "unchanged";
    score: number | null;
    tier: string | null;
    added: string[];
    removed: string[];
    blocked: string[];
    verified: boolean;
  }
  | { status: "skipped"; reason: "bot" | "score_unavailable" | "not_member" };

export async function refreshMember(
  deps: AppDeps,
  guildId: string,
  userId: string,
): Promise<RefreshResult> {
  const rules = await rulesFor(deps, guildId);
  const { ethos, cache } = syncServices(deps);
  const ctx = await cachedGuildContext(deps, deps.config, guildId, rules);
  let member;
  try {
    member = await getMember(deps.rest, guildId, userId);
  } catch (error) {
    if (isUnknownMember(error)) return { status: "skipped", reason: "not_member" };
    throw error;
  }
  const verified = isVerified({ roles: member.roles }, rules);
  let score: ScoreInput = undefined;
  if (verified) {
    try {
      const s = await ethos.score(userId);
      let standing: Standing | null = s
        ? { score: s.score, ...(s.level ? { level: s.level } : {}) }
        : null;
      if (standing && needsFlags(rules)) {
        const p = (await new EthosProfileClient(ethos).byDiscordIds([userId])).get(userId);
        standing = p
          ? { ...standing, validator: p.validator, human: p.human, isDefault: p.isDefault }
          : { ...standing, isDefault: false };
      }
      score = standing;
      await cache.putMany([[userId, standing]]);
    } catch {
      score = "error";
    }
  }
  const target = targetRoles({ roles: member.roles, bot: member.user.bot }, score, rules);
  if (target.kind === "skip") {
    return { status: "skipped", reason: target.reason === "bot" ? "bot" : "score_unavailable" };
  }
  const d = diff(member.roles, target.roles, managedRoles(rules), new Set(ctx.manageable));
  const reason = "Ethos role refresh requested by the member";
  const k = changeCount(d);
  if (k > 0) {
    // The PATCH is computed from the read a moment before; a refusal reaches the caller as is.
    const to = { rest: deps.rest, guildId, userId, reason };
    for (const call of callsFor(d, cheapestRoute(d))) {
      const outcome = await sendRoleCall(to, call, member.roles, d);
      if (outcome.kind !== "done") throw outcome.error;
    }
  }
  // The freshness pass writes from the member index: it learns what this refresh left.
  const relevant = indexedRoles(rules);
  const now = rolesAfter(member.roles, d).filter((r) => relevant.has(r));
  await noteMembers(deps.kv, guildId, new Map([[userId, now]]), rolesKeyOf(relevant));
  const name = (id: string) => ctx.roleNames[id] ?? id;
  return {
    status: k > 0 ? "changed" : "unchanged",
    score: typeof score === "object" && score ? score.score : null,
    tier: typeof score === "object" && score
      ? tierFor(score.score, rules.tiers, score.level)?.name ?? null
      : null,
    added: d.add.map(name),
    removed: d.remove.map(name),
    blocked: d.blocked.map((b) => name(b.roleId)),
    verified,
  };
}
