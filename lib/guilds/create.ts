/**
 * /ethos_setup create: the plan (a role per Ethos level, in level order with the level's colour,
 * plus validator, human-verified and profile roles) and its execution. Roles already mapped stay;
 * a role with the planned name is reused, never duplicated; the rest are created just below the
 * bot's highest role. Each created role is recorded in the setup as soon as Discord answers, so a
 * failed run leaves a record of what it made and running create again finishes the job.
 */
import type { AppDeps } from "../deps.ts";
import { createRole, reorderRoles } from "../discord/api.ts";
import { LEVEL_COLORS } from "../ethos/levels.ts";
import { type RoleProblem, roleProblem, type ServerRoles } from "./roles.ts";
import { type Actor, type EffectiveSetup, LEVEL_NAMES, type Slot, updateSetup } from "./setup.ts";

/** Highest level first, then the badges: the order the roles stand in the server's list. */
export const CREATE_SLOTS: readonly Slot[] = [
  ...[...LEVEL_NAMES].reverse(),
  "validator",
  "human",
  "profile",
];

const EXTRA: Record<string, { name: string; color: number }> = {
  validator: { name: "Ethos Validator", color: 0x16a085 },
  human: { name: "Ethos Human Verified", color: 0x2980b9 },
  profile: { name: "Ethos Profile", color: 0x7f8c8d },
};

export function plannedName(slot: Slot): string {
  return EXTRA[slot]?.name ?? `Ethos ${slot[0].toUpperCase()}${slot.slice(1)}`;
}

function colorOf(slot: Slot): number {
  return EXTRA[slot]?.color ?? LEVEL_COLORS[slot as keyof typeof LEVEL_COLORS];
}

export interface PlanItem {
  slot: Slot;
  name: string;
  /** keep: already set and usable; reuse: a role with the planned name; create: a new role. */
  action: "keep" | "reuse" | "create";
  roleId?: string;
  /** Why a kept or reused role cannot be used (then nothing is created or saved). */
  problem?: RoleProblem;
}

export interface CreatePlan {
  items: PlanItem[];
  /** What stops the whole plan: the bot cannot manage roles, or has no role of its own. */
  blocker: "no_manage_roles" | "bot_has_no_role" | null;
}

export function planCreate(
  server: ServerRoles,
  guildId: string,
  setup: EffectiveSetup,
): CreatePlan {
  const blocker = !server.hierarchy.canManageRoles
    ? "no_manage_roles"
    : server.hierarchy.botTopRole === guildId
    ? "bot_has_no_role"
    : null;
  const items = CREATE_SLOTS.map((slot): PlanItem => {
    const name = plannedName(slot);
    const current = setup.roles[slot]?.id;
    if (current && server.byId.has(current)) {
      const problem = roleProblem(server, guildId, slot, current) ?? undefined;
      return { slot, name, action: "keep", roleId: current, problem };
    }
    const same = server.roles.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (same) {
      const problem = roleProblem(server, guildId, slot, same.id) ?? undefined;
      return { slot, name, action: "reuse", roleId: same.id, problem };
    }
    return { slot, name, action: "create" };
  });
  return { items, blocker };
}

export interface CreateResult {
  created: PlanItem[];
  reused: PlanItem[];
  /** Set when Discord refused part way; what was made is recorded and a re-run finishes. */
  error?: string;
}

export async function executeCreate(
  deps: AppDeps,
  guildId: string,
  actor: Actor,
  server: ServerRoles,
  plan: CreatePlan,
): Promise<CreateResult> {
  const out: CreateResult = { created: [], reused: [] };
  const reason = `Ethos setup by ${actor.name ?? actor.id}`;
  const save = (slot: Slot, roleId: string, created: boolean) =>
    updateSetup(deps, guildId, actor, created ? "create_role" : "reuse_role", (s) => {
      s.roles[slot] = roleId;
      if (created && !s.created.includes(roleId)) s.created.push(roleId);
      return s;
    }, { slot, roleId });
  try {
    for (const item of plan.items) {
      if (item.action === "reuse" && item.roleId && !item.problem) {
        await save(item.slot, item.roleId, false);
        out.reused.push(item);
      } else if (item.action === "create") {
        const role = await createRole(deps.rest, guildId, {
          name: item.name,
          color: colorOf(item.slot),
          permissions: "0",
          hoist: false,
          mentionable: false,
        }, reason);
        await save(item.slot, role.id, true);
        out.created.push({ ...item, roleId: role.id });
      }
    }
  } catch (error) {
    out.error = error instanceof Error ? error.message : String(error);
    return out;
  }
  // New roles appear at the bottom of the list: move them, in level order, just below the bot.
  const top = server.botTop?.position ?? 1;
  if (out.created.length) {
    const positions = out.created.map((item, i) => ({
      id: item.roleId!,
      position: Math.max(1, top - 1 - i),
    }));
    try {
      await reorderRoles(deps.rest, guildId, positions, reason);
    } catch (error) {
      out.error = `the roles were created but could not be moved: ${
        error instanceof Error ? error.message : String(error)
      }`;
    }
  }
  return out;
}
