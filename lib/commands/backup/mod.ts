/**
 * /backup (Administrator): guild backups. create, list (paged), view, diff (two backups or one
 * against the live server), restore (toggles, then a two-step confirmation with a danger
 * button), pin, note, verify, delete (confirmation; pinned refused), schedule
 * enable|disable|status, export (bot owner: an expiring signed link), status (capture and
 * restore progress). Every action is appended to the audit log; long ones use deferred replies.
 */
import { ButtonStyle, ComponentType } from "discord-api-types/v10";
import { defineCommand, group, sub } from "../../interactions/define.ts";
import { opt } from "../../interactions/options.ts";
import { isEnabled } from "../../ops/flags.ts";
import { startRestore, stopJob } from "../../backup/service.ts";
import {
  BackupPinnedError,
  deleteBackup,
  NOTE_MAX,
  requireBackup,
  setNote,
  setPinned,
  verifyBackup,
} from "../../backup/store.ts";
import { createExportLink, diffBackup } from "../../backup/views.ts";
import { getSchedule, MAX_HOURS, MIN_HOURS, setSchedule } from "../../backup/schedule.ts";
import { described, t, translateReason } from "../../i18n/mod.ts";
import {
  audit,
  backupChoices,
  button,
  checkId,
  enabled,
  escape,
  explain,
  idOption,
  n,
  rel,
  row,
  size,
  ts,
} from "./common.ts";
import { diffEmbed, listPage, statusMessage, viewMessage } from "./views.ts";
import {
  ALL_PARTS,
  menuStep,
  parseMaskState,
  partsOf,
  restoreMenu,
  REWIND_BIT,
} from "./restore_wizard.ts";
import { createBackup } from "./create.ts";

// --- the command -------------------------------------------------------------------------------------------

export const backup = defineCommand({
  name: "backup",
  ...described("cmd.backup.description"),
  category: "Backups",
  permissions: ["Administrator"],
  cooldown: { uses: 5, perMs: 10_000 },
  subcommands: {
    create: sub({
      ...described("cmd.backup.create.description"),
      options: {
        label: opt.string({ ...described("cmd.backup.create.label"), maxLength: 100 }),
      },
      handler: async (ctx) => {
        if (!(await enabled(ctx))) return ctx.ephemeral(t(ctx.language, "backup.disabled"));
        return ctx.defer(async (f) => {
          let text: string;
          try {
            text = await createBackup(ctx, ctx.options.label, ctx.deps);
          } catch (error) {
            text = explain(error, ctx.language);
          }
          await f.editOriginal(text);
        });
      },
    }),
    list: sub({
      ...described("cmd.backup.list.description"),
      handler: async (ctx) => ctx.ephemeral(await listPage(ctx, 0)),
    }),
    view: sub({
      ...described("cmd.backup.view.description"),
      options: { id: idOption() },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id, ctx.language);
        if (bad) return ctx.ephemeral(bad);
        try {
          return ctx.ephemeral(await viewMessage(ctx, ctx.options.id));
        } catch (error) {
          return ctx.ephemeral(explain(error, ctx.language));
        }
      },
    }),
    diff: sub({
      ...described("cmd.backup.diff.description"),
      options: {
        a: idOption("cmd.backup.diff.a"),
        b: opt.string({
          ...described("cmd.backup.diff.b"),
          maxLength: 24,
          autocomplete: backupChoices,
        }),
      },
      handler: (ctx) => {
        const lang = ctx.language;
        const bad = checkId(ctx.options.a, lang) ??
          (ctx.options.b ? checkId(ctx.options.b, lang) : null);
        if (bad) return ctx.ephemeral(bad);
        return ctx.defer(async (f) => {
          try {
            const v = await diffBackup(
              ctx.deps,
              ctx.guildId!,
              ctx.options.a,
              ctx.options.b ?? "live",
              {
                limit: 20,
              },
            );
            await f.editOriginal({ embeds: [diffEmbed(v, lang)] });
          } catch (error) {
            await f.editOriginal(explain(error, lang));
          }
        });
      },
    }),
    restore: sub({
      ...described("cmd.backup.restore.description"),
      options: { id: idOption() },
      handler: async (ctx) => {
        if (!(await enabled(ctx))) return ctx.ephemeral(t(ctx.language, "backup.disabled"));
        const bad = checkId(ctx.options.id, ctx.language);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          return ctx.ephemeral(await restoreMenu(ctx, meta, ALL_PARTS));
        } catch (error) {
          return ctx.ephemeral(explain(error, ctx.language));
        }
      },
    }),
    pin: sub({
      ...described("cmd.backup.pin.description"),
      options: {
        id: idOption(),
        pinned: opt.boolean(described("cmd.backup.pin.pinned")),
      },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id, ctx.language);
        if (bad) return ctx.ephemeral(bad);
        const pinned = ctx.options.pinned ?? true;
        try {
          const meta = await setPinned(ctx.deps.kv, ctx.guildId!, ctx.options.id, pinned);
          await audit(ctx, pinned ? "backup.pin" : "backup.unpin", { backupId: meta.id });
          return ctx.ephemeral(
            t(ctx.language, pinned ? "backup.pinned" : "backup.unpinned", {
              id: meta.id,
              label: escape(meta.label),
            }),
          );
        } catch (error) {
          return ctx.ephemeral(explain(error, ctx.language));
        }
      },
    }),
    note: sub({
      ...described("cmd.backup.note.description"),
      options: {
        id: idOption(),
        text: opt.string({
          ...described("cmd.backup.note.text"),
          required: true,
          maxLength: NOTE_MAX,
        }),
      },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id, ctx.language);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await setNote(ctx.deps.kv, ctx.guildId!, ctx.options.id, ctx.options.text);
          await audit(ctx, "backup.note", { backupId: meta.id, note: meta.note });
          return ctx.ephemeral(
            t(ctx.language, meta.note ? "backup.note_saved" : "backup.note_cleared", {
              id: meta.id,
            }),
          );
        } catch (error) {
          return ctx.ephemeral(explain(error, ctx.language));
        }
      },
    }),
    verify: sub({
      ...described("cmd.backup.verify.description"),
      options: { id: idOption() },
      handler: (ctx) => {
        const lang = ctx.language;
        const bad = checkId(ctx.options.id, lang);
        if (bad) return ctx.ephemeral(bad);
        return ctx.defer(async (f) => {
          try {
            const r = await verifyBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
            await audit(ctx, "backup.verify", { backupId: r.backupId, ok: r.ok, detail: r.detail });
            // The detail is the verifier's own account of the mismatch, shown as it words it.
            await f.editOriginal(
              r.ok
                ? t(lang, "backup.intact", { id: r.backupId, hash: r.expected })
                : t(lang, "backup.verify_failed", {
                  id: r.backupId,
                  detail: r.detail ?? "",
                  expected: r.expected,
                  actual: r.actual ?? t(lang, "backup.unreadable"),
                }),
            );
          } catch (error) {
            await f.editOriginal(explain(error, lang));
          }
        });
      },
    }),
    delete: sub({
      ...described("cmd.backup.delete.description"),
      options: { id: idOption() },
      handler: async (ctx) => {
        const lang = ctx.language;
        const bad = checkId(ctx.options.id, lang);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          if (meta.pinned) return ctx.ephemeral(explain(new BackupPinnedError(meta.id), lang));
          return ctx.ephemeral({
            content: t(lang, "backup.delete_ask", {
              id: meta.id,
              label: escape(meta.label),
              when: ts(meta.createdAt),
            }),
            components: [row(
              button(
                await ctx.customId("del", meta.id),
                t(lang, "backup.delete_button"),
                ButtonStyle.Danger,
              ),
              button(await ctx.customId("cancel"), t(lang, "common.cancel"), ButtonStyle.Secondary),
            )],
          });
        } catch (error) {
          return ctx.ephemeral(explain(error, lang));
        }
      },
    }),
    schedule: group(described("cmd.backup.schedule.description"), {
      enable: sub({
        ...described("cmd.backup.schedule.enable.description"),
        options: {
          hours: opt.integer({
            ...described("cmd.backup.schedule.enable.hours", { min: MIN_HOURS, max: MAX_HOURS }),
            required: true,
            minValue: MIN_HOURS,
            maxValue: MAX_HOURS,
          }),
        },
        handler: async (ctx) => {
          const lang = ctx.language;
          if (!(await enabled(ctx))) return ctx.ephemeral(t(lang, "backup.disabled"));
          const s = await setSchedule(
            ctx.deps.kv,
            ctx.guildId!,
            {
              enabled: true,
              hours: ctx.options.hours,
            },
            ctx.user.id,
            ctx.deps.clock.now(),
          );
          await audit(ctx, "backup.schedule.enable", { hours: s.hours });
          const off = !(await isEnabled(ctx.deps.kv, ctx.guildId!, "scheduled_backups"));
          return ctx.ephemeral(
            t(lang, "backup.schedule_enabled", { hours: n(lang, s.hours), when: rel(s.nextAt) }) +
              (off ? `\n${t(lang, "backup.schedule_feature_off")}` : ""),
          );
        },
      }),
      disable: sub({
        ...described("cmd.backup.schedule.disable.description"),
        handler: async (ctx) => {
          await setSchedule(
            ctx.deps.kv,
            ctx.guildId!,
            { enabled: false },
            ctx.user.id,
            ctx.deps.clock.now(),
          );
          await audit(ctx, "backup.schedule.disable", {});
          return ctx.ephemeral(t(ctx.language, "backup.schedule_disabled"));
        },
      }),
      status: sub({
        ...described("cmd.backup.schedule.status.description"),
        handler: async (ctx) => {
          const lang = ctx.language;
          const s = await getSchedule(ctx.deps.kv, ctx.guildId!);
          if (!s || !s.enabled) return ctx.ephemeral(t(lang, "backup.schedule_off"));
          const days = ctx.deps.config.backup.retentionDays;
          // The last result is the scheduler's record ("created …", "skipped: …"), as kept.
          const lines = [
            t(lang, "backup.schedule_status", { hours: n(lang, s.hours), when: rel(s.nextAt) }),
            s.lastRunAt
              ? t(lang, "backup.schedule_last", {
                when: rel(s.lastRunAt),
                result: s.lastResult ?? t(lang, "backup.schedule_started"),
              })
              : t(lang, "backup.schedule_never"),
            t(lang, "backup.retention", {
              retention: days
                ? t(lang, "backup.retention_days", { days: n(lang, days) })
                : t(lang, "backup.retention_forever"),
            }),
          ];
          return ctx.ephemeral(lines.join("\n"));
        },
      }),
    }),
    export: sub({
      ...described("cmd.backup.export.description"),
      options: { id: idOption() },
      handler: async (ctx) => {
        const lang = ctx.language;
        const owner = ctx.deps.config.backup.ownerId;
        if (!owner || ctx.user.id !== owner) return ctx.ephemeral(t(lang, "backup.owner_only"));
        const bad = checkId(ctx.options.id, lang);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          const link = await createExportLink(ctx.deps, ctx.keys.export, ctx.guildId!, meta.id);
          await audit(ctx, "backup.export.link", { backupId: meta.id, expiresAt: link.expiresAt });
          return ctx.ephemeral({
            content: t(lang, "backup.download", {
              id: meta.id,
              size: size(meta.sizeRaw, lang),
              when: rel(link.expiresAt),
            }),
            components: [{
              type: ComponentType.ActionRow,
              components: [{
                type: ComponentType.Button,
                style: ButtonStyle.Link,
                label: t(lang, "backup.download_button"),
                url: link.url,
              }],
            }],
          });
        } catch (error) {
          return ctx.ephemeral(explain(error, lang));
        }
      },
    }),
    status: sub({
      ...described("cmd.backup.status.description"),
      handler: async (ctx) => ctx.ephemeral(await statusMessage(ctx)),
    }),
  },
  components: {
    list: async (ctx) => ctx.update(await listPage(ctx, Number(ctx.state) || 0)),
    st: async (ctx) => ctx.update(await statusMessage(ctx)),
    sp: async (ctx) => {
      const kind = ctx.state === "capture" ? "capture" : "restore";
      const r = await stopJob(ctx.deps, ctx.guildId!, kind, `user:${ctx.user.id}`);
      await audit(ctx, `backup.${kind}.stop`, { result: r.status });
      const note = r.status === "noop"
        ? t(ctx.language, "backup.stop_noop", { reason: translateReason(ctx.language, r.reason) })
        : t(
          ctx.language,
          kind === "capture" ? "backup.stop_capture_requested" : "backup.stop_restore_requested",
          { user: ctx.user.id },
        );
      return ctx.update(await statusMessage(ctx, note));
    },
    cancel: (ctx) =>
      ctx.update({ content: t(ctx.language, "backup.cancelled"), components: [], embeds: [] }),
    del: async (ctx) => {
      try {
        const meta = await deleteBackup(ctx.deps.kv, ctx.guildId!, ctx.state);
        await audit(ctx, "backup.delete", { backupId: meta.id, label: meta.label });
        return ctx.update({
          content: t(ctx.language, "backup.deleted", { id: meta.id, label: escape(meta.label) }),
          components: [],
        });
      } catch (error) {
        return ctx.update({ content: explain(error, ctx.language), components: [] });
      }
    },
    rt: (ctx) => menuStep(ctx, "menu"),
    rr: (ctx) => menuStep(ctx, "review"),
    rx: (ctx) =>
      ctx.update({
        content: t(ctx.language, "backup.restore_cancelled"),
        embeds: [],
        components: [],
      }),
    rc: async (ctx) => {
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
              reason: translateReason(lang, r.reason),
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
        return ctx.update({ content: explain(error, lang), embeds: [], components: [] });
      }
    },
  },
});
