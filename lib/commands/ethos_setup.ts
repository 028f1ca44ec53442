/**
 * /ethos_setup: a server sets up its Ethos roles from inside Discord (Manage Server and Manage
 * Roles; every reply ephemeral). `view` shows the effective setup and where each part comes from;
 * `create` shows a plan and creates the missing roles on Create; `map` picks existing roles with
 * select menus; `verified`, `log` and `schedule` set the rest; `reset` forgets the stored setup
 * after a confirmation. The environment's values for its own guild are shown and never replaced.
 */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  ButtonStyle,
  ChannelType,
  ComponentType,
} from "discord-api-types/v10";
import { defineCommand, sub } from "../interactions/define.ts";
import { opt } from "../interactions/options.ts";
import type { InteractionContext } from "../interactions/context.ts";
import { described, type Language, type MessageKey, t } from "../i18n/mod.ts";
import {
  type EffectiveSetup,
  effectiveSetup,
  emptySetup,
  getSetup,
  type GuildSetup,
  LEVEL_NAMES,
  SCHEDULES,
  type Slot,
  SLOTS,
  updateSetup,
} from "../guilds/setup.ts";
import { readServerRoles, type RoleProblem, roleProblem } from "../guilds/roles.ts";
import { executeCreate, planCreate } from "../guilds/create.ts";

const LOG_CHANNEL_TYPES = [ChannelType.GuildText, ChannelType.GuildAnnouncement];

/** The environment variable that sets a slot for DISCORD_GUILD_ID, to name it in a refusal. */
function envVariable(slot: Slot): string {
  if (slot === "verified") return "VERIFIED_ROLE_ID";
  if (slot === "profile") return "ETHOS_VERIFIED_PROFILE_ROLE_ID";
  if (slot === "validator") return "ETHOS_VALIDATOR_ROLE_ID";
  if (slot === "human") return "ETHOS_HUMAN_ROLE_ID";
  return `ETHOS_ROLE_${slot.toUpperCase()}`;
}

function slotName(language: Language, slot: Slot): string {
  return (LEVEL_NAMES as string[]).includes(slot)
    ? t(language, `level.${slot}` as MessageKey)
    : t(language, `setup.slot.${slot}` as MessageKey);
}

function problemText(language: Language, problem: RoleProblem, role: string): string {
  return t(language, `setup.problem.${problem}` as MessageKey, { role });
}

async function current(ctx: InteractionContext): Promise<{
  stored: GuildSetup | null;
  effective: EffectiveSetup;
}> {
  const stored = await getSetup(ctx.deps.kv, ctx.guildId!);
  return { stored, effective: effectiveSetup(ctx.deps.config, ctx.guildId!, stored) };
}

function actorOf(ctx: InteractionContext) {
  return { id: ctx.user.id, name: ctx.user.username };
}

/** The view: every slot with its role and source, the rest of the setup, and what is missing. */
function renderSetup(language: Language, s: EffectiveSetup, version: number): string {
  const source = (from: "environment" | "setup" | "default") =>
    from === "environment" ? ` · _${t(language, "setup.from_environment")}_` : "";
  const lines = [`**${t(language, "setup.title", { version })}**`];
  for (const slot of SLOTS) {
    if (slot === "verified") continue;
    const role = s.roles[slot];
    lines.push(
      `${slotName(language, slot)}: ${
        role ? `<@&${role.id}>${source(role.source)}` : t(language, "setup.slot_none")
      }`,
    );
  }
  const verified = s.roles.verified
    ? `<@&${s.roles.verified.id}>${source(s.roles.verified.source)}`
    : s.verifiedNone
    ? t(language, "setup.verified_none")
    : t(language, "setup.slot_none");
  lines.push(
    t(language, "setup.line_verified", { value: verified }),
    t(language, "setup.line_log", {
      value: s.logChannelId ? `<#${s.logChannelId}>` : t(language, "setup.log_none"),
    }),
    t(language, "setup.line_schedule", {
      value: t(language, `setup.schedule_${s.schedule}` as MessageKey),
    }),
  );
  const missing = [
    ...(s.tiers.length ? [] : [t(language, "setup.missing_tiers")]),
    ...(s.verifiedRoleId || s.verifiedNone ? [] : [t(language, "setup.missing_verified")]),
  ];
  lines.push(
    missing.length
      ? t(language, "setup.not_ready", { missing: missing.join("; ") })
      : t(language, "setup.ready"),
  );
  return lines.join("\n");
}

/** Refuses a slot the environment sets for this guild (the environment wins there). */
function setByEnvironment(ctx: InteractionContext, s: EffectiveSetup, slot: Slot): string | null {
  if (s.roles[slot]?.source !== "environment") return null;
  return t(ctx.language, "setup.env_sets", { variable: envVariable(slot) });
}

/** Checks and saves a role for a slot; the reply says what was saved or what to change. */
async function saveRole(ctx: InteractionContext, slot: Slot, roleId: string): Promise<string> {
  const lang = ctx.language;
  const guildId = ctx.guildId!;
  const { effective } = await current(ctx);
  const refusal = setByEnvironment(ctx, effective, slot);
  if (refusal) return refusal;
  const server = await readServerRoles(ctx.deps, guildId);
  const problem = roleProblem(server, guildId, slot, roleId);
  if (problem) return problemText(lang, problem, server.byId.get(roleId)?.name ?? roleId);
  await updateSetup(ctx.deps, guildId, actorOf(ctx), "map", (s) => {
    s.roles[slot] = roleId;
    if (slot === "verified") s.verifiedNone = false;
    return s;
  }, { slot, roleId });
  return t(lang, "setup.saved", { what: `${slotName(lang, slot)} → <@&${roleId}>` });
}

function slotMenu(
  language: Language,
  customId: string,
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return {
    type: ComponentType.ActionRow,
    components: [{
      type: ComponentType.StringSelect,
      custom_id: customId,
      placeholder: t(language, "setup.map_placeholder_slot"),
      options: SLOTS.map((slot) => ({ label: slotName(language, slot), value: slot })),
    }],
  };
}

export const ethosSetup = defineCommand({
  name: "ethos_setup",
  ...described("cmd.ethos_setup.description"),
  category: "Admin",
  permissions: ["ManageGuild", "ManageRoles"],
  subcommands: {
    view: sub({
      ...described("cmd.ethos_setup.view"),
      handler: async (ctx) => {
        let { stored, effective } = await current(ctx);
        let note = "";
        // A server that had been marked gone (the bot was removed) is active again once an
        // admin looks at its setup after re-inviting the bot.
        if (stored && !stored.active) {
          stored = await updateSetup(ctx.deps, ctx.guildId!, actorOf(ctx), "reactivate", (s) => ({
            ...s,
            active: true,
            dataRemovedAt: undefined,
          }));
          effective = effectiveSetup(ctx.deps.config, ctx.guildId!, stored);
          note = `${t(ctx.language, "setup.reactivated")}\n`;
        }
        return ctx.ephemeral(note + renderSetup(ctx.language, effective, stored?.version ?? 0));
      },
    }),
    create: sub({
      ...described("cmd.ethos_setup.create"),
      handler: (ctx) => {
        return ctx.defer(async (f) => {
          const lang = ctx.language;
          const { effective } = await current(ctx);
          const server = await readServerRoles(ctx.deps, ctx.guildId!);
          const plan = planCreate(server, ctx.guildId!, effective);
          if (plan.blocker) {
            await f.editOriginal(t(lang, `setup.problem.${plan.blocker}` as MessageKey));
            return;
          }
          const roleName = (id?: string) => server.byId.get(id ?? "")?.name ?? id ?? "";
          const lines = plan.items.map((item) => {
            const label = slotName(lang, item.slot);
            if (item.problem) {
              return t(lang, "setup.plan_problem", {
                role: label,
                problem: problemText(lang, item.problem, roleName(item.roleId)),
              });
            }
            const what = item.action === "create"
              ? t(lang, "setup.plan_create", { name: item.name })
              : t(lang, item.action === "keep" ? "setup.plan_keep" : "setup.plan_reuse", {
                role: `<@&${item.roleId}>`,
              });
            return `${label}: ${what}`;
          });
          const blocked = plan.items.some((i) => i.problem);
          const work = plan.items.some((i) => i.action !== "keep");
          const footer = blocked
            ? t(lang, "setup.plan_blocked")
            : work
            ? t(lang, "setup.plan_footer")
            : t(lang, "setup.plan_nothing");
          await f.editOriginal({
            content: [`**${t(lang, "setup.plan_title")}**`, ...lines, "", footer].join("\n"),
            components: blocked || !work ? [] : [{
              type: ComponentType.ActionRow,
              components: [{
                type: ComponentType.Button,
                style: ButtonStyle.Primary,
                label: t(lang, "setup.create_button"),
                custom_id: await ctx.customId("create"),
              }],
            }],
          });
        });
      },
    }),
    map: sub({
      ...described("cmd.ethos_setup.map"),
      handler: async (ctx) => {
        return ctx.ephemeral({
          content: t(ctx.language, "setup.map_pick_slot"),
          components: [slotMenu(ctx.language, await ctx.customId("map_slot"))],
        });
      },
    }),
    verified: sub({
      ...described("cmd.ethos_setup.verified"),
      options: { role: opt.role({ ...described("cmd.ethos_setup.verified_role") }) },
      handler: async (ctx) => {
        if (ctx.options.role) {
          return ctx.ephemeral(await saveRole(ctx, "verified", ctx.options.role));
        }
        const { effective } = await current(ctx);
        const env = setByEnvironment(ctx, effective, "verified");
        if (env) return ctx.ephemeral(env);
        await updateSetup(ctx.deps, ctx.guildId!, actorOf(ctx), "verified", (s) => {
          delete s.roles.verified;
          s.verifiedNone = true;
          return s;
        }, { verified: "none" });
        return ctx.ephemeral(
          t(ctx.language, "setup.saved", { what: t(ctx.language, "setup.verified_none") }),
        );
      },
    }),
    log: sub({
      ...described("cmd.ethos_setup.log"),
      options: {
        channel: opt.channel({
          ...described("cmd.ethos_setup.log_channel"),
          channelTypes: LOG_CHANNEL_TYPES,
        }),
      },
      handler: async (ctx) => {
        const id = ctx.options.channel ?? null;
        if (id) {
          // Discord offers text and announcement channels only; a crafted request can name any id.
          const resolved = (ctx.interaction.data as {
            resolved?: { channels?: Record<string, { type?: number }> };
          }).resolved?.channels;
          const channel = resolved && Object.hasOwn(resolved, id) ? resolved[id] : undefined;
          if (!channel || !LOG_CHANNEL_TYPES.includes(channel.type as ChannelType)) {
            return ctx.ephemeral(t(ctx.language, "setup.channel_wrong_type"));
          }
        }
        await updateSetup(ctx.deps, ctx.guildId!, actorOf(ctx), "log", (s) => ({
          ...s,
          logChannelId: id,
        }), { channel: id });
        return ctx.ephemeral(t(ctx.language, "setup.saved", {
          what: `${t(ctx.language, "setup.line_log", { value: "" }).trim()} ${
            id ? `<#${id}>` : t(ctx.language, "setup.log_none")
          }`,
        }));
      },
    }),
    schedule: sub({
      ...described("cmd.ethos_setup.schedule"),
      options: {
        value: opt.string({
          ...described("cmd.ethos_setup.schedule_value"),
          required: true,
          choices: SCHEDULES.map((v) => ({ name: v, value: v })),
        }),
      },
      handler: async (ctx) => {
        const value = ctx.options.value as GuildSetup["schedule"];
        await updateSetup(ctx.deps, ctx.guildId!, actorOf(ctx), "schedule", (s) => ({
          ...s,
          schedule: value,
        }), { schedule: value });
        return ctx.ephemeral(t(ctx.language, "setup.saved", {
          what: t(ctx.language, "setup.line_schedule", {
            value: t(ctx.language, `setup.schedule_${value}` as MessageKey),
          }),
        }));
      },
    }),
    reset: sub({
      ...described("cmd.ethos_setup.reset"),
      handler: async (ctx) => {
        return ctx.ephemeral({
          content: t(ctx.language, "setup.reset_ask"),
          components: [{
            type: ComponentType.ActionRow,
            components: [{
              type: ComponentType.Button,
              style: ButtonStyle.Danger,
              label: t(ctx.language, "setup.reset_button"),
              custom_id: await ctx.customId("reset"),
            }],
          }],
        });
      },
    }),
  },
  components: {
    map_slot: async (ctx) => {
      const slot = ctx.values[0] as Slot;
      if (!(SLOTS as string[]).includes(slot)) {
        return ctx.update(t(ctx.language, "setup.map_pick_slot"));
      }
      return ctx.update({
        content: t(ctx.language, "setup.map_pick_role", { slot: slotName(ctx.language, slot) }),
        components: [{
          type: ComponentType.ActionRow,
          components: [{
            type: ComponentType.RoleSelect,
            custom_id: await ctx.customId("map_role", slot),
            placeholder: t(ctx.language, "setup.map_placeholder_role"),
          }],
        }],
      });
    },
    // Both answer with an update; one slower than the deadline is deferred by the dispatcher.
    map_role: async (ctx) => {
      const slot = ctx.state as Slot;
      const roleId = ctx.values[0];
      const text = (SLOTS as string[]).includes(slot) && /^\d{17,20}$/.test(roleId ?? "")
        ? await saveRole(ctx, slot, roleId)
        : t(ctx.language, "setup.map_pick_slot");
      return ctx.update({
        content: text,
        components: [slotMenu(ctx.language, await ctx.customId("map_slot"))],
      });
    },
    create: async (ctx) => {
      const lang = ctx.language;
      const guildId = ctx.guildId!;
      // Planned again from the server as it is now: a second click, or a role made meanwhile,
      // never duplicates anything.
      const { effective } = await current(ctx);
      const server = await readServerRoles(ctx.deps, guildId);
      const plan = planCreate(server, guildId, effective);
      if (plan.blocker) {
        return ctx.update({
          content: t(lang, `setup.problem.${plan.blocker}` as MessageKey),
          components: [],
        });
      }
      const result = await executeCreate(ctx.deps, guildId, actorOf(ctx), server, plan);
      const after = await current(ctx);
      const summary = result.error
        ? t(lang, "setup.create_failed", { created: result.created.length, error: result.error })
        : t(lang, "setup.created", {
          created: result.created.length,
          reused: result.reused.length,
        });
      return ctx.update({
        content: `${summary}\n\n${renderSetup(lang, after.effective, after.stored?.version ?? 0)}`
          .slice(0, 2000),
        components: [],
      });
    },
    reset: async (ctx) => {
      await updateSetup(ctx.deps, ctx.guildId!, actorOf(ctx), "reset", (s) => ({
        ...emptySetup(),
        version: s.version,
        created: s.created,
      }));
      return ctx.update({ content: t(ctx.language, "setup.reset_done"), components: [] });
    },
  },
});
