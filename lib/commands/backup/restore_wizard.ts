/**
 * /backup restore's wizard: the parts to restore as toggles, then the review, and its
 * confirmation that starts the restore.
 */
import { ButtonStyle } from "discord-api-types/v10";
import type { ComponentContext, InteractionContext } from "../../interactions/context.ts";
import type { MessageData } from "../../interactions/reply.ts";
import { BACKUP_ID, type BackupMeta, requireBackup } from "../../backup/store.ts";
import { restorePreview } from "../../backup/views.ts";
import { RESTORE_PARTS, type RestorePart } from "../../backup/restore_plan.ts";
import { type MessageKey, t } from "../../i18n/mod.ts";
import { explain } from "../../i18n/reason.ts";
import { startRestore } from "../../backup/service.ts";
import { button, COLOR, escape, n, refusalText, row, ts } from "./common.ts";
import { statusMessage } from "./views.ts";

// --- restore -------------------------------------------------------------------------------------

export const PART_BIT: Record<RestorePart, number> = {
  roles: 1,
  categories: 2,
  channels: 4,
  members: 8,
  settings: 16,
};
export const REWIND_BIT = 32;
export const ALL_PARTS = 31;
const PART_LABEL: Record<RestorePart, MessageKey> = {
  roles: "backup.part.roles",
  categories: "backup.part.categories",
  channels: "backup.part.channels",
  members: "backup.part.members",
  settings: "backup.part.settings",
};

export function partsOf(mask: number): RestorePart[] {
  return RESTORE_PARTS.filter((p) => (mask & PART_BIT[p]) !== 0);
}

export async function restoreMenu(
  ctx: InteractionContext,
  meta: BackupMeta,
  mask: number,
): Promise<MessageData> {
  const lang = ctx.language;
  const parts = partsOf(mask);
  const rewind = (mask & REWIND_BIT) !== 0;
  const toggles = await Promise.all(RESTORE_PARTS.map(async (p) =>
    button(
      await ctx.customId("rt", `${meta.id}.${mask ^ PART_BIT[p]}`),
      `${(mask & PART_BIT[p]) ? "✅" : "⬜"} ${t(lang, PART_LABEL[p])}`,
      (mask & PART_BIT[p]) ? ButtonStyle.Success : ButtonStyle.Secondary,
    )
  ));
  const restoring = parts.length
    ? parts.map((p) => t(lang, PART_LABEL[p])).join(", ")
    : t(lang, "backup.nothing");
  return {
    embeds: [{
      title: t(lang, "backup.restore_title", { label: escape(meta.label) }),
      color: COLOR.info,
      description: [
        t(lang, "backup.restore_from", { id: meta.id, when: ts(meta.createdAt) }),
        t(lang, "backup.restore_explain"),
        "",
        t(lang, "backup.restoring", { parts: restoring }),
        t(lang, rewind ? "backup.rewind_on_line" : "backup.rewind_off_line"),
      ].join("\n"),
    }],
    components: [
      row(...toggles),
      row(
        button(
          await ctx.customId("rt", `${meta.id}.${mask ^ REWIND_BIT}`),
          t(lang, rewind ? "backup.rewind_on" : "backup.rewind_off"),
          rewind ? ButtonStyle.Danger : ButtonStyle.Secondary,
          (mask & PART_BIT.members) === 0,
        ),
        button(
          await ctx.customId("rr", `${meta.id}.${mask}`),
          t(lang, "backup.review"),
          ButtonStyle.Primary,
          parts.length === 0,
        ),
        button(await ctx.customId("rx", meta.id), t(lang, "common.cancel"), ButtonStyle.Secondary),
      ),
    ],
  };
}

async function restoreReview(
  ctx: InteractionContext,
  meta: BackupMeta,
  mask: number,
): Promise<MessageData> {
  const lang = ctx.language;
  const parts = partsOf(mask);
  const rewind = (mask & REWIND_BIT) !== 0;
  const p = await restorePreview(ctx.deps, ctx.guildId!, meta.id, { parts, rewind });
  const count = (v: number) => n(lang, v);
  const lines = [
    t(lang, "backup.review_backup", {
      id: meta.id,
      label: escape(meta.label),
      when: ts(meta.createdAt),
    }),
    t(lang, "backup.review_parts", { parts: parts.map((x) => t(lang, PART_LABEL[x])).join(", ") }) +
    (rewind ? ` · ${t(lang, "backup.review_rewind")}` : ""),
    "",
    t(lang, "backup.review_will"),
  ];
  if (parts.includes("roles")) {
    lines.push(t(lang, "backup.review_roles", { count: count(p.roles) }));
  }
  if (parts.includes("categories")) {
    lines.push(t(lang, "backup.review_categories", { count: count(p.categories) }));
  }
  if (parts.includes("channels")) {
    lines.push(t(lang, "backup.review_channels", {
      count: count(p.channels),
      reparent: count(p.reparent),
    }));
  }
  if (parts.includes("roles") || parts.includes("channels") || parts.includes("categories")) {
    lines.push(t(lang, "backup.review_overwrites", { count: count(p.overwrites) }));
  }
  if (parts.includes("settings")) {
    // Setting names are Discord's field names (`afk_timeout`), shown as code.
    lines.push(
      p.settings.length
        ? t(lang, "backup.review_settings", {
          settings: p.settings.map((s) => `\`${s}\``).join(", "),
        })
        : t(lang, "backup.review_settings_none"),
    );
  }
  if (parts.includes("members")) {
    lines.push(
      t(lang, rewind ? "backup.review_members_rewind" : "backup.review_members", {
        count: count(p.members),
      }),
    );
  }
  if (p.managedRolesSkipped) {
    lines.push(t(lang, "backup.review_managed", { count: count(p.managedRolesSkipped) }));
  }
  lines.push("", t(lang, "backup.review_footer"));
  return {
    embeds: [{
      title: t(lang, "backup.confirm_title"),
      color: COLOR.warn,
      description: lines.join("\n"),
    }],
    components: [row(
      button(
        await ctx.customId("rc", `${meta.id}.${mask}`),
        t(lang, "backup.confirm"),
        ButtonStyle.Danger,
      ),
      button(
        await ctx.customId("rt", `${meta.id}.${mask}`),
        t(lang, "backup.back"),
        ButtonStyle.Secondary,
      ),
      button(await ctx.customId("rx", meta.id), t(lang, "common.cancel"), ButtonStyle.Secondary),
    )],
  };
}

export function parseMaskState(state: string): { id: string; mask: number } | null {
  const [id, raw] = state.split(".");
  const mask = Number(raw);
  if (!BACKUP_ID.test(id ?? "") || !Number.isInteger(mask) || mask < 0 || mask > 63) return null;
  return { id, mask };
}

export async function menuStep(ctx: ComponentContext, step: "menu" | "review") {
  const st = parseMaskState(ctx.state);
  if (!st) {
    return ctx.update({ content: t(ctx.language, "backup.expired"), embeds: [], components: [] });
  }
  try {
    const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, st.id);
    return ctx.update(
      step === "menu"
        ? await restoreMenu(ctx, meta, st.mask)
        : await restoreReview(ctx, meta, st.mask),
    );
  } catch (error) {
    return ctx.update({ content: refusalText(error, ctx.language), embeds: [], components: [] });
  }
}

/** The second confirmation: starts the restore of the parts chosen, then shows its progress. */
export async function confirmRestore(ctx: ComponentContext) {
  const lang = ctx.language;
  const st = parseMaskState(ctx.state);
  if (!st) {
    return ctx.update({ content: t(lang, "backup.expired"), embeds: [], components: [] });
  }
  const parts = partsOf(st.mask);
  const rewind = (st.mask & REWIND_BIT) !== 0 && parts.includes("members");
  try {
    const r = await startRestore(ctx.deps, ctx.guildId!, {
      backupId: st.id,
      parts,
      rewind,
      actorId: ctx.user.id,
      actorName: ctx.user.username,
      source: "command",
    });
    if (r.status !== "started") {
      return ctx.update({
        content: t(lang, "backup.restore_could_not_start", {
          reason: explain(lang, r),
        }),
        embeds: [],
        components: [],
      });
    }
    ctx.deps.waitUntil(r.start.done);
    return ctx.update(
      await statusMessage(
        ctx,
        t(lang, "backup.restore_started", { id: st.id, user: ctx.user.id }),
      ),
    );
  } catch (error) {
    return ctx.update({ content: refusalText(error, lang), embeds: [], components: [] });
  }
}
