/**
 * The status page's Freshness section: how long an Ethos score change takes to reach the roles
 * (the last change, the p95 the alert reads, an hour's chart per minute), what waits per guild,
 * and what the last pass read from the feed.
 */
import { escapeHtml as esc } from "../http/html.ts";
import type { FreshSection, Section } from "./data.ts";
import { duration, figure, hhmm, num, secs, time, unavailable } from "./html_format.ts";

/** The chart's top: the first round step at or above the hour's longest lag (10 s at least). */
function lagScale(peak: number): number {
  const steps = [10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600];
  return steps.find((s) => s >= peak) ?? Math.ceil(peak / 3600) * 3600;
}

/**
 * The last hour per minute as an inline SVG (the page's CSP allows no script or outside asset
 * for it): the minute's p95 as a bar, its longest lag as a tick, nothing for a minute without
 * changes, and dashed lines at the target and the alert threshold when they fall in range. Each
 * minute's <g> carries its figures as data attributes.
 */
function freshChart(f: FreshSection): string {
  const mins = f.lagHour.minutes;
  const w = 600, h = 170, left = 44, right = 70, top = 8, bottom = 20;
  const plotW = w - left - right, plotH = h - top - bottom;
  const base = top + plotH;
  const yMax = lagScale(Math.max(0, ...mins.map((m) => m.max ?? 0)));
  const y = (v: number) => base - (Math.min(v, yMax) / yMax) * plotH;
  const slot = plotW / Math.max(1, mins.length);
  const bw = Math.max(1, slot - 2);
  const bars = mins.map((m, i) => {
    const x = left + i * slot;
    if (!m.n || m.p95 === null) {
      return `<g class="lag-min" data-at="${new Date(m.at).toISOString()}" data-n="0"><title>${
        hhmm(m.at)
      } UTC: no changes applied</title></g>`;
    }
    const max = m.max ?? m.p95;
    return `<g class="lag-min" data-at="${
      new Date(m.at).toISOString()
    }" data-n="${m.n}" data-p50="${secs(m.p50 ?? m.p95)}" data-p95="${secs(m.p95)}" data-max="${
      secs(max)
    }"><title>${hhmm(m.at)} UTC: ${num(m.n)} changes, p95 ${duration(m.p95)}, max ${
      duration(max)
    }</title><rect x="${x.toFixed(1)}" y="${y(m.p95).toFixed(1)}" width="${
      bw.toFixed(1)
    }" height="${Math.max(0.5, base - y(m.p95)).toFixed(1)}"/><line class="max" x1="${
      x.toFixed(1)
    }" x2="${(x + bw).toFixed(1)}" y1="${y(max).toFixed(1)}" y2="${y(max).toFixed(1)}"/></g>`;
  }).join("");
  const rule = (v: number, cls: string, label: string) =>
    v > yMax
      ? ""
      : `<line class="${cls}" data-s="${v}" x1="${left}" x2="${left + plotW}" y1="${
        y(v).toFixed(1)
      }" y2="${y(v).toFixed(1)}"/><text class="axis" x="${left + plotW + 4}" y="${
        (y(v) + 4).toFixed(1)
      }">${label} ${v} s</text>`;
  const empty = mins.filter((m) => !m.n).length;
  const all = f.lagHour.all;
  const worst = mins.reduce<typeof mins[number] | null>(
    (a, m) => (m.p95 !== null && (a === null || m.p95 > (a.p95 ?? 0)) ? m : a),
    null,
  );
  const desc = all.n
    ? `${num(all.n)} score changes applied in the last hour: p95 ${duration(all.p95)}, max ${
      duration(all.max)
    }; worst minute ${
      worst ? `${hhmm(worst.at)} UTC (p95 ${duration(worst.p95)})` : "—"
    }; ${empty} of ${mins.length} minutes without changes. Target ${f.targetS} s, alert above ${f.alertS} s.`
    : `No score changes applied in the last hour. Target ${f.targetS} s, alert above ${f.alertS} s.`;
  const first = mins[0], last = mins[mins.length - 1];
  return `<svg class="chart" id="fresh-lag-chart" viewBox="0 0 ${w} ${h}" role="img" aria-labelledby="fresh-lag-chart-title fresh-lag-chart-desc" data-scale-s="${yMax}">
<title id="fresh-lag-chart-title">Lag from an Ethos score change to the roles, per minute over the last hour</title><desc id="fresh-lag-chart-desc">${
    esc(desc)
  }</desc>
<text x="0" y="${
    top + 4
  }" class="axis">${yMax} s</text><text x="0" y="${base}" class="axis">0</text>
<line x1="${left}" y1="${base}" x2="${left + plotW}" y2="${base}" class="base"/>${bars}${
    rule(f.targetS, "target", "target")
  }${rule(f.alertS, "alert", "alert")}${
    first && last
      ? `<text x="${left}" y="${h - 4}" class="axis">${hhmm(first.at)} UTC</text><text x="${
        left + plotW - 60
      }" y="${h - 4}" class="axis">${hhmm(last.at)} UTC</text>`
      : ""
  }</svg>`;
}

function freshGuildRows(f: FreshSection): string {
  const applied = new Map((f.last?.guilds ?? []).map((g) => [g.guildId, g]));
  const ids = [...new Set([...f.backlog.map((b) => b.guildId), ...applied.keys()])];
  return ids.map((id) => {
    const b = f.backlog.find((x) => x.guildId === id);
    const g = applied.get(id);
    const note = !g ? "not in the last pass" : !g.ran ? (g.reason ?? "left alone") : "";
    return `<tr id="fresh-guild-${esc(id)}" data-waiting="${b?.count ?? 0}"${
      b?.oldestAgeS != null ? ` data-oldest-s="${secs(b.oldestAgeS)}"` : ""
    }><td>${esc(id)}</td><td>${num(b?.count ?? 0)}</td><td>${
      duration(b?.oldestAgeS ?? null)
    }</td><td>${g ? num(g.applied) : "—"}</td><td>${g ? num(g.written) : "—"}</td><td>${
      g ? num(g.calls + g.reads) : "—"
    }</td><td>${g ? num(g.left) : "—"}</td><td${g?.refused ? ' class="warn"' : ""}>${
      g ? num(g.refused) : "—"
    }</td><td>${esc(note)}</td></tr>`;
  }).join("");
}

function freshIntakeHtml(last: NonNullable<FreshSection["last"]>): string {
  const i = last.intake;
  if (!i) return "";
  if ("error" in i) {
    return `<dl class="figs">${
      figure("fresh-intake-error", "Feed error", `<span class="warn">${esc(i.error)}</span>`)
    }</dl>`;
  }
  if (!i.ran) {
    return `<p id="fresh-intake-skipped">The feed was not read: another pass held it.</p>`;
  }
  const flag = (v: boolean) => (v ? `<span class="warn">yes</span>` : "no");
  return `<dl class="figs">
${figure("fresh-intake-read", "Feed entries read", `${num(i.read)} (${num(i.pages)} page(s))`)}
${figure("fresh-intake-queued", "Queued for guilds", num(i.queued))}
${figure("fresh-intake-repeated", "Repeated (already seen)", num(i.repeated))}
${figure("fresh-intake-other", "Other services", num(i.otherService))}
${
    figure(
      "fresh-intake-badtime",
      "Bad times",
      i.badTime ? `<span class="warn">${num(i.badTime)}</span>` : "0",
    )
  }
${figure("fresh-intake-gap", "Gap in the feed (cursor held)", flag(i.gap))}
${figure("fresh-intake-reset", "Cursor reset (was in the future)", flag(i.cursorReset))}
</dl>`;
}

export function freshHtml(s: Section<FreshSection>): string {
  if (!s.ok) return unavailable(s.error);
  const f = s.value;
  if (!f.enabled) {
    return `<dl class="figs">${
      figure("fresh-state", "Freshness pass", "off (SYNC_FRESHNESS=false)")
    }</dl>`;
  }
  const waiting = f.backlog.reduce((n, b) => n + b.count, 0);
  const oldest = f.backlog.reduce<number | null>(
    (a, b) => (b.oldestAgeS === null ? a : Math.max(a ?? 0, b.oldestAgeS)),
    null,
  );
  const p95 = f.lag15.p95;
  const last = f.last;
  const rows = freshGuildRows(f);
  return `<dl class="figs">
${figure("fresh-state", "Freshness pass", "on (every minute)")}
${
    figure(
      "fresh-last-lag",
      "Lag of the last change applied",
      last?.lastApplied
        ? `${duration(last.lastApplied.lagS)}<br><small>at ${time(last.lastApplied.at)}</small>`
        : "none yet",
    )
  }
${
    figure(
      "fresh-p95",
      `p95 lag, last ${f.alertWindowMin} min (alert above ${f.alertS} s)`,
      p95 === null
        ? "— (no changes)"
        : `<span${p95 > f.alertS ? ' class="warn"' : ""}>${duration(p95)}</span><br><small>${
          num(f.lag15.n)
        } changes incl. waiting, max ${duration(f.lag15.max)}</small>`,
    )
  }
${
    figure(
      "fresh-waiting",
      "Waiting to be written (all guilds)",
      `${num(waiting)}${
        oldest === null ? "" : `<br><small>oldest waiting ${duration(oldest)}</small>`
      }`,
    )
  }
${
    figure(
      "fresh-feed",
      "Score-updates feed last read",
      f.feed
        ? `${duration(f.feed.ageS)} ago${
          f.feed.more ? "<br><small>more pages waiting</small>" : ""
        }`
        : "never",
    )
  }
${
    figure(
      "fresh-last-pass",
      "Last pass",
      last
        ? `${time(last.at)}<br><small>took ${duration(last.durationMs / 1000)}</small>`
        : "none yet",
    )
  }
</dl>
${
    rows
      ? `<table id="fresh-guilds"><caption>Per guild: waiting now and the last pass</caption><thead><tr><th scope="col">Guild</th><th scope="col">Waiting</th><th scope="col">Oldest wait</th><th scope="col">Applied</th><th scope="col">Written</th><th scope="col">Discord calls</th><th scope="col">Left for later</th><th scope="col">Refused</th><th scope="col">Note</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<p>No guild is set up for the freshness pass.</p>`
  }
${last ? `<h3>Feed intake of the last pass</h3>${freshIntakeHtml(last)}` : ""}
<h3>Lag per minute, last hour</h3>
${freshChart(f)}
<p class="legend">Bars: the minute's p95 lag; orange ticks: its longest; no bar: no change applied that minute. Dashed lines: the ${f.targetS} s target (green) and the ${f.alertS} s alert (red), when in range.</p>`;
}
