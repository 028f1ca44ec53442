/**
 * The message a finished run leaves in its guild's log channel: one per run, never one per member
 * (a post per changed member is itself rate limited), with at most 20 changed members named.
 * Mentions are written but never ping (no allowed mentions). No status-page link is posted: a
 * signed link would let anyone reading the channel into the status page; `/status_link` gives one.
 */
import type { JobProgress } from "../jobs/progress.ts";

const SUMMARY_MEMBERS = 20;

interface Change {
  userId: string;
  add: string[];
  remove: string[];
}

function isChange(v: unknown): v is Change {
  const c = v as Change;
  return !!c && typeof c.userId === "string" && Array.isArray(c.add) && Array.isArray(c.remove);
}

const n = (v: number) => v.toLocaleString("en-US");

export function runSummary(p: JobProgress, nowMs: number): string {
  const counters = p.counters;
  const get = (k: string) => counters[k] ?? 0;
  const skipped = Object.entries(counters).filter(([k]) => k.startsWith("skipped."))
    .map(([k, v]) => [k.slice("skipped.".length).replaceAll("_", " "), v] as const);
  const skippedTotal = skipped.reduce((sum, [, v]) => sum + v, 0);
  const levels = Object.entries(counters).filter(([k]) => k.startsWith("level."))
    .sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.slice("level.".length)} ${n(v)}`);
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(p.startedAt ?? "")) / 1000));
  const lines = [
    `**Ethos role sync finished** · ${p.mode} run \`${p.runId}\``,
    `Members processed ${n(p.processed)} · changed ${n(get("changed"))} · unchanged ${
      n(get("unchanged"))
    } · skipped ${n(skippedTotal)}${
      skipped.length ? ` (${skipped.map(([k, v]) => `${k} ${n(v)}`).join(", ")})` : ""
    } · errors ${n(get("errors") + get("error"))}`,
    ...(levels.length ? [`By level: ${levels.join(" · ")}`] : []),
    `Duration ${
      Number.isFinite(seconds) ? `${n(seconds)} s` : "unknown"
    } · details: \`/ethos_sync_status\`, status page: \`/status_link\``,
  ];
  const changes = p.sample.filter(isChange);
  if (changes.length) {
    lines.push("Changed:");
    for (const c of changes.slice(0, SUMMARY_MEMBERS)) {
      const parts = [...c.add.map((r) => `+${r}`), ...c.remove.map((r) => `−${r}`)];
      lines.push(`- <@${c.userId}> ${parts.join(" ")}`);
    }
    const more = get("changed") - Math.min(changes.length, SUMMARY_MEMBERS);
    if (more > 0) lines.push(`…and ${n(more)} more`);
  }
  // Discord's limit is 2,000 characters; role names are at most 100 each.
  let text = lines.join("\n");
  while (text.length > 2000) {
    lines.splice(lines.length - 2, 1);
    text = lines.join("\n");
  }
  return text;
}
