/**
 * /backup (Administrator): guild backups. create, list (paged), view, diff (two backups or one
 * against the live server), restore (toggles, then a two-step confirmation with a danger
 * button), pin, note, verify, delete (confirmation; pinned refused), schedule
 * enable|disable|status, export (bot owner: an expiring signed link), status (capture and
 * restore progress). Every action is appended to the audit log; long ones use deferred replies.
 */
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  ButtonStyle,
  ComponentType,
} from "discord-api-types/v10";
import { defineCommand, group, sub } from "./define.ts";
import { opt } from "./options.ts";
import type {
  AutocompleteContext,
  Choice,
  ComponentContext,
  InteractionContext,
} from "../interactions/context.ts";
import type { MessageData } from "../interactions/reply.ts";
import type { AppDeps } from "../deps.ts";
import { isEnabled } from "../ops/flags.ts";
import { type Actor, tryAppendAudit } from "../audit/mod.ts";
import {
  BackupBusyError,
  BackupDisabledError,
  type JobStatus,
  jobStatus,
  startCapture,
  startRestore,
  stopJob,
} from "../backup/service.ts";
import {
  BACKUP_ID,
  BackupCorruptError,
  BackupLimitError,
  type BackupMeta,
  BackupNotFoundError,
  BackupPinnedError,
  deleteBackup,
  listBackups,
  NOTE_MAX,
  requireBackup,
  setNote,
  setPinned,
  verifyBackup,
} from "../backup/store.ts";
import { backupView, createExportLink, diffBackup, restorePreview } from "../backup/views.ts";
import { RESTORE_PARTS, type RestorePart } from "../backup/restore_plan.ts";
import { getSchedule, MAX_HOURS, MIN_HOURS, setSchedule } from "../backup/schedule.ts";
import { formatDuration, progressBar } from "../jobs/progress.ts";

export const LIST_PAGE = 8;
const COLOR = { ok: 0x2e7d32, warn: 0xef6c00, bad: 0xc62828, info: 0x1565c0 };

const ts = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;
const rel = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

function actorOf(ctx: InteractionContext): Actor {
  return { id: ctx.user.id, name: ctx.user.username };
}

function audit(ctx: InteractionContext, action: string, detail: Record<string, unknown>) {
  return tryAppendAudit(ctx.deps, { guildId: ctx.guildId, actor: actorOf(ctx), action, detail });
}

/** A refusal message for the errors the backup layer throws, else rethrows. */
function explain(error: unknown): string {
  if (
    error instanceof BackupNotFoundError || error instanceof BackupPinnedError ||
    error instanceof BackupCorruptError || error instanceof BackupDisabledError ||
    error instanceof BackupBusyError
  ) return capitalise(error.message) + ".";
  if (error instanceof BackupLimitError) return capitalise(error.message) + ".";
  if (error instanceof RangeError) return capitalise(error.message) + ".";
  throw error;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const DISABLED = "Backups are turned off in this server. An admin can turn them on with " +
  "`/config feature:backups enabled:true`.";

async function enabled(ctx: InteractionContext): Promise<boolean> {
  return ctx.guildId !== undefined && await isEnabled(ctx.deps.kv, ctx.guildId, "backups");
}

async function backupChoices(ctx: AutocompleteContext, typed: string): Promise<Choice[]> {
  if (!ctx.guildId) return [];
  const q = typed.toLowerCase();
  return (await listBackups(ctx.deps.kv, ctx.guildId))
    .filter((m) => m.id.includes(q) || m.label.toLowerCase().includes(q))
    .slice(0, 25)
    .map((m) => ({
      name: `${m.pinned ? "📌 " : ""}${m.label.slice(0, 60)} · ${
        new Date(m.createdAt).toISOString().slice(0, 16).replace("T", " ")
      } · ${m.id}`.slice(0, 100),
      value: m.id,
    }));
}

const idOption = (description = "The backup (start typing its label or id)") =>
  opt.string({ description, required: true, maxLength: 24, autocomplete: backupChoices });

function checkId(id: string): string | null {
  return BACKUP_ID.test(id) ? null : `\`${id.slice(0, 30)}\` is not a backup id.`;
}

function button(
  customId: string,
  label: string,
  style: ButtonStyle,
  disabled = false,
): APIButtonComponent {
  return {
    type: ComponentType.Button,
    custom_id: customId,
    label,
    style,
    disabled,
  } as APIButtonComponent;
}

function row(
  ...components: APIButtonComponent[]
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return { type: ComponentType.ActionRow, components };
}

// --- list -----------------------------------------------------------------------------------------

async function listPage(ctx: InteractionContext, page: number): Promise<MessageData> {
  const all = await listBackups(ctx.deps.kv, ctx.guildId!);
  if (all.length === 0) {
    return { content: "No backups yet. Make one with `/backup create`." };
  }
  const pages = Math.max(1, Math.ceil(all.length / LIST_PAGE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const shown = all.slice(p * LIST_PAGE, (p + 1) * LIST_PAGE);
  const cap = ctx.deps.config.backup.maxPerGuild;
  const embed: APIEmbed = {
    title: "Backups",
    color: COLOR.info,
    description: shown.map((m) =>
      `${m.pinned ? "📌 " : ""}**${escape(m.label)}** · \`${m.id}\`\n` +
      `${ts(m.createdAt)} by ${escape(m.authorName)} · ${m.memberCount} members · ` +
      `${size(m.sizeCompressed)}${m.note ? `\n> ${escape(m.note.slice(0, 100))}` : ""}`
    ).join("\n\n"),
    footer: { text: `Page ${p + 1} of ${pages} · ${all.length} of at most ${cap} backups` },
  };
  return {
    embeds: [embed],
    components: [row(
      button(await ctx.customId("list", String(p - 1)), "Previous", ButtonStyle.Secondary, p === 0),
      button(
        await ctx.customId("list", String(p + 1)),
        "Next",
        ButtonStyle.Secondary,
        p >= pages - 1,
      ),
    )],
  };
}

const escape = (s: string) => s.replace(/([*_`~|>])/g, "\\$1");

// --- view -----------------------------------------------------------------------------------------

async function viewMessage(ctx: InteractionContext, id: string): Promise<MessageData> {
  const v = await backupView(ctx.deps, ctx.guildId!, id);
  const m = v.backup;
  const fields: APIEmbed["fields"] = [
    { name: "Created", value: `${ts(m.createdAt)} by ${escape(m.authorName)} (${m.source})` },
    {
      name: "Size",
      value: `${size(m.sizeRaw)} raw, ${size(m.sizeCompressed)} stored`,
      inline: true,
    },
    { name: "Members", value: String(m.memberCount), inline: true },
    { name: "Pinned", value: m.pinned ? "yes" : "no", inline: true },
  ];
  if (v.counts) {
    const c = v.counts;
    fields.push({
      name: "Contents",
      value: `${c.roles} roles, ${c.categories} categories, ${c.channels} channels, ` +
        `${c.overwrites} permission overwrites, ${c.emojis} emojis, ${c.stickers} stickers, ` +
        `${c.memberRoles} member role assignments`,
    });
  }
  if (m.note) fields.push({ name: "Note", value: escape(m.note) });
  fields.push({ name: "Checksum (SHA-256)", value: `\`${m.checksum}\`` });
  if (v.problem) fields.push({ name: "⚠️ Problem", value: v.problem.slice(0, 1000) });
  return {
    embeds: [{
      title: `Backup ${escape(m.label)}`,
      color: v.problem ? COLOR.bad : COLOR.info,
      fields,
      footer: { text: `id ${m.id}` },
    }],
  };
}

// --- diff -----------------------------------------------------------------------------------------

function diffEmbed(v: Awaited<ReturnType<typeof diffBackup>>): APIEmbed {
  const d = v.diff;
  const name = (s: typeof v.from) =>
    s.backupId ? `\`${s.backupId}\` (${escape(s.label)})` : s.label;
  const lines: string[] = [];
  const list = (
    label: string,
    sec: { added: { name: string }[]; removed: { name: string }[]; changed: { name: string }[] },
  ) => {
    if (sec.added.length) {
      lines.push(`➕ ${label}: ${sec.added.slice(0, 10).map((x) => escape(x.name)).join(", ")}`);
    }
    if (sec.removed.length) {
      lines.push(`➖ ${label}: ${sec.removed.slice(0, 10).map((x) => escape(x.name)).join(", ")}`);
    }
    if (sec.changed.length) {
      lines.push(`✏️ ${label}: ${sec.changed.slice(0, 10).map((x) => escape(x.name)).join(", ")}`);
    }
  };
  list("roles", d.roles);
  list("channels", d.channels);
  const ow = d.overwrites;
  if (ow.totals.added + ow.totals.removed + ow.totals.changed) {
    const sample = [...ow.removed, ...ow.added, ...ow.changed].slice(0, 8).map((o) =>
      `#${escape(o.channelName)} ↔ ${escape(o.targetName)}`
    );
    lines.push(`🔐 overwrites: ${sample.join(", ")}`);
  }
  return {
    title: "Backup diff",
    description: `${name(v.from)} → ${name(v.to)}\n\n` +
      [...v.summary.map((s) => `**${s}**`), "", ...lines].join("\n").slice(0, 3800),
    color: d.identical ? COLOR.ok : COLOR.warn,
  };
}

// --- restore ----------------------------------------------------------------------------------------

const PART_BIT: Record<RestorePart, number> = {
  roles: 1,
  categories: 2,
  channels: 4,
  members: 8,
  settings: 16,
};
const REWIND_BIT = 32;
const ALL_PARTS = 31;
const PART_LABEL: Record<RestorePart, string> = {
  roles: "Roles",
  categories: "Categories",
  channels: "Channels",
  members: "Member roles",
  settings: "Settings",
};

export function partsOf(mask: number): RestorePart[] {
  return RESTORE_PARTS.filter((p) => (mask & PART_BIT[p]) !== 0);
}

async function restoreMenu(
  ctx: InteractionContext,
  meta: BackupMeta,
  mask: number,
): Promise<MessageData> {
  const parts = partsOf(mask);
  const rewind = (mask & REWIND_BIT) !== 0;
  const toggles = await Promise.all(RESTORE_PARTS.map(async (p) =>
    button(
      await ctx.customId("rt", `${meta.id}.${mask ^ PART_BIT[p]}`),
      `${(mask & PART_BIT[p]) ? "✅" : "⬜"} ${PART_LABEL[p]}`,
      (mask & PART_BIT[p]) ? ButtonStyle.Success : ButtonStyle.Secondary,
    )
  ));
  return {
    embeds: [{
      title: `Restore ${escape(meta.label)}`,
      color: COLOR.info,
      description: [
        `Backup \`${meta.id}\` from ${ts(meta.createdAt)}.`,
        "A restore creates what is missing (roles, categories, channels by name, with their " +
        "settings and permission overwrites) and re-adds members' missing roles. It never " +
        "deletes a role or a channel.",
        "",
        `**Restoring:** ${parts.length ? parts.map((p) => PART_LABEL[p]).join(", ") : "nothing"}`,
        `**Role rewind:** ${
          rewind ? "on: members also lose roles they gained since the backup" : "off"
        }`,
      ].join("\n"),
    }],
    components: [
      row(...toggles),
      row(
        button(
          await ctx.customId("rt", `${meta.id}.${mask ^ REWIND_BIT}`),
          rewind ? "⏪ Rewind: on" : "⏪ Rewind: off",
          rewind ? ButtonStyle.Danger : ButtonStyle.Secondary,
          (mask & PART_BIT.members) === 0,
        ),
        button(
          await ctx.customId("rr", `${meta.id}.${mask}`),
          "Review…",
          ButtonStyle.Primary,
          parts.length === 0,
        ),
        button(await ctx.customId("rx", meta.id), "Cancel", ButtonStyle.Secondary),
      ),
    ],
  };
}

async function restoreReview(
  ctx: InteractionContext,
  meta: BackupMeta,
  mask: number,
): Promise<MessageData> {
  const parts = partsOf(mask);
  const rewind = (mask & REWIND_BIT) !== 0;
  const p = await restorePreview(ctx.deps, ctx.guildId!, meta.id, { parts, rewind });
  const lines = [
    `**Backup** \`${meta.id}\` (${escape(meta.label)}), ${ts(meta.createdAt)}`,
    `**Parts:** ${parts.map((x) => PART_LABEL[x]).join(", ")}${
      rewind ? " · **role rewind on**" : ""
    }`,
    "",
    "This will:",
  ];
  if (parts.includes("roles")) lines.push(`• create **${p.roles}** missing roles`);
  if (parts.includes("categories")) lines.push(`• create **${p.categories}** missing categories`);
  if (parts.includes("channels")) {
    lines.push(
      `• create **${p.channels}** missing channels, move **${p.reparent}** back into their category`,
    );
  }
  if (parts.includes("roles") || parts.includes("channels") || parts.includes("categories")) {
    lines.push(`• put back **${p.overwrites}**+ missing permission overwrites`);
  }
  if (parts.includes("settings")) {
    lines.push(
      `• reset ${
        p.settings.length ? p.settings.map((s) => `\`${s}\``).join(", ") : "no"
      } server settings, and the bot's own settings`,
    );
  }
  if (parts.includes("members")) {
    lines.push(
      `• check **${p.members}** backed-up members and re-add the roles they lack` +
        (rewind ? ", **removing roles they gained since the backup**" : ""),
    );
  }
  if (p.managedRolesSkipped) {
    lines.push(
      `(${p.managedRolesSkipped} bot/integration roles cannot be re-created and are skipped)`,
    );
  }
  lines.push("", "Nothing is deleted. Confirm to start; progress shows in `/backup status`.");
  return {
    embeds: [{ title: "⚠️ Confirm restore", color: COLOR.warn, description: lines.join("\n") }],
    components: [row(
      button(await ctx.customId("rc", `${meta.id}.${mask}`), "Confirm restore", ButtonStyle.Danger),
      button(await ctx.customId("rt", `${meta.id}.${mask}`), "Back", ButtonStyle.Secondary),
      button(await ctx.customId("rx", meta.id), "Cancel", ButtonStyle.Secondary),
    )],
  };
}

function parseMaskState(state: string): { id: string; mask: number } | null {
  const [id, raw] = state.split(".");
  const mask = Number(raw);
  if (!BACKUP_ID.test(id ?? "") || !Number.isInteger(mask) || mask < 0 || mask > 63) return null;
  return { id, mask };
}

// --- status -----------------------------------------------------------------------------------------

function jobField(s: JobStatus): APIEmbed["fields"] {
  const p = s.progress;
  if (p.state === "idle") {
    return [{ name: s.job === "capture" ? "Capture" : "Restore", value: "none yet" }];
  }
  const pct = p.total ? ` ${Math.floor(Math.min(1, p.processed / p.total) * 100)}%` : "";
  const lines = [
    `**${p.state}**${s.phase ? ` · phase ${s.phase}` : ""} · backup \`${s.backupId ?? "?"}\``,
    `\`${progressBar(p, 16)}\`${pct} · ${p.processed}${
      p.total !== null ? `/${p.total}` : ""
    } members · chunk ${p.chunk}`,
  ];
  if (p.etaSeconds !== null && (p.state === "running" || p.state === "waiting")) {
    lines.push(`ETA ${formatDuration(p.etaSeconds)}`);
  }
  if (p.lastError) lines.push(`Error: ${p.lastError.slice(0, 300)}`);
  const r = s.report;
  if (r) {
    const fmt = (o: Record<string, number>) =>
      Object.entries(o).map(([k, v]) => `${k.replaceAll("_", " ")} ${v}`).join(", ") || "none";
    lines.push(
      `Created: ${fmt(r.created)}`,
      `Members: ${fmt(r.members)}`,
      `Skipped: ${fmt(r.skipped)}`,
    );
    lines.push(`Failed: ${fmt(r.failed)}`);
    for (const problem of r.problems.slice(0, 5)) lines.push(`• ${problem.slice(0, 150)}`);
  }
  return [{
    name: s.job === "capture" ? "Capture" : "Restore",
    value: lines.join("\n").slice(0, 1024),
  }];
}

async function statusMessage(ctx: InteractionContext, note?: string): Promise<MessageData> {
  const [capture, restore] = await Promise.all([
    jobStatus(ctx.deps, ctx.guildId!, "capture"),
    jobStatus(ctx.deps, ctx.guildId!, "restore"),
  ]);
  return {
    embeds: [{
      title: "Backup jobs",
      color: COLOR.info,
      description: note,
      fields: [...jobField(capture)!, ...jobField(restore)!],
    }],
    components: [row(
      button(await ctx.customId("st"), "Refresh", ButtonStyle.Secondary),
      button(
        await ctx.customId("sp", "restore"),
        "Stop restore",
        ButtonStyle.Danger,
        !["running", "waiting"].includes(restore.progress.state),
      ),
      button(
        await ctx.customId("sp", "capture"),
        "Stop capture",
        ButtonStyle.Danger,
        !["running", "waiting"].includes(capture.progress.state),
      ),
    )],
  };
}

// --- create ---------------------------------------------------------------------------------------------

async function createBackup(ctx: InteractionContext, label: string | undefined, deps: AppDeps) {
  const r = await startCapture(deps, ctx.guildId!, {
    label,
    authorId: ctx.user.id,
    authorName: ctx.user.username,
    source: "command",
  });
  if (r.status !== "started") return `A backup could not start: ${r.reason}.`;
  const first = await r.start.done;
  if (first.state === "completed") {
    const meta = await requireBackup(deps.kv, ctx.guildId!, r.backupId!);
    return `✅ Backup \`${meta.id}\` (**${
      escape(meta.label)
    }**) created: ${meta.memberCount} members, ` +
      `${meta.roleCount} roles, ${meta.channelCount} channels, ${
        size(meta.sizeCompressed)
      } stored.`;
  }
  if (first.state === "failed") {
    return `❌ The backup failed: ${first.progress.lastError ?? "unknown error"}`;
  }
  return `⏳ Backup \`${r.backupId}\` is being captured in chunks (${first.progress.processed}` +
    `${first.progress.total ? `/${first.progress.total}` : ""} members so far). ` +
    "Follow it with `/backup status`.";
}

// --- the command -------------------------------------------------------------------------------------------

export const backup = defineCommand({
  name: "backup",
  description: "Back up this server, compare, and restore what is missing",
  category: "Backups",
  permissions: ["Administrator"],
  cooldown: { uses: 5, perMs: 10_000 },
  subcommands: {
    create: sub({
      description: "Take a backup of roles, channels, permissions, settings and member roles",
      options: { label: opt.string({ description: "A label for this backup", maxLength: 100 }) },
      handler: async (ctx) => {
        if (!(await enabled(ctx))) return ctx.ephemeral(DISABLED);
        return ctx.defer(async (f) => {
          let text: string;
          try {
            text = await createBackup(ctx, ctx.options.label, ctx.deps);
          } catch (error) {
            text = explain(error);
          }
          await f.editOriginal(text);
        });
      },
    }),
    list: sub({
      description: "List this server's backups",
      handler: async (ctx) => ctx.ephemeral(await listPage(ctx, 0)),
    }),
    view: sub({
      description: "Show a backup's details",
      options: { id: idOption() },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        try {
          return ctx.ephemeral(await viewMessage(ctx, ctx.options.id));
        } catch (error) {
          return ctx.ephemeral(explain(error));
        }
      },
    }),
    diff: sub({
      description: "Compare a backup with another one, or with the server as it is now",
      options: {
        a: idOption("The older backup"),
        b: opt.string({
          description: "The newer backup (default: the live server)",
          maxLength: 24,
          autocomplete: backupChoices,
        }),
      },
      handler: (ctx) => {
        const bad = checkId(ctx.options.a) ?? (ctx.options.b ? checkId(ctx.options.b) : null);
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
            await f.editOriginal({ embeds: [diffEmbed(v)] });
          } catch (error) {
            await f.editOriginal(explain(error));
          }
        });
      },
    }),
    restore: sub({
      description: "Restore what is missing from a backup (choose parts, then confirm)",
      options: { id: idOption() },
      handler: async (ctx) => {
        if (!(await enabled(ctx))) return ctx.ephemeral(DISABLED);
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          return ctx.ephemeral(await restoreMenu(ctx, meta, ALL_PARTS));
        } catch (error) {
          return ctx.ephemeral(explain(error));
        }
      },
    }),
    pin: sub({
      description: "Pin a backup (protected from deletion and retention) or unpin it",
      options: {
        id: idOption(),
        pinned: opt.boolean({ description: "true to pin (default), false to unpin" }),
      },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        const pinned = ctx.options.pinned ?? true;
        try {
          const meta = await setPinned(ctx.deps.kv, ctx.guildId!, ctx.options.id, pinned);
          await audit(ctx, pinned ? "backup.pin" : "backup.unpin", { backupId: meta.id });
          return ctx.ephemeral(
            `${pinned ? "📌 Pinned" : "Unpinned"} backup \`${meta.id}\` (${escape(meta.label)}).`,
          );
        } catch (error) {
          return ctx.ephemeral(explain(error));
        }
      },
    }),
    note: sub({
      description: "Set a backup's note (empty text clears it)",
      options: {
        id: idOption(),
        text: opt.string({ description: "The note", required: true, maxLength: NOTE_MAX }),
      },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await setNote(ctx.deps.kv, ctx.guildId!, ctx.options.id, ctx.options.text);
          await audit(ctx, "backup.note", { backupId: meta.id, note: meta.note });
          return ctx.ephemeral(
            meta.note ? `Note saved on \`${meta.id}\`.` : `Note cleared on \`${meta.id}\`.`,
          );
        } catch (error) {
          return ctx.ephemeral(explain(error));
        }
      },
    }),
    verify: sub({
      description: "Check a backup's integrity (SHA-256 checksum)",
      options: { id: idOption() },
      handler: (ctx) => {
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        return ctx.defer(async (f) => {
          try {
            const r = await verifyBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
            await audit(ctx, "backup.verify", { backupId: r.backupId, ok: r.ok, detail: r.detail });
            await f.editOriginal(
              r.ok
                ? `✅ Backup \`${r.backupId}\` is intact: SHA-256 \`${r.expected}\` matches.`
                : `❌ Backup \`${r.backupId}\` failed verification: ${r.detail}.\nExpected \`${r.expected}\`, got \`${
                  r.actual ?? "unreadable data"
                }\`.`,
            );
          } catch (error) {
            await f.editOriginal(explain(error));
          }
        });
      },
    }),
    delete: sub({
      description: "Delete a backup (asks for confirmation; pinned backups are refused)",
      options: { id: idOption() },
      handler: async (ctx) => {
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          if (meta.pinned) return ctx.ephemeral(explain(new BackupPinnedError(meta.id)));
          return ctx.ephemeral({
            content: `Delete backup \`${meta.id}\` (**${escape(meta.label)}**, ${
              ts(meta.createdAt)
            })? This cannot be undone.`,
            components: [row(
              button(await ctx.customId("del", meta.id), "Delete backup", ButtonStyle.Danger),
              button(await ctx.customId("cancel"), "Cancel", ButtonStyle.Secondary),
            )],
          });
        } catch (error) {
          return ctx.ephemeral(explain(error));
        }
      },
    }),
    schedule: group("Scheduled backups of this server", {
      enable: sub({
        description: "Take a backup every N hours",
        options: {
          hours: opt.integer({
            description: `Hours between backups (${MIN_HOURS}-${MAX_HOURS})`,
            required: true,
            minValue: MIN_HOURS,
            maxValue: MAX_HOURS,
          }),
        },
        handler: async (ctx) => {
          if (!(await enabled(ctx))) return ctx.ephemeral(DISABLED);
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
            `Scheduled backups every **${s.hours} h**; the next one ${rel(s.nextAt)}.` +
              (off
                ? "\n⚠️ The `scheduled_backups` feature is off, so none will run until it is on."
                : ""),
          );
        },
      }),
      disable: sub({
        description: "Stop the scheduled backups",
        handler: async (ctx) => {
          await setSchedule(
            ctx.deps.kv,
            ctx.guildId!,
            { enabled: false },
            ctx.user.id,
            ctx.deps.clock.now(),
          );
          await audit(ctx, "backup.schedule.disable", {});
          return ctx.ephemeral("Scheduled backups are off.");
        },
      }),
      status: sub({
        description: "Show the backup schedule",
        handler: async (ctx) => {
          const s = await getSchedule(ctx.deps.kv, ctx.guildId!);
          if (!s || !s.enabled) {
            return ctx.ephemeral(
              "Scheduled backups are off. Turn them on with `/backup schedule enable`.",
            );
          }
          const lines = [
            `Scheduled backups every **${s.hours} h**; next ${rel(s.nextAt)}.`,
            s.lastRunAt
              ? `Last run ${rel(s.lastRunAt)}: ${s.lastResult ?? "started"}.`
              : "No scheduled run yet.",
            `Retention: ${
              ctx.deps.config.backup.retentionDays
                ? `${ctx.deps.config.backup.retentionDays} days`
                : "forever"
            } (pinned backups are kept).`,
          ];
          return ctx.ephemeral(lines.join("\n"));
        },
      }),
    }),
    export: sub({
      description: "Bot owner: download a backup as JSON through an expiring link",
      options: { id: idOption() },
      handler: async (ctx) => {
        const owner = ctx.deps.config.backup.ownerId;
        if (!owner || ctx.user.id !== owner) {
          return ctx.ephemeral("Only the bot owner (`BOT_OWNER_ID`) can export backups.");
        }
        const bad = checkId(ctx.options.id);
        if (bad) return ctx.ephemeral(bad);
        try {
          const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, ctx.options.id);
          const link = await createExportLink(ctx.deps, ctx.keys.export, ctx.guildId!, meta.id);
          await audit(ctx, "backup.export.link", { backupId: meta.id, expiresAt: link.expiresAt });
          return ctx.ephemeral({
            content: `Download backup \`${meta.id}\` (${
              size(meta.sizeRaw)
            } of JSON). The link expires ${rel(link.expiresAt)}.`,
            components: [{
              type: ComponentType.ActionRow,
              components: [{
                type: ComponentType.Button,
                style: ButtonStyle.Link,
                label: "Download JSON",
                url: link.url,
              }],
            }],
          });
        } catch (error) {
          return ctx.ephemeral(explain(error));
        }
      },
    }),
    status: sub({
      description: "Show the progress of the current backup and restore",
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
        ? `Nothing to stop (${r.reason}).`
        : `⏹️ Stop of the ${kind} requested by <@${ctx.user.id}>.`;
      return ctx.update(await statusMessage(ctx, note));
    },
    cancel: (ctx) => ctx.update({ content: "Cancelled.", components: [], embeds: [] }),
    del: async (ctx) => {
      try {
        const meta = await deleteBackup(ctx.deps.kv, ctx.guildId!, ctx.state);
        await audit(ctx, "backup.delete", { backupId: meta.id, label: meta.label });
        return ctx.update({
          content: `🗑️ Deleted backup \`${meta.id}\` (${escape(meta.label)}).`,
          components: [],
        });
      } catch (error) {
        return ctx.update({ content: explain(error), components: [] });
      }
    },
    rt: (ctx) => menuStep(ctx, "menu"),
    rr: (ctx) => menuStep(ctx, "review"),
    rx: (ctx) => ctx.update({ content: "Restore cancelled.", embeds: [], components: [] }),
    rc: async (ctx) => {
      const st = parseMaskState(ctx.state);
      if (!st) return ctx.update({ content: "This has expired.", embeds: [], components: [] });
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
            content: `The restore could not start: ${r.reason}.`,
            embeds: [],
            components: [],
          });
        }
        ctx.deps.waitUntil(r.start.done);
        return ctx.update(
          await statusMessage(ctx, `🔄 Restore of \`${st.id}\` started by <@${ctx.user.id}>.`),
        );
      } catch (error) {
        return ctx.update({ content: explain(error), embeds: [], components: [] });
      }
    },
  },
});

async function menuStep(ctx: ComponentContext, step: "menu" | "review") {
  const st = parseMaskState(ctx.state);
  if (!st) return ctx.update({ content: "This has expired.", embeds: [], components: [] });
  try {
    const meta = await requireBackup(ctx.deps.kv, ctx.guildId!, st.id);
    return ctx.update(
      step === "menu"
        ? await restoreMenu(ctx, meta, st.mask)
        : await restoreReview(ctx, meta, st.mask),
    );
  } catch (error) {
    return ctx.update({ content: explain(error), embeds: [], components: [] });
  }
}
