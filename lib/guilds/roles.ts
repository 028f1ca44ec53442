/**
 * What /ethos_setup checks about the server before it saves or creates anything: the bot's
 * permission and place in the role list, and whether a chosen role can be used for a slot. Each
 * refusal says exactly what to change.
 */
import type { APIRole } from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import { readGuildRoles } from "../discord/guild_roles.ts";
import { type Hierarchy, hierarchy } from "../sync/rule.ts";
import type { Slot } from "./setup.ts";

export interface ServerRoles {
  roles: APIRole[];
  byId: Map<string, APIRole>;
  hierarchy: Hierarchy;
  /** The bot's highest role. */
  botTop: APIRole | undefined;
}

export async function readServerRoles(deps: AppDeps, guildId: string): Promise<ServerRoles> {
  const { roles, botRoles, botIsOwner } = await readGuildRoles(
    deps,
    deps.config.discord.applicationId,
    guildId,
  );
  const h = hierarchy(guildId, roles, botRoles, botIsOwner);
  const byId = new Map(roles.map((r) => [r.id, r]));
  return { roles, byId, hierarchy: h, botTop: byId.get(h.botTopRole) };
}

export type RoleProblem =
  | "missing"
  | "everyone"
  | "managed"
  | "above_bot"
  | "no_manage_roles";

/**
 * Why `roleId` cannot serve `slot`, or null. The verified role is only read, so it may be managed
 * by an integration (verification bots' roles often are) and may sit above the bot.
 */
export function roleProblem(
  server: ServerRoles,
  guildId: string,
  slot: Slot,
  roleId: string,
): RoleProblem | null {
  const role = server.byId.get(roleId);
  if (!role) return "missing";
  if (roleId === guildId) return "everyone";
  if (slot === "verified") return null;
  if (role.managed) return "managed";
  if (!server.hierarchy.canManageRoles) return "no_manage_roles";
  if (!server.hierarchy.manageable.has(roleId)) return "above_bot";
  return null;
}
