/**
 * What the backup CLI (lib/cli/backup.ts) prints: the list, a backup's details, a diff, a
 * restore's report and a followed job's progress line and bar. Plain functions of the API's
 * answers, so the wording is tested without a bot.
 */
import { type Style, utcTime } from "./common.ts";
import { formatDuration, fraction } from "../jobs/progress.ts";
import type { BackupMeta } from "../backup/store.ts";
import type { JobStatus } from "../backup/service.ts";
import type { RestoreReport } from "../backup/restore_run.ts";
import type { BackupView, DiffView } from "../backup/views.ts";

/** A byte count in B, KiB or MiB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** The guild's backups as a table, newest first. */
export function renderList(guildId: string, list: BackupMeta[], s: Style): string {
  if (list.length === 0) return `No backups of ${guildId} yet. Run \`backup create\`.`;
  const rows = list.map((m) => [
    m.id,
    utcTime(m.createdAt),
    m.label.length > 40 ? m.label.slice(0, 39) + "…" : m.label,
    m.authorName,
    String(m.memberCount),
    bytes(m.sizeCompressed),
    m.pinned ? "pinned" : "",
  ]);
  const header = ["ID", "CREATED", "LABEL", "BY", "MEMBERS", "SIZE", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [s.bold(line(header)), ...rows.map(line), s.dim(`${list.length} backups of ${guildId}`)]
    .join("\n");
}

/** One backup's details. */
export function renderView(v: BackupView, s: Style): string {
  const m = v.backup;
  const lines = [
    s.bold(`Backup ${m.id}`) + (m.pinned ? s.yellow("  (pinned)") : ""),
    `  label     ${m.label}`,
    `  created   ${utcTime(m.createdAt)} by ${m.authorName} (${m.source})`,
    `  size      ${bytes(m.sizeRaw)} raw, ${bytes(m.sizeCompressed)} compressed`,
    `  checksum  ${m.checksum}`,
  ];
  if (m.note) lines.push(`  note      ${m.note}`);
  if (v.counts) {
    const c = v.counts;
    lines.push(
      `  contents  ${c.roles} roles, ${c.categories} categories, ${c.channels} channels, ` +
        `${c.overwrites} overwrites, ${c.emojis} emojis, ${c.stickers} stickers`,
      `  members   ${c.members} (${c.memberRoles} role assignments)`,
    );
  }
  if (v.problem) lines.push(s.red(`  problem   ${v.problem}`));
  return lines.join("\n");
}

/** A diff, section by section, then its summary. */
export function renderDiff(v: DiffView, s: Style): string {
  const name = (d: DiffView["from"]) => d.backupId ? `${d.backupId} (${d.label})` : d.label;
  const lines = [s.bold(`Diff ${name(v.from)} → ${name(v.to)}`)];
  const d = v.diff;
  if (d.identical) {
    lines.push(s.green("✔ No differences."));
    return lines.join("\n");
  }
  for (const f of d.settings) {
    lines.push(
      `  ${s.yellow("~")} setting ${f.field}: ${JSON.stringify(f.from)} → ${JSON.stringify(f.to)}`,
    );
  }
  const section = (label: string, sec: DiffView["diff"]["roles"]) => {
    for (const x of sec.added) lines.push(`  ${s.green("+")} ${label} ${x.name} ${s.dim(x.id)}`);
    for (const x of sec.removed) lines.push(`  ${s.red("-")} ${label} ${x.name} ${s.dim(x.id)}`);
    for (const x of sec.changed) {
      lines.push(
        `  ${s.yellow("~")} ${label} ${x.name}: ` +
          x.fields.map((f) => `${f.field} ${JSON.stringify(f.from)} → ${JSON.stringify(f.to)}`)
            .join(", "),
      );
    }
    const t = sec.totals;
    const more = t.added + t.removed + t.changed - sec.added.length - sec.removed.length -
      sec.changed.length;
    if (more > 0) lines.push(s.dim(`    … ${more} more ${label} changes`));
  };
  section("role", d.roles);
  section("channel", d.channels);
  for (const o of d.overwrites.added) {
    lines.push(`  ${s.green("+")} overwrite #${o.channelName} for ${o.targetName}`);
  }
  for (const o of d.overwrites.removed) {
    lines.push(`  ${s.red("-")} overwrite #${o.channelName} for ${o.targetName}`);
  }
  for (const o of d.overwrites.changed) {
    lines.push(
      `  ${
        s.yellow("~")
      } overwrite #${o.channelName} for ${o.targetName}: allow ${o.from.allow} → ${o.allow}, deny ${o.from.deny} → ${o.deny}`,
    );
  }
  section("emoji", d.emojis);
  section("sticker", d.stickers);
  if (d.members.compared) {
    for (const m of d.members.changed.slice(0, 50)) {
      const parts = [
        ...m.added.map((r) => s.green(`+${r}`)),
        ...m.removed.map((r) => s.red(`-${r}`)),
      ];
      lines.push(`  ${s.yellow("~")} member ${m.id}: ${parts.join(" ")}`);
    }
  }
  lines.push("", ...v.summary.map((x) => s.bold(x)));
  return lines.join("\n");
}

/** A restore's report, one line per kind of outcome and one per problem. */
export function reportLines(r: RestoreReport, s: Style): string[] {
  const fmt = (o: Record<string, number>) =>
    Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const lines = [
    `  created   ${fmt(r.created)}`,
    `  skipped   ${fmt(r.skipped)}`,
    `  members   ${fmt(r.members)}`,
    `  failed    ${Object.keys(r.failed).length ? s.red(fmt(r.failed)) : "none"}`,
  ];
  for (const p of r.problems) lines.push(`    ${s.red("-")} ${p}`);
  return lines;
}

/** One progress line of a followed capture or restore. */
export function progressLine(kind: string, st: JobStatus): string {
  const p = st.progress;
  const f = fraction(p);
  const of = p.total !== null ? `/${p.total}` : "";
  const parts = [
    `${kind}: ${p.state}`,
    st.phase ? `phase ${st.phase}` : "",
    `members ${p.processed}${of}${f !== null ? ` (${Math.floor(f * 100)}%)` : ""}`,
    `chunk ${p.chunk}`,
    p.ratePerSecond !== null ? `${p.ratePerSecond.toFixed(0)}/s` : "",
    p.etaSeconds !== null && p.state !== "completed" ? `ETA ${formatDuration(p.etaSeconds)}` : "",
  ];
  return parts.filter(Boolean).join(" · ");
}
