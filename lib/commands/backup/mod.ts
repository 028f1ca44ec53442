/**
 * /backup (Administrator): guild backups. create, list (paged), view, diff (two backups or one
 * against the live server), restore (toggles, then a two-step confirmation with a danger
 * button), pin, note, verify, delete (confirmation; pinned refused), schedule
 * enable|disable|status, export (bot owner: an expiring signed link), status (capture and
 * restore progress). Every action is appended to the audit log (the actions on a stored backup
 * through lib/backup/actions.ts, as the HTTP API records them); long ones use deferred replies.
 * The schedule group (./schedule.ts) and the restore wizard (./restore_wizard.ts) live apart.
 */
import { ButtonStyle, ComponentType } from "discord-api-types/v10";
import { defineCommand, sub } from "../../interactions/define.ts";
import { opt } from "../../interactions/options.ts";
import { BackupPinnedError, NOTE_MAX, requireBackup } from "../../backup/store.ts";
import { diffBackup } from "../../backup/views.ts";
import { described, t } from "../../i18n/mod.ts";
import { explain } from "../../i18n/reason.ts";
import {
  actorOf,
  backupChoices,
  backupsOn,
  button,
  checkId,
  escape,
  idOption,
  refusalText,
  rel,
  row,
  size,
  ts,
} from "./common.ts";
import { diffEmbed, listPage, statusMessage, viewMessage } from "./views.ts";
import { ALL_PARTS, confirmRestore, menuStep, restoreMenu } from "./restore_wizard.ts";
import { createBackup } from "./create.ts";
import { scheduleGroup } from "./schedule.ts";
import {
  checkBackup,
  exportLink,
  noteBackup,
  pinBackup,
  removeBackup,
  stopBackupJob,
} from "../../backup/actions.ts";

// --- the command ---------------------------------------------------------------------------------

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
        // The command's check is the capture's preflight, handed on so the flag is read once.
        const preflight = await backupsOn(ctx);
        if (!preflight) return ctx.ephemeral(t(ctx.language, "backup.disabled"));
        return ctx.defer(async (f) => {
          let text: string;
          try {
            text = await createBackup(ctx, ctx.options.label, preflight);
          } catch (error) {
            text = refusalText(error, ctx.language);
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
          return ctx.ephemeral(refusalText(error, ctx.language));
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
            await f.editOriginal(refusalText(error, lang));
          }
        });
      },
    }),
    restore: sub({
      ...described("cmd.backup.restore.description"),
      options: { id: idOption() },
      handler: async (ctx) => {
        // The menu only: the confirmation starts the restore, and checks the flag again then.
        if (!(await backupsOn(ctx))) return ctx.ephemeral(t(ctx.language, "backup.disabled"));
        const bad = checkId(ctx.options.id, ctx.language);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          return ctx.ephemeral(await restoreMenu(ctx, meta, ALL_PARTS));
        } catch (error) {
          return ctx.ephemeral(refusalText(error, ctx.language));
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
          const meta = await pinBackup(
            ctx.deps,
            ctx.guildId!,
            ctx.options.id,
            pinned,
            actorOf(ctx),
          );
          return ctx.ephemeral(
            t(ctx.language, pinned ? "backup.pinned" : "backup.unpinned", {
              id: meta.id,
              label: escape(meta.label),
            }),
          );
        } catch (error) {
          return ctx.ephemeral(refusalText(error, ctx.language));
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
          const meta = await noteBackup(
            ctx.deps,
            ctx.guildId!,
            ctx.options.id,
            ctx.options.text,
            actorOf(ctx),
          );
          return ctx.ephemeral(
            t(ctx.language, meta.note ? "backup.note_saved" : "backup.note_cleared", {
              id: meta.id,
            }),
          );
        } catch (error) {
          return ctx.ephemeral(refusalText(error, ctx.language));
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
            const r = await checkBackup(ctx.deps, ctx.guildId!, ctx.options.id, actorOf(ctx));
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
            await f.editOriginal(refusalText(error, lang));
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
          if (meta.pinned) return ctx.ephemeral(refusalText(new BackupPinnedError(meta.id), lang));
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
          return ctx.ephemeral(refusalText(error, lang));
        }
      },
    }),
    schedule: scheduleGroup,
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
          const { meta, link } = await exportLink(
            ctx.deps,
            ctx.keys.export,
            ctx.guildId!,
            ctx.options.id,
            actorOf(ctx),
          );
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
          return ctx.ephemeral(refusalText(error, lang));
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
      const r = await stopBackupJob(
        ctx.deps,
        ctx.guildId!,
        kind,
        actorOf(ctx),
        `user:${ctx.user.id}`,
      );
      const note = r.status === "noop"
        ? t(ctx.language, "backup.stop_noop", { reason: explain(ctx.language, r) })
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
        const meta = await removeBackup(ctx.deps, ctx.guildId!, ctx.state, actorOf(ctx));
        return ctx.update({
          content: t(ctx.language, "backup.deleted", { id: meta.id, label: escape(meta.label) }),
          components: [],
        });
      } catch (error) {
        return ctx.update({ content: refusalText(error, ctx.language), components: [] });
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
    rc: confirmRestore,
  },
});
