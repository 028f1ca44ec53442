/**
 * /config: who may use each restricted command in this server (a role allow-list), and which
 * features are on. Manage Server.
 */
import type { APIRole } from "discord-api-types/v10";
import { defineCommand } from "../interactions/define.ts";
import { opt } from "../interactions/options.ts";
import type { AutocompleteContext, Choice } from "../interactions/context.ts";
import { getAllowedRoles, setAllowedRole } from "../interactions/permissions.ts";
import { type Feature, FEATURES, getFlags, setFlag } from "../ops/flags.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import { keys } from "../kv/keys.ts";
import type { AppDeps } from "../deps.ts";
import { described, t } from "../i18n/mod.ts";

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
  const none: Choice = { name: t(ctx.language, "config.role_none"), value: "none" };
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
function parseRoleArg(value: string): string | null | undefined {
  const v = value.trim();
  if (v.toLowerCase() === "none") return null;
  const m = /^(?:<@&)?(\d{17,20})>?$/.exec(v);
  return m ? m[1] : undefined;
}

export const config = defineCommand({
  name: "config",
  ...described("cmd.config.description"),
  category: "Admin",
  permissions: ["ManageGuild"],
  restricted: false,
  options: {
    command: opt.string({
      ...described("cmd.config.command"),
      autocomplete: (ctx, typed) =>
        restrictedNames(ctx).filter((n) => n.includes(typed.toLowerCase())).slice(0, 25)
          .map((n) => ({ name: `/${n}`, value: n })),
    }),
    role: opt.string({
      ...described("cmd.config.role"),
      autocomplete: roleChoices,
    }),
    feature: opt.string({
      ...described("cmd.config.feature"),
      choices: FEATURES.map((f) => ({ name: f, value: f })),
    }),
    enabled: opt.boolean(described("cmd.config.enabled")),
  },
  handler: async (ctx) => {
    const guildId = ctx.guildId!;
    const lang = ctx.language;
    const { command, role, feature, enabled } = ctx.options;
    const mentions = (roles: string[]) => roles.map((r) => `<@&${r}>`).join(", ");
    const lines: string[] = [];
    if (command !== undefined) {
      const target = ctx.registry.get(command);
      if (!target || !target.restricted) {
        return ctx.ephemeral(t(lang, "config.not_restrictable", { command }));
      }
      if (role === undefined) {
        const roles = await getAllowedRoles(ctx.deps.kv, guildId, command);
        return ctx.ephemeral(
          roles.length
            ? t(lang, "config.limited_to", { command, roles: mentions(roles) })
            : t(lang, "config.no_allow_list", { command }),
        );
      }
      const roleId = parseRoleArg(role);
      if (roleId === undefined) {
        return ctx.ephemeral(t(lang, "config.bad_role"));
      }
      if (roleId !== null && !(await guildRoles(ctx.deps, guildId)).some((r) => r.id === roleId)) {
        return ctx.ephemeral(t(lang, "config.no_such_role", { id: roleId }));
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
          ? t(lang, "config.now_limited", { command, roles: mentions(roles) })
          : t(lang, "config.cleared", { command }),
      );
    }
    if (feature !== undefined) {
      if (enabled === undefined) return ctx.ephemeral(t(lang, "config.say_enabled"));
      await setFlag(ctx.deps.kv, guildId, feature as Feature, enabled);
      await tryAppendAudit(ctx.deps, {
        guildId,
        actor: { id: ctx.user.id, name: ctx.user.username },
        action: "config.feature",
        detail: { feature, enabled },
      });
      ctx.log.info("feature flag changed", { guild: guildId, feature, enabled, by: ctx.user.id });
      lines.push(
        t(lang, enabled ? "config.feature_now_on" : "config.feature_now_off", { feature }),
      );
    }
    if (lines.length === 0) {
      const flags = await getFlags(ctx.deps.kv, guildId);
      const restricted = ctx.registry.commands.filter((c) => c.restricted);
      const lists = await Promise.all(
        restricted.map(async (c) => [c.name, await getAllowedRoles(ctx.deps.kv, guildId, c.name)]),
      );
      lines.push(
        `**${t(lang, "config.features")}**`,
        ...FEATURES.map((f) => `- \`${f}\`: ${t(lang, flags[f] ? "config.on" : "config.off")}`),
        `**${t(lang, "config.allow_lists")}**`,
        ...lists.map(([name, roles]) =>
          `- \`/${name}\`: ${
            (roles as string[]).length
              ? mentions(roles as string[])
              : t(lang, "config.permission_only")
          }`
        ),
      );
    }
    return ctx.ephemeral(lines.join("\n"));
  },
});
