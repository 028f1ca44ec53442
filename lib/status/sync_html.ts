/**
 * The status page's Role sync section: the current run's progress and figures, a chart of members
 * processed per minute, and the recent runs.
 */
import { escapeHtml as esc } from "../http/html.ts";
import type { JobProgress } from "../jobs/progress.ts";
import type { RunSummary } from "../jobs/history.ts";
import type { Section, SyncSection } from "./data.ts";
import { duration, figure, num, time, unavailable } from "./html_format.ts";

function counter(p: JobProgress, prefix: string): number {
  return Object.entries(p.counters).filter(([k]) => k === prefix || k.startsWith(`${prefix}.`))
    .reduce((n, [, v]) => n + v, 0);
}

function chart(points: { minute: number; processed: number }[]): string {
  if (!points.length) return `<p>No per-minute figures yet for this run.</p>`;
  const w = 600, h = 140, pad = 24;
  const max = Math.max(...points.map((p) => p.processed), 1);
  // Bars at most 40 px wide, so a short run does not draw one slab across the chart.
  const bw = Math.min(40, (w - pad) / points.length);
  const bars = points.map((p, i) => {
    const bh = (p.processed / max) * (h - pad);
    const x = pad + i * bw;
    return `<rect x="${x.toFixed(1)}" y="${(h - pad - bh).toFixed(1)}" width="${
      Math.max(1, bw - 2).toFixed(1)
    }" height="${bh.toFixed(1)}"><title>${
      new Date(p.minute).toISOString().slice(11, 16)
    } UTC: ${p.processed} members</title></rect>`;
  }).join("");
  const desc = points.map((p) =>
    `${new Date(p.minute).toISOString().slice(11, 16)}: ${p.processed}`
  ).join(", ");
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Members processed per minute</title><desc id="chart-desc">${
    esc(desc)
  }</desc>
<text x="0" y="12" class="axis">${num(max)}</text><text x="0" y="${h - pad}" class="axis">0</text>
<line x1="${pad}" y1="${h - pad}" x2="${w}" y2="${h - pad}" class="base"/>${bars}</svg>`;
}

function runRow(r: RunSummary): string {
  const skipped = Object.entries(r.counters).filter(([k]) => k.startsWith("skipped"))
    .reduce((n, [, v]) => n + v, 0);
  return `<tr><td>${time(r.startedAt)}</td><td>${esc(r.mode)}${
    r.dryRun ? " (dry run)" : ""
  }</td><td class="state-${esc(r.state)}">${esc(r.state)}</td><td>${num(r.processed)}</td><td>${
    num(r.counters.changed ?? 0)
  }</td><td>${num(skipped)}</td><td>${duration(r.activeMs / 1000)}</td></tr>`;
}

export function syncHtml(s: Section<SyncSection>): string {
  if (!s.ok) return unavailable(s.error);
  const { current: p, guildId } = s.value;
  if (!guildId) return `<p>No guild is configured (DISCORD_GUILD_ID).</p>`;
  const body = !p ? `<p id="sync-state">No sync has run yet in guild ${esc(guildId)}.</p>` : `
<p>Guild ${esc(guildId)}, run <code id="sync-run">${esc(p.runId)}</code>${
    p.dryRun ? " (dry run)" : ""
  }</p>
<label for="sync-bar">Progress</label>
<progress id="sync-bar" ${
    p.total ? `max="${p.total}" value="${Math.min(p.processed, p.total)}"` : ""
  }>${p.total ? `${Math.round((p.processed / p.total) * 100)} %` : "unknown total"}</progress>
<dl class="figs">
${figure("sync-state", "State", `<span class="state-${esc(p.state)}">${esc(p.state)}</span>`)}
${figure("sync-processed", "Processed", num(p.processed))}
${figure("sync-total", "Total", num(p.total))}
${figure("sync-changed", "Changed", num(counter(p, "changed")))}
${figure("sync-unchanged", "Unchanged", num(counter(p, "unchanged")))}
${figure("sync-skipped", "Skipped", num(counter(p, "skipped")))}
${figure("sync-errors", "Errors", num(counter(p, "errors")))}
${
    figure(
      "sync-rate",
      "Members per second",
      p.ratePerSecond === null ? "—" : p.ratePerSecond.toFixed(1),
    )
  }
${figure("sync-eta", "ETA", duration(p.etaSeconds))}
${figure("sync-chunk", "Chunk", num(p.chunk))}
${
    figure(
      "sync-chunk-duration",
      p.state === "running" ? "This chunk so far" : "Chunk duration (average)",
      duration(s.value.chunkSeconds),
    )
  }
${figure("sync-updated", "Updated", time(p.updatedAt))}
</dl>
${p.lastError ? `<p class="warn">Last error: ${esc(p.lastError)}</p>` : ""}
<h3>Members processed per minute</h3>
${chart(s.value.perMinute)}`;
  const runs = s.value.runs.length
    ? `<table><caption>${
      s.value.runs.length === 1 ? "The last run" : `The last ${s.value.runs.length} runs`
    }</caption><thead><tr><th scope="col">Started</th><th scope="col">Mode</th><th scope="col">State</th><th scope="col">Processed</th><th scope="col">Changed</th><th scope="col">Skipped</th><th scope="col">Active time</th></tr></thead><tbody>${
      s.value.runs.map(runRow).join("")
    }</tbody></table>`
    : `<p>No finished runs yet.</p>`;
  return body + `<h3>Recent runs</h3>` + runs;
}
