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
import { defineCommand, group, sub } from "../interactions/define.ts";
import { opt } from "../interactions/options.ts";
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
import type { BackupDiff } from "../backup/diff.ts";
import {
  described,
  formatCount,
  formatNumber,
  formatPercent,
  isMessageKey,
  type Language,
  type MessageKey,
  t,
  translateReason,
} from "../i18n/mod.ts";

export const LIST_PAGE = 8;
const COLOR = { ok: 0x2e7d32, warn: 0xef6c00, bad: 0xc62828, info: 0x1565c0 };

const ts = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;
const rel = (ms: number) => `<t:${Math.floor(ms / 1000)}:R>`;

function size(n: number, language: Language): string {
  const fixed = (v: number, digits: number) =>
    formatNumber(language, v, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: "min2",
    });
  if (n < 1024) return `${formatCount(language, n)} B`;
  if (n < 1024 * 1024) return `${fixed(n / 1024, 1)} KiB`;
  return `${fixed(n / 1024 / 1024, 2)} MiB`;
}

function actorOf(ctx: InteractionContext): Actor {
  return { id: ctx.user.id, name: ctx.user.username };
}

function audit(ctx: InteractionContext, action: string, detail: Record<string, unknown>) {
  return tryAppendAudit(ctx.deps, { guildId: ctx.guildId, actor: actorOf(ctx), action, detail });
}

/**
 * A refusal message for the errors the backup layer throws, else rethrows. Their messages are the
 * store's English sentences (also logged and returned by the HTTP API), rendered in the language.
 */
function explain(error: unknown, language: Language): string {
  if (
    error instanceof BackupNotFoundError || error instanceof BackupPinnedError ||
    error instanceof BackupCorruptError || error instanceof BackupDisabledError ||
    error instanceof BackupBusyError || error instanceof BackupLimitError ||
    error instanceof RangeError
  ) return capitalise(translateReason(language, error.message)) + ".";
  throw error;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const n = (language: Language, v: number) => formatCount(language, v);

/** A job's state in one word of the language. */
function stateWord(state: string, language: Language): string {
  const key = `job.state.${state}`;
  return isMessageKey(key) ? t(language, key) : state;
}

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

const idOption = (key: MessageKey = "cmd.backup.id") =>
  opt.string({ ...described(key), required: true, maxLength: 24, autocomplete: backupChoices });

function checkId(id: string, language: Language): string | null {
  return BACKUP_ID.test(id) ? null : t(language, "backup.bad_id", { id: id.slice(0, 30) });
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
  const lang = ctx.language;
  const all = await listBackups(ctx.deps.kv, ctx.guildId!);
  if (all.length === 0) {
    return { content: t(lang, "backup.list_empty") };
  }
  const pages = Math.max(1, Math.ceil(all.length / LIST_PAGE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const shown = all.slice(p * LIST_PAGE, (p + 1) * LIST_PAGE);
  const cap = ctx.deps.config.backup.maxPerGuild;
  const embed: APIEmbed = {
    title: t(lang, "backup.list_title"),
    color: COLOR.info,
    description: shown.map((m) =>
      `${m.pinned ? "📌 " : ""}**${escape(m.label)}** · \`${m.id}\`\n` +
      t(lang, "backup.list_line", {
        when: ts(m.createdAt),
        author: escape(m.authorName),
        members: n(lang, m.memberCount),
        size: size(m.sizeCompressed, lang),
      }) +
      (m.note ? `\n> ${escape(m.note.slice(0, 100))}` : "")
    ).join("\n\n"),
    footer: {
      text: t(lang, "backup.list_footer", {
        page: n(lang, p + 1),
        pages: n(lang, pages),
        count: n(lang, all.length),
        max: n(lang, cap),
      }),
    },
  };
  return {
    embeds: [embed],
    components: [row(
      button(
        await ctx.customId("list", String(p - 1)),
        t(lang, "common.previous"),
        ButtonStyle.Secondary,
        p === 0,
      ),
      button(
        await ctx.customId("list", String(p + 1)),
        t(lang, "common.next"),
        ButtonStyle.Secondary,
        p >= pages - 1,
      ),
    )],
  };
}

const escape = (s: string) => s.replace(/([*_`~|>])/g, "\\$1");

// --- view -----------------------------------------------------------------------------------------

async function viewMessage(ctx: InteractionContext, id: string): Promise<MessageData> {
  const lang = ctx.language;
  const v = await backupView(ctx.deps, ctx.guildId!, id);
  const m = v.backup;
  // The source ("command", "schedule", "http") is the backup's own record, shown as kept.
  const fields: APIEmbed["fields"] = [
    {
      name: t(lang, "backup.view_created"),
      value: t(lang, "backup.view_created_value", {
        when: ts(m.createdAt),
        author: escape(m.authorName),
        source: m.source,
      }),
    },
    {
      name: t(lang, "backup.view_size"),
      value: t(lang, "backup.view_size_value", {
        raw: size(m.sizeRaw, lang),
        stored: size(m.sizeCompressed, lang),
      }),
      inline: true,
    },
    { name: t(lang, "backup.view_members"), value: n(lang, m.memberCount), inline: true },
    {
      name: t(lang, "backup.view_pinned"),
      value: t(lang, m.pinned ? "common.yes" : "common.no"),
      inline: true,
    },
  ];
  if (v.counts) {
    const c = v.counts;
    fields.push({
      name: t(lang, "backup.view_contents"),
      value: t(lang, "backup.view_contents_value", {
        roles: n(lang, c.roles),
        categories: n(lang, c.categories),
        channels: n(lang, c.channels),
        overwrites: n(lang, c.overwrites),
        emojis: n(lang, c.emojis),
        stickers: n(lang, c.stickers),
        memberRoles: n(lang, c.memberRoles),
      }),
    });
  }
  if (m.note) fields.push({ name: t(lang, "backup.view_note"), value: escape(m.note) });
  fields.push({ name: t(lang, "backup.view_checksum"), value: `\`${m.checksum}\`` });
  if (v.problem) {
    fields.push({
      name: t(lang, "backup.view_problem"),
      value: translateReason(lang, v.problem).slice(0, 1000),
    });
  }
  return {
    embeds: [{
      title: t(lang, "backup.view_title", { label: escape(m.label) }),
      color: v.problem ? COLOR.bad : COLOR.info,
      fields,
      footer: { text: t(lang, "backup.view_footer", { id: m.id }) },
    }],
  };
}

// --- diff -----------------------------------------------------------------------------------------

/**
 * The diff's summary lines in the language: the same lines as diffSummary of lib/backup/diff.ts
 * (which the CLI and the HTTP API print in English), from the same figures.
 */
function diffSummaryLines(d: BackupDiff, lang: Language): string[] {
  if (d.identical) return [t(lang, "backup.diff_identical")];
  const lines: string[] = [];
  const part = (
    label: MessageKey,
    s: { totals: { added: number; removed: number; changed: number } },
  ) => {
    const x = s.totals;
    if (x.added + x.removed + x.changed === 0) return;
    lines.push(t(lang, "backup.diff_part", {
      label: t(lang, label),
      added: n(lang, x.added),
      removed: n(lang, x.removed),
      changed: n(lang, x.changed),
    }));
  };
  if (d.settings.length) {
    lines.push(t(lang, "backup.diff_settings", {
      fields: d.settings.map((f) => f.field).join(", "),
    }));
  }
  part("backup.diff_label_roles", d.roles);
  part("backup.diff_label_channels", d.channels);
  part("backup.diff_label_overwrites", d.overwrites);
  if (!d.members.compared) lines.push(t(lang, "backup.diff_members_not_compared"));
  else if (d.members.totals.changed + d.members.joined + d.members.left) {
    lines.push(t(lang, "backup.diff_members", {
      changed: n(lang, d.members.totals.changed),
      added: n(lang, d.members.totals.rolesAdded),
      removed: n(lang, d.members.totals.rolesRemoved),
      joined: n(lang, d.members.joined),
      left: n(lang, d.members.left),
    }));
  }
  part("backup.diff_label_emojis", d.emojis);
  part("backup.diff_label_stickers", d.stickers);
  return lines;
}

function diffEmbed(v: Awaited<ReturnType<typeof diffBackup>>, lang: Language): APIEmbed {
  const d = v.diff;
  // A side without a backup id is the live server.
  const name = (s: typeof v.from) =>
    s.backupId ? `\`${s.backupId}\` (${escape(s.label)})` : t(lang, "backup.diff_live");
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
  list(t(lang, "backup.diff_roles"), d.roles);
  list(t(lang, "backup.diff_channels"), d.channels);
  const ow = d.overwrites;
  if (ow.totals.added + ow.totals.removed + ow.totals.changed) {
    const sample = [...ow.removed, ...ow.added, ...ow.changed].slice(0, 8).map((o) =>
      `#${escape(o.channelName)} ↔ ${escape(o.targetName)}`
    );
    lines.push(`🔐 ${t(lang, "backup.diff_overwrites")}: ${sample.join(", ")}`);
  }
  return {
    title: t(lang, "backup.diff_title"),
    description: `${name(v.from)} → ${name(v.to)}\n\n` +
      [...diffSummaryLines(d, lang).map((s) => `**${s}**`), "", ...lines].join("\n")
        .slice(0, 3800),
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

async function restoreMenu(
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

function parseMaskState(state: string): { id: string; mask: number } | null {
  const [id, raw] = state.split(".");
  const mask = Number(raw);
  if (!BACKUP_ID.test(id ?? "") || !Number.isInteger(mask) || mask < 0 || mask > 63) return null;
  return { id, mask };
}

// --- status -----------------------------------------------------------------------------------------

/** A counter of a restore report ("roles_added"), in words. */
function counterText(name: string, lang: Language): string {
  const key = `backup.counter.${name}`;
  return isMessageKey(key) ? t(lang, key) : name.replaceAll("_", " ");
}

function jobField(s: JobStatus, lang: Language): APIEmbed["fields"] {
  const p = s.progress;
  const name = t(lang, s.job === "capture" ? "backup.job_capture" : "backup.job_restore");
  if (p.state === "idle") return [{ name, value: t(lang, "backup.none_yet") }];
  const pct = p.total
    ? ` ${formatPercent(lang, Math.floor(Math.min(1, p.processed / p.total) * 100) / 100)}`
    : "";
  // The phase is the job's own step name (roles, channels, members), shown as it records it.
  const lines = [
    `**${stateWord(p.state, lang)}**${
      s.phase ? ` · ${t(lang, "backup.job_phase", { phase: s.phase })}` : ""
    } · ${t(lang, "backup.job_backup", { id: s.backupId ?? "?" })}`,
    `\`${progressBar(p, 16)}\`${pct} · ${
      t(lang, "backup.job_members", {
        count: `${n(lang, p.processed)}${p.total !== null ? `/${n(lang, p.total)}` : ""}`,
      })
    } · ${t(lang, "backup.job_chunk", { chunk: n(lang, p.chunk) })}`,
  ];
  if (p.etaSeconds !== null && (p.state === "running" || p.state === "waiting")) {
    lines.push(t(lang, "backup.job_eta", { eta: formatDuration(p.etaSeconds) }));
  }
  if (p.lastError) {
    lines.push(
      t(lang, "backup.job_error", { error: translateReason(lang, p.lastError).slice(0, 300) }),
    );
  }
  const r = s.report;
  if (r) {
    const fmt = (o: Record<string, number>) =>
      Object.entries(o).map(([k, v]) => `${counterText(k, lang)} ${n(lang, v)}`).join(", ") ||
      t(lang, "common.none");
    lines.push(
      t(lang, "backup.report_created", { list: fmt(r.created) }),
      t(lang, "backup.report_members", { list: fmt(r.members) }),
      t(lang, "backup.report_skipped", { list: fmt(r.skipped) }),
    );
    lines.push(t(lang, "backup.report_failed", { list: fmt(r.failed) }));
    // Problems name what failed and Discord's answer, as the restore recorded them.
    for (const problem of r.problems.slice(0, 5)) lines.push(`• ${problem.slice(0, 150)}`);
  }
  return [{ name, value: lines.join("\n").slice(0, 1024) }];
}

async function statusMessage(ctx: InteractionContext, note?: string): Promise<MessageData> {
  const lang = ctx.language;
  const [capture, restore] = await Promise.all([
    jobStatus(ctx.deps, ctx.guildId!, "capture"),
    jobStatus(ctx.deps, ctx.guildId!, "restore"),
  ]);
  return {
    embeds: [{
      title: t(lang, "backup.jobs_title"),
      color: COLOR.info,
      description: note,
      fields: [...jobField(capture, lang)!, ...jobField(restore, lang)!],
    }],
    components: [row(
      button(await ctx.customId("st"), t(lang, "common.refresh"), ButtonStyle.Secondary),
      button(
        await ctx.customId("sp", "restore"),
        t(lang, "backup.stop_restore"),
        ButtonStyle.Danger,
        !["running", "waiting"].includes(restore.progress.state),
      ),
      button(
        await ctx.customId("sp", "capture"),
        t(lang, "backup.stop_capture"),
        ButtonStyle.Danger,
        !["running", "waiting"].includes(capture.progress.state),
      ),
    )],
  };
}

// --- create ---------------------------------------------------------------------------------------------

async function createBackup(ctx: InteractionContext, label: string | undefined, deps: AppDeps) {
  const lang = ctx.language;
  const r = await startCapture(deps, ctx.guildId!, {
    label,
    authorId: ctx.user.id,
    authorName: ctx.user.username,
    source: "command",
  });
  if (r.status !== "started") {
    return t(lang, "backup.could_not_start", { reason: translateReason(lang, r.reason) });
  }
  const first = await r.start.done;
  if (first.state === "completed") {
    const meta = await requireBackup(deps.kv, ctx.guildId!, r.backupId!);
    return t(lang, "backup.created", {
      id: meta.id,
      label: escape(meta.label),
      members: n(lang, meta.memberCount),
      roles: n(lang, meta.roleCount),
      channels: n(lang, meta.channelCount),
      size: size(meta.sizeCompressed, lang),
    });
  }
  if (first.state === "failed") {
    const error = first.progress.lastError;
    return t(lang, "backup.failed", {
      error: error ? translateReason(lang, error) : t(lang, "backup.unknown_error"),
    });
  }
  const p = first.progress;
  return t(lang, "backup.capturing", {
    id: r.backupId ?? "?",
    count: `${n(lang, p.processed)}${p.total ? `/${n(lang, p.total)}` : ""}`,
  });
}

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

async function menuStep(ctx: ComponentContext, step: "menu" | "review") {
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
    return ctx.update({ content: explain(error, ctx.language), embeds: [], components: [] });
  }
}
