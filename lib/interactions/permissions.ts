/**
 * Server-side permission gates: the member's permission bits (Discord's default_member_permissions
 * only hides commands in the client and can be overridden by admins) and the per-guild role
 * allow-list kept by /config.
 */
import { z } from "zod";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { keys } from "../kv/keys.ts";
import { permissionNames } from "./define.ts";
import { joinOr, type Language, t } from "../i18n/mod.ts";
import { SNOWFLAKE } from "../discord/snowflake.ts";

const roleList = z.array(z.string().regex(SNOWFLAKE)).max(25);

/** Bits of `need` the member lacks; Administrator implies all. */
export function missingPermissions(have: bigint, need: bigint): bigint {
  if ((have & PermissionFlagsBits.Administrator) !== 0n) return 0n;
  return need & ~have;
}

export function isAdministrator(have: bigint): boolean {
  return (have & PermissionFlagsBits.Administrator) !== 0n;
}

/** "Manage Roles" from "ManageRoles". */
function humanPermission(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/Guild/g, "Server");
}

export function describeMissing(missing: bigint): string {
  return permissionNames(missing).map((n) => `**${humanPermission(n)}**`).join(", ");
}

export async function getAllowedRoles(
  kv: Deno.Kv,
  guildId: string,
  command: string,
): Promise<string[]> {
  const entry = await kv.get(keys.commandRoles(guildId, command));
  const parsed = roleList.safeParse(entry.value);
  return parsed.success ? parsed.data : [];
}

/** Adds a role to the command's allow-list, or clears the list with null. */
export async function setAllowedRole(
  kv: Deno.Kv,
  guildId: string,
  command: string,
  roleId: string | null,
): Promise<string[]> {
  const key = keys.commandRoles(guildId, command);
  if (roleId === null) {
    await kv.delete(key);
    return [];
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(key);
    const current = roleList.safeParse(entry.value);
    const roles = [...new Set([...(current.success ? current.data : []), roleId])].slice(0, 25);
    const res = await kv.atomic().check(entry).set(key, roles).commit();
    if (res.ok) return roles;
  }
  throw new Error("allow-list update kept conflicting; try again");
}

/**
 * The refusal message when the member lacks permission bits, else null. The permission names stay
 * as Discord's API spells them (in English); the sentence is the member's language.
 */
export function permissionRefusal(
  have: bigint,
  need: bigint,
  command: string,
  language: Language,
): string | null {
  const missing = missingPermissions(have, need);
  return missing === 0n ? null : t(language, "interaction.missing_permission", {
    permissions: describeMissing(missing),
    command,
  });
}

/** The refusal message when a stored allow-list excludes the member, else null. */
export function allowListRefusal(
  stored: unknown,
  memberRoles: string[],
  command: string,
  language: Language,
): string | null {
  if (stored === null || stored === undefined) return null;
  const parsed = roleList.safeParse(stored);
  // A stored list the bot cannot read closes the command (failing open would drop the limit).
  if (!parsed.success) return t(language, "interaction.allow_list_unreadable", { command });
  const allowed = parsed.data;
  if (allowed.length === 0 || memberRoles.some((r) => allowed.includes(r))) return null;
  return t(language, "interaction.allow_list", {
    command,
    roles: joinOr(language, allowed.map((r) => `<@&${r}>`)),
  });
}
