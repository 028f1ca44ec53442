/** The messages /backup shows: the list (paged), one backup, a diff, and job status. */
import { type APIEmbed, ButtonStyle } from "discord-api-types/v10";
import type { InteractionContext } from "../../interactions/context.ts";
import type { MessageData } from "../../interactions/reply.ts";
import { type JobStatus, jobStatus } from "../../backup/service.ts";
import { listBackups } from "../../backup/store.ts";
import { backupView, diffBackup } from "../../backup/views.ts";
import { formatDuration, progressBar } from "../../jobs/progress.ts";
import type { BackupDiff } from "../../backup/diff.ts";
import { formatPercent, isMessageKey, type Language, type MessageKey, t } from "../../i18n/mod.ts";
import { explain } from "../../i18n/reason.ts";
import { button, COLOR, escape, LIST_PAGE, n, row, size, stateWord, ts } from "./common.ts";

// --- list ----------------------------------------------------------------------------------------

export async function listPage(ctx: InteractionContext, page: number): Promise<MessageData> {
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

// --- view ----------------------------------------------------------------------------------------

export async function viewMessage(ctx: InteractionContext, id: string): Promise<MessageData> {
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
      value: explain(lang, { reason: v.problem, why: v.problemWhy }).slice(0, 1000),
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

// --- diff ----------------------------------------------------------------------------------------

/**
 * The diff's summary lines in the language: the same lines as diffSummary of lib/backup/diff.ts
 * (which the CLI and the HTTP API print in English), from the same figures.
 */
export function diffSummaryLines(d: BackupDiff, lang: Language): string[] {
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

export function diffEmbed(v: Awaited<ReturnType<typeof diffBackup>>, lang: Language): APIEmbed {
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

// --- status --------------------------------------------------------------------------------------

/** A counter of a restore report ("roles_added"), in words. */
export function counterText(name: string, lang: Language): string {
  const key = `backup.counter.${name}`;
  return isMessageKey(key) ? t(lang, key) : name.replaceAll("_", " ");
}

export function jobField(s: JobStatus, lang: Language): APIEmbed["fields"] {
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
      t(lang, "backup.job_error", {
        error: explain(lang, { reason: p.lastError, why: p.lastErrorWhy }).slice(0, 300),
      }),
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

export async function statusMessage(ctx: InteractionContext, note?: string): Promise<MessageData> {
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
