/**
 * /config: who may use each restricted command in this server (a role allow-list), and which
 * features are on. Manage Server.
 */
import type { APIRole } from "discord-api-types/v10";
import { defineCommand } from "./define.ts";
import { opt } from "./options.ts";
import type { AutocompleteContext, Choice } from "../interactions/context.ts";
import { getAllowedRoles, setAllowedRole } from "../interactions/permissions.ts";
import { type Feature, FEATURES, getFlags, setFlag } from "../ops/flags.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import { keys } from "../kv/keys.ts";
import type { AppDeps } from "../deps.ts";

const ROLE_CACHE_MS = 60_000;

type RoleSummary = Pick<APIRole, "id" | "name" | "position" | "managed">;

/** The guild's roles, cached briefly so autocomplete stays inside Discord's 3 s. */
export async function guildRoles(deps: AppDeps, guildId: string): Promise<RoleSummary[]> {
  const key = keys.guildRolesCache(guildId);
  const cached = await deps.kv.get<{ at: number; roles: RoleSummary[] }>(key);
  if (cached.value && deps.clock.now() - cached.value.at < ROLE_CACHE_MS) return cached.value.roles;
  const roles = (await deps.rest.get<APIRole[]>(`/guilds/${guildId}/roles`))
    .map(({ id, name, position, managed }) => ({ id, name, position, managed }));
  await deps.kv.set(key, { at: deps.clock.now(), roles }, { expireIn: ROLE_CACHE_MS });
  return roles;
}

function restrictedNames(ctx: AutocompleteContext): string[] {
  return ctx.registry.commands.filter((c) => c.restricted).map((c) => c.name);
}

async function roleChoices(ctx: AutocompleteContext, typed: string): Promise<Choice[]> {
  const none: Choice = { name: "none (clear the allow-list)", value: "none" };
  if (!ctx.guildId) return [none];
  const roles = await guildRoles(ctx.deps, ctx.guildId);
  const q = typed.toLowerCase();
  return [
    none,
    ...roles.filter((r) => r.name !== "@everyone" && r.name.toLowerCase().includes(q))
      .slice(0, 24).map((r) => ({ name: r.name.slice(0, 100), value: r.id })),
  ];
}

/** A role given as an id, a mention or "none". */
export function parseRoleArg(value: string): string | null | undefined {
  const v = value.trim();
  if (v.toLowerCase() === "none") return null;
  const m = /^(?:<@&)?(\d{17,20})>?$/.exec(v);
  return m ? m[1] : undefined;
}

export const config = defineCommand({
  name: "config",
  description: "Configure the bot for this server: command role allow-lists and features",
  category: "Admin",
  permissions: ["ManageGuild"],
  restricted: false,
  options: {
    command: opt.string({
      description: "A command to restrict to a role",
      autocomplete: (ctx, typed) =>
        restrictedNames(ctx).filter((n) => n.includes(typed.toLowerCase())).slice(0, 25)
          .map((n) => ({ name: `/${n}`, value: n })),
    }),
    role: opt.string({
      description: "The role allowed to use the command, or none to clear",
      autocomplete: roleChoices,
    }),
    feature: opt.string({
      description: "A feature to turn on or off",
      choices: FEATURES.map((f) => ({ name: f, value: f })),
    }),
    enabled: opt.boolean({ description: "Whether the feature is on" }),
  },
  handler: async (ctx) => {
    const guildId = ctx.guildId!;
    const { command, role, feature, enabled } = ctx.options;
    const lines: string[] = [];
    if (command !== undefined) {
      const target = ctx.registry.get(command);
      if (!target || !target.restricted) {
        return ctx.ephemeral(`\`${command}\` is not a command that can be restricted.`);
      }
      if (role === undefined) {
        const roles = await getAllowedRoles(ctx.deps.kv, guildId, command);
        return ctx.ephemeral(
          roles.length
            ? `\`/${command}\` is limited to ${roles.map((r) => `<@&${r}>`).join(", ")}.`
            : `\`/${command}\` has no role allow-list: its permission check alone applies.`,
        );
      }
      const roleId = parseRoleArg(role);
      if (roleId === undefined) {
        return ctx.ephemeral("`role` must be a role from the list, a role id, or `none`.");
      }
      if (roleId !== null && !(await guildRoles(ctx.deps, guildId)).some((r) => r.id === roleId)) {
        return ctx.ephemeral(`There is no role with id \`${roleId}\` in this server.`);
      }
      const roles = await setAllowedRole(ctx.deps.kv, guildId, command, roleId);
      await tryAppendAudit(ctx.deps, {
        guildId,
        actor: { id: ctx.user.id, name: ctx.user.username },
        action: "config.allow_list",
        detail: { command, roles },
      });
      ctx.log.info("command allow-list changed", {
        guild: guildId,
        command,
        roles,
        by: ctx.user.id,
      });
      lines.push(
        roles.length
          ? `\`/${command}\` is now limited to ${roles.map((r) => `<@&${r}>`).join(", ")}.`
          : `Cleared the allow-list of \`/${command}\`.`,
      );
    }
    if (feature !== undefined) {
      if (enabled === undefined) return ctx.ephemeral("Say `enabled:true` or `enabled:false`.");
      await setFlag(ctx.deps.kv, guildId, feature as Feature, enabled);
      await tryAppendAudit(ctx.deps, {
        guildId,
        actor: { id: ctx.user.id, name: ctx.user.username },
        action: "config.feature",
        detail: { feature, enabled },
      });
      ctx.log.info("feature flag changed", { guild: guildId, feature, enabled, by: ctx.user.id });
      lines.push(`Feature \`${feature}\` is now ${enabled ? "on" : "off"}.`);
    }
    if (lines.length === 0) {
      const flags = await getFlags(ctx.deps.kv, guildId);
      const restricted = ctx.registry.commands.filter((c) => c.restricted);
      const lists = await Promise.all(
        restricted.map(async (c) => [c.name, await getAllowedRoles(ctx.deps.kv, guildId, c.name)]),
      );
      lines.push(
        "**Features**",
        ...FEATURES.map((f) => `- \`${f}\`: ${flags[f] ? "on" : "off"}`),
        "**Role allow-lists**",
        ...lists.map(([name, roles]) =>
          `- \`/${name}\`: ${
            (roles as string[]).length
              ? (roles as string[]).map((r) => `<@&${r}>`).join(", ")
              : "permission check only"
          }`
        ),
      );
    }
    return ctx.ephemeral(lines.join("\n"));
  },
});
