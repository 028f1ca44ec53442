/**
 * How the sync CLI shows a run: the one-line progress of `complete` (a bar on a terminal) and the
 * few lines of `status`. Plain functions of the bot's progress record.
 */
import {
  formatDuration,
  isStale,
  type JobProgress,
  progressBar,
  summaryLine,
  total,
} from "../jobs/progress.ts";
import type { Status } from "./sync_api.ts";

const n = (x: number) => x.toLocaleString("en-US");

/** One progress line, as the bar shows it. */
export function progressLine(p: JobProgress, width = 24): string {
  const pct = p.total ? Math.floor(Math.min(1, p.processed / p.total) * 100) : null;
  const parts = [
    `[${progressBar(p, width, "#", ".")}]`,
    pct !== null ? `${String(pct).padStart(3)}%` : "",
    `${n(p.processed)}${p.total !== null ? `/${n(p.total)}` : ""}`,
    `changed ${n(p.counters["changed"] ?? 0)}`,
    `skipped ${n(total(p.counters, "skipped"))}`,
    `errors ${n(total(p.counters, "errors"))}`,
    p.ratePerSecond !== null ? `${p.ratePerSecond.toFixed(1)}/s` : "",
    p.etaSeconds !== null && p.state !== "completed" ? `ETA ${formatDuration(p.etaSeconds)}` : "",
    `chunk ${p.chunk}`,
    p.state !== "running" ? p.state : "",
  ];
  return parts.filter(Boolean).join("  ");
}

/** A run's state in a few lines, as `status` prints it. */
export function describe(p: Status): string {
  if (!p.runId) return "No sync has run yet.";
  const lines = [
    `Run ${p.runId}${p.dryRun ? " (dry run)" : ""}${
      p.mode && p.mode !== "full" ? ` (${p.mode})` : ""
    }: ${p.state}${p.stopRequested ? " (stop requested)" : ""}`,
    `  ${summaryLine(p)}`,
    `  processed ${n(p.processed)}${
      p.total !== null ? ` of ${n(p.total)}` : ""
    }; next index ${p.nextIndex}; chunk ${p.chunk} (size ${p.chunkSize})`,
  ];
  const details = Object.entries(p.counters).filter(([k]) =>
    k.startsWith("skipped.") || k.startsWith("errors.")
  );
  if (details.length) lines.push(`  ${details.map(([k, v]) => `${k}: ${v}`).join(", ")}`);
  lines.push(
    `  started ${p.startedAt ?? "-"}; updated ${p.updatedAt ?? "-"}${
      p.finishedAt ? `; finished ${p.finishedAt}` : ""
    }`,
  );
  if (p.ratePerSecond !== null) {
    lines.push(
      `  ${p.ratePerSecond.toFixed(1)} members/s${
        p.etaSeconds !== null ? `, ETA ${formatDuration(p.etaSeconds)}` : ""
      }`,
    );
  }
  if (isStale(p)) {
    lines.push("  its chunk died (lease expired): `complete` or the watchdog will resume it");
  }
  if (p.lastError) lines.push(`  last error: ${p.lastError}`);
  for (const w of p.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n");
}
