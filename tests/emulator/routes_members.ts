/** Guild member routes: paging, single fetch, PATCH (roles, nick) and single role add/remove. */
import { type APIRole, PermissionFlagsBits as P } from "discord-api-types/v10";
import {
  bodyObject,
  type Ctx,
  type DiscordRoute,
  guildOf,
  noContent,
  ok,
  route,
  snowflakeParam,
} from "./context.ts";
import {
  FormErrors,
  invalidField,
  missingAccess,
  missingPermissions,
  unknownMember,
  unknownRole,
} from "./errors.ts";
import type { EmulatedGuild } from "./guild.ts";
import { compareIds, isSnowflake, normalizeId } from "./ids.ts";
import { type MemberRecord, memberToApi } from "./members.ts";
import { canManageRole, guildPermissions, has, outranks } from "./permissions.ts";

export function memberRoutes(): DiscordRoute[] {
  return [
    route("GET", "/guilds/:guild/members", listMembers, { bucket: "memberList" }),
    route("GET", "/guilds/:guild/members/search", searchMembers),
    route("GET", "/guilds/:guild/members/:user", getMember, { bucket: "memberGet" }),
    route("PATCH", "/guilds/:guild/members/:user", patchMember, { bucket: "memberPatch" }),
    route("PUT", "/guilds/:guild/members/:user/roles/:role", addMemberRole, {
      bucket: "memberRole",
    }),
    route("DELETE", "/guilds/:guild/members/:user/roles/:role", removeMemberRole, {
      bucket: "memberRole",
    }),
  ];
}

function listMembers(ctx: Ctx) {
  const guild = guildOf(ctx);
  if (!ctx.state.membersIntent) throw missingAccess();
  const rawLimit = ctx.query.get("limit");
  let limit = 1;
  if (rawLimit !== null) {
    if (!/^-?\d+$/.test(rawLimit)) {
      throw invalidField(["limit"], "NUMBER_TYPE_COERCE", `Value "${rawLimit}" is not int.`);
    }
    limit = Number(rawLimit);
    if (limit < 1) {
      throw invalidField(
        ["limit"],
        "NUMBER_TYPE_MIN",
        "int value should be greater than or equal to 1.",
      );
    }
    if (limit > 1000) {
      throw invalidField(
        ["limit"],
        "NUMBER_TYPE_MAX",
        "int value should be less than or equal to 1000.",
      );
    }
  }
  const rawAfter = ctx.query.get("after");
  let after = "0";
  if (rawAfter !== null) {
    if (!isSnowflake(rawAfter)) {
      throw invalidField(["after"], "NUMBER_TYPE_COERCE", `Value "${rawAfter}" is not snowflake.`);
    }
    after = normalizeId(rawAfter);
  }
  return ok(guild.members.page(after, limit).map(memberToApi));
}

/** Members whose username or nickname starts with `query`, case-insensitively; limit 1..1000. */
function searchMembers(ctx: Ctx) {
  const guild = guildOf(ctx);
  const query = ctx.query.get("query");
  if (query === null) throw invalidField(["query"], "BASE_TYPE_REQUIRED", "This field is required");
  const rawLimit = ctx.query.get("limit") ?? "1";
  const limit = Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw invalidField(
      ["limit"],
      "NUMBER_TYPE_MAX",
      "int value should be less than or equal to 1000.",
    );
  }
  const q = query.toLowerCase();
  const out = [];
  for (const m of guild.members.values()) {
    if (m.username.toLowerCase().startsWith(q) || m.nick?.toLowerCase().startsWith(q)) {
      out.push(memberToApi(m));
      if (out.length >= limit) break;
    }
  }
  return ok(out);
}

function memberOf(ctx: Ctx, guild: EmulatedGuild): MemberRecord {
  const id = snowflakeParam(ctx.params.user, "user_id");
  const member = guild.members.get(id);
  if (!member) throw unknownMember();
  return member;
}

function getMember(ctx: Ctx) {
  const guild = guildOf(ctx);
  return ok(memberToApi(memberOf(ctx, guild)));
}

/**
 * Checks the roles that would be added or removed. Roles the member keeps are not checked,
 * so holding an unmanageable role does not block edits to other roles, as on Discord.
 */
function checkRoleChanges(ctx: Ctx, guild: EmulatedGuild, changed: APIRole[]): void {
  if (changed.length === 0) return;
  if (!has(guildPermissions(guild, ctx.botUserId), P.ManageRoles)) throw missingPermissions();
  for (const role of changed) {
    if (!canManageRole(guild, ctx.botUserId, role)) throw missingPermissions();
  }
}

function setRoles(ctx: Ctx, member: MemberRecord, roles: string[]): void {
  const before = [...member.roles].sort(compareIds);
  member.roles = roles;
  ctx.rolesChange = { before, after: [...roles].sort(compareIds) };
}

function patchMember(ctx: Ctx) {
  const guild = guildOf(ctx);
  const member = memberOf(ctx, guild);
  const b = bodyObject(ctx);
  const form = new FormErrors();

  let nextRoles: string[] | undefined;
  if (b.roles !== undefined && b.roles !== null) {
    if (!Array.isArray(b.roles)) {
      form.add(["roles"], "BASE_TYPE_ARRAY", "Must be an array.");
    } else {
      const ids: string[] = [];
      b.roles.forEach((r, i) => {
        if (!isSnowflake(r)) {
          form.add(["roles", i], "NUMBER_TYPE_COERCE", `Value "${String(r)}" is not snowflake.`);
        } else ids.push(normalizeId(r));
      });
      // @everyone is implicit; listing it changes nothing.
      nextRoles = [...new Set(ids)].filter((id) => id !== guild.id);
    }
  }
  let nick: string | null | undefined;
  if (b.nick !== undefined) {
    if (b.nick === null || b.nick === "") nick = null;
    else if (typeof b.nick !== "string" || b.nick.length > 32) {
      form.add(["nick"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.");
    } else nick = b.nick;
  }
  form.throwIfAny();

  if (nextRoles) {
    for (const id of nextRoles) if (!guild.roles.has(id)) throw unknownRole();
    const held = new Set(member.roles);
    const wanted = new Set(nextRoles);
    const changed = [
      ...nextRoles.filter((id) => !held.has(id)),
      ...member.roles.filter((id) => !wanted.has(id) && guild.roles.has(id)),
    ].map((id) => guild.roles.get(id)!);
    checkRoleChanges(ctx, guild, changed);
  }
  if (nick !== undefined && nick !== member.nick) {
    const perms = guildPermissions(guild, ctx.botUserId);
    if (member.id === ctx.botUserId) {
      if (!has(perms, P.ChangeNickname) && !has(perms, P.ManageNicknames)) {
        throw missingPermissions();
      }
    } else if (!has(perms, P.ManageNicknames) || !outranks(guild, ctx.botUserId, member.id)) {
      throw missingPermissions();
    }
  }

  if (nextRoles) setRoles(ctx, member, nextRoles);
  if (nick !== undefined) member.nick = nick;
  return ok(memberToApi(member));
}

function roleChange(ctx: Ctx, add: boolean) {
  const guild = guildOf(ctx);
  const member = memberOf(ctx, guild);
  const roleId = snowflakeParam(ctx.params.role, "role_id");
  const role = guild.roles.get(roleId);
  if (!role) throw unknownRole();
  // The check applies even when nothing would change: Discord refuses before looking.
  checkRoleChanges(ctx, guild, [role]);
  const holds = member.roles.includes(roleId);
  if (add) setRoles(ctx, member, holds ? [...member.roles] : [...member.roles, roleId]);
  else setRoles(ctx, member, member.roles.filter((r) => r !== roleId));
  return noContent();
}

function addMemberRole(ctx: Ctx) {
  return roleChange(ctx, true);
}

function removeMemberRole(ctx: Ctx) {
  return roleChange(ctx, false);
}
