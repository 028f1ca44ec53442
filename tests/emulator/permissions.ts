/** Discord's permission and role-hierarchy rules, computed the documented way. */
import {
  type APIOverwrite,
  type APIRole,
  OverwriteType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import { compareIds } from "./ids.ts";
import type { MemberStore } from "./members.ts";

export const ALL_PERMISSIONS: bigint = Object.values(PermissionFlagsBits).reduce(
  (all, bit) => all | bit,
  0n,
);

export interface GuildLike {
  id: string;
  ownerId: string;
  roles: Map<string, APIRole>;
  members: MemberStore;
}

export interface ChannelLike {
  permission_overwrites: APIOverwrite[];
}

/**
 * Role order: higher position first; on equal positions the role with the lower id ranks
 * higher, as Discord sorts them. Positive when `a` is above `b`.
 */
export function compareRoles(a: APIRole, b: APIRole): number {
  if (a.position !== b.position) return a.position - b.position;
  return compareIds(b.id, a.id);
}

/** The member's highest role, or @everyone when they hold none. */
export function highestRole(guild: GuildLike, userId: string): APIRole {
  let top = guild.roles.get(guild.id)!;
  for (const id of guild.members.get(userId)?.roles ?? []) {
    const role = guild.roles.get(id);
    if (role && compareRoles(role, top) > 0) top = role;
  }
  return top;
}

/** Guild-level permissions: @everyone plus every held role; owner and admins get all. */
export function guildPermissions(guild: GuildLike, userId: string): bigint {
  if (userId === guild.ownerId) return ALL_PERMISSIONS;
  let perms = BigInt(guild.roles.get(guild.id)?.permissions ?? "0");
  for (const id of guild.members.get(userId)?.roles ?? []) {
    const role = guild.roles.get(id);
    if (role) perms |= BigInt(role.permissions);
  }
  return perms & PermissionFlagsBits.Administrator ? ALL_PERMISSIONS : perms;
}

/** Channel permissions: base, then @everyone, role and member overwrites, in that order. */
export function channelPermissions(guild: GuildLike, channel: ChannelLike, userId: string): bigint {
  let perms = guildPermissions(guild, userId);
  if (perms === ALL_PERMISSIONS) return perms;
  const overwrites = channel.permission_overwrites;
  const everyone = overwrites.find((o) => o.id === guild.id);
  if (everyone) perms = (perms & ~BigInt(everyone.deny)) | BigInt(everyone.allow);
  const held = new Set(guild.members.get(userId)?.roles ?? []);
  let allow = 0n;
  let deny = 0n;
  for (const o of overwrites) {
    if (o.type === OverwriteType.Role && held.has(o.id)) {
      allow |= BigInt(o.allow);
      deny |= BigInt(o.deny);
    }
  }
  perms = (perms & ~deny) | allow;
  const own = overwrites.find((o) => o.type === OverwriteType.Member && o.id === userId);
  if (own) perms = (perms & ~BigInt(own.deny)) | BigInt(own.allow);
  return perms;
}

export function has(perms: bigint, flag: bigint): boolean {
  return (perms & flag) === flag;
}

/**
 * Whether `actorId` may give or take `role`: never a managed role or @everyone; otherwise the
 * owner always may, anyone else only for roles strictly below their highest role.
 */
export function canManageRole(guild: GuildLike, actorId: string, role: APIRole): boolean {
  if (role.managed || role.id === guild.id) return false;
  if (actorId === guild.ownerId) return true;
  return compareRoles(role, highestRole(guild, actorId)) < 0;
}

/** Whether `actorId` outranks `targetId` (for nickname edits and the like). */
export function outranks(guild: GuildLike, actorId: string, targetId: string): boolean {
  if (targetId === guild.ownerId) return false;
  if (actorId === guild.ownerId) return true;
  return compareRoles(highestRole(guild, targetId), highestRole(guild, actorId)) < 0;
}
