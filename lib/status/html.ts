/**
 * The status page as server-rendered HTML: no build step, readable without JavaScript, headings
 * and labelled figures for screen readers, dark-on-light colours well above WCAG AA contrast.
 * A few lines of script re-fetch the page every few seconds and swap its <main>, so the figures
 * stay live without a second renderer in the browser.
 */
import { escapeHtml } from "../http/html.ts";
import type { JobProgress } from "../jobs/progress.ts";
import type { RunSummary } from "../jobs/history.ts";
import type { Alert } from "../ops/alerts.ts";
import type {
  BackupsSection,
  CommandsSection,
  FreshSection,
  GuildsSection,
  LinkedSection,
  RestSection,
  Section,
  StatusData,
  SyncSection,
} from "./data.ts";

export const REFRESH_MS = 5_000;

const esc = escapeHtml;
const time = (ms: number | string | null | undefined) => {
  if (ms === null || ms === undefined) return "—";
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")} UTC</time>`;
};
const num = (n: number | null | undefined) =>
  n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
const bytes = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
const duration = (s: number | null | undefined) => {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
};

/** A figure with a stable id, so tests and the refresh script can find it. */
const figure = (id: string, label: string, value: string) =>
  `<div class="fig"><dt id="${id}-label">${
    esc(label)
  }</dt><dd id="${id}" aria-labelledby="${id}-label">${value}</dd></div>`;

function unavailable(error: string): string {
  return `<p class="warn" role="status">Unavailable: ${esc(error)}</p>`;
}

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

function syncHtml(s: Section<SyncSection>): string {
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

function commandsHtml(s: Section<CommandsSection>): string {
  if (!s.ok) return unavailable(s.error);
  const c = s.value;
  return `<dl class="figs">
${figure("commands-fingerprint", "Fingerprint", `<code>${esc(c.fingerprint.slice(0, 16))}</code>`)}
${figure("commands-count", "Commands", num(c.commands))}
${figure("commands-scope", "Scope", esc(c.scope))}
${figure("commands-last-sync", "Last sync", time(c.lastSyncAt))}
${
    figure(
      "commands-last-attempt",
      "Last attempt",
      c.lastAttempt ? `${esc(c.lastAttempt.result)}, ${time(c.lastAttempt.at)}` : "—",
    )
  }
${
    figure(
      "commands-drift",
      "Drift",
      c.drift ? `${esc(c.drift.summary)} (checked ${time(c.drift.at)})` : "not checked yet",
    )
  }
${
    c.cooldownUntil
      ? figure("commands-cooldown", "Rate-limit cooldown until", time(c.cooldownUntil))
      : ""
  }
</dl>`;
}

function backupsHtml(s: Section<BackupsSection>): string {
  if (!s.ok) return unavailable(s.error);
  const rows = s.value.guilds.map((g) =>
    `<tr><td>${esc(g.guildId)}</td><td>${num(g.count)}</td><td>${num(g.pinned)}</td><td>${
      bytes(g.bytes)
    }</td><td>${
      g.latest ? `${esc(g.latest.label || g.latest.id)}, ${time(g.latest.at)}` : "—"
    }</td></tr>`
  ).join("");
  const table = rows
    ? `<table><caption>Backups per guild</caption><thead><tr><th scope="col">Guild</th><th scope="col">Backups</th><th scope="col">Pinned</th><th scope="col">Stored</th><th scope="col">Latest</th></tr></thead><tbody>${rows}</tbody></table>`
    : `<p>No backups yet.</p>`;
  const restores =
    s.value.restores.map((r) =>
      `<p role="status">Restore in progress in ${esc(r.guildId)} from ${esc(r.backupId ?? "?")}: ${
        esc(r.progress.state)
      }, ${num(r.progress.processed)} items done.</p>`
    ).join("") || `<p>No restore in progress.</p>`;
  return table + restores;
}

function restHtml(s: Section<RestSection>): string {
  if (!s.ok) return unavailable(s.error);
  const r = s.value;
  const share = r.invalid.limit ? r.invalid.used / r.invalid.limit : 0;
  return `<p>Figures for ${esc(r.scope)}.</p><dl class="figs">
${figure("rest-requests", "Requests", num(r.requests))}
${figure("rest-429-user", "429s (route)", num(r.rateLimited.user))}
${figure("rest-429-global", "429s (global)", num(r.rateLimited.global))}
${figure("rest-429-shared", "429s (shared)", num(r.rateLimited.shared))}
${
    figure(
      "rest-invalid",
      "Invalid-request budget used",
      `${num(r.invalid.used)} of ${num(r.invalid.limit)} (${(share * 100).toFixed(1)} %)`,
    )
  }
${figure("rest-5xx", "5xx responses", num(r.serverErrors))}
${figure("rest-retries", "Retries", num(r.retries))}
${
    r.globalBudget
      ? figure(
        "rest-global-budget",
        "Global limit (shared through KV)",
        `${num(r.globalBudget.clients)} isolate(s) sending, booked ${
          num(r.globalBudget.bookedAheadMs)
        } ms ahead`,
      )
      : ""
  }
</dl>`;
}

/** Members per level as horizontal bars: an SVG, readable without JavaScript. */
function levelChart(id: string, levels: { level: string; members: number }[]): string {
  if (!levels.length) return "";
  const max = Math.max(...levels.map((l) => l.members), 1);
  const row = 18;
  const bars = levels.map((l, i) => {
    const w = Math.max(1, Math.round((l.members / max) * 300));
    const y = i * row;
    return `<text class="axis" x="0" y="${y + 13}">${esc(l.level)}</text>` +
      `<rect x="110" y="${y + 3}" width="${w}" height="${row - 6}"><title>${esc(l.level)}: ${
        num(l.members)
      }</title></rect>` +
      `<text class="axis" x="${116 + w}" y="${y + 13}">${num(l.members)}</text>`;
  }).join("");
  return `<svg class="chart" id="${id}" role="img" aria-label="Members per level" viewBox="0 0 480 ${
    levels.length * row
  }">${bars}</svg>`;
}

function guildsHtml(s: Section<GuildsSection>): string {
  if (!s.ok) return unavailable(s.error);
  if (!s.value.guilds.length) return `<p>No guild is set up yet.</p>`;
  return s.value.guilds.map((g) => `
<h3>Guild ${esc(g.guildId)}${g.fromEnvironment ? " (environment)" : ""}</h3>
<dl class="figs">
${
    figure(
      `guild-${g.guildId}-state`,
      "Setup",
      !g.active
        ? `<span class="warn">inactive: the bot left or lost access</span>`
        : g.configured
        ? "ready"
        : `<span class="warn">not set up</span>`,
    )
  }
${
    figure(
      `guild-${g.guildId}-sync`,
      "Sync",
      `<span class="state-${esc(g.state)}">${esc(g.state)}</span>`,
    )
  }
${
    figure(
      `guild-${g.guildId}-progress`,
      "Processed",
      `${num(g.processed)}${g.total !== null ? ` of ${num(g.total)}` : ""}`,
    )
  }
${figure(`guild-${g.guildId}-changed`, "Changed", num(g.changed))}
${figure(`guild-${g.guildId}-last`, "Last run", time(g.lastRunAt))}
${figure(`guild-${g.guildId}-schedule`, "Schedule", esc(g.schedule))}
${figure(`guild-${g.guildId}-log`, "Log channel", g.logChannelId ? esc(g.logChannelId) : "none")}
</dl>${levelChart(`guild-${g.guildId}-levels`, g.levels)}`).join("");
}

/** Seconds as a data attribute: to the millisecond, no float noise. */
const secs = (v: number) => String(Math.round(v * 1000) / 1000);
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

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

function freshHtml(s: Section<FreshSection>): string {
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

const REGISTER = "deno task linked-roles register";

function linkedHtml(s: Section<LinkedSection>): string {
  if (!s.ok) return unavailable(s.error);
  const l = s.value;
  const records = !l.registered
    ? `<span class="warn">not registered: run <code>${REGISTER}</code></span>`
    : l.registered.current
    ? `current<br><small>registered ${time(l.registered.at)}</small>`
    : `<span class="warn">outdated: run <code>${REGISTER}</code></span><br><small>registered ${
      time(l.registered.at)
    }</small>`;
  const figs = `<dl class="figs">
${
    figure(
      "linked-state",
      "Linked roles",
      l.enabled ? "on" : `<span class="warn">off: set DISCORD_CLIENT_SECRET and SELF_URL</span>`,
    )
  }
${figure("linked-users", "Linked users", num(l.linkedUsers))}
${figure("linked-records", "Metadata records", records)}
${
    l.verificationUrl
      ? figure(
        "linked-verification-url",
        "Verification URL (developer portal, General Information)",
        `<code>${esc(l.verificationUrl)}</code>`,
      )
      : ""
  }
${
    l.redirectUri
      ? figure(
        "linked-redirect-uri",
        "OAuth2 redirect to add (developer portal, OAuth2)",
        `<code>${esc(l.redirectUri)}</code>`,
      )
      : ""
  }
</dl>`;
  if (!l.enabled) return figs;
  return `${figs}<h3>Linked users in the last freshness pass</h3>${linkedPassHtml(l.lastPass)}`;
}

function linkedPassHtml(s: LinkedSection["lastPass"]): string {
  if (!s.ok) return unavailable(s.error);
  const p = s.value;
  if (!p) {
    return `<p id="linked-last-pass">No figures yet: no pass has run with linked roles on, or their stage failed (see the log).</p>`;
  }
  const warnIf = (n: number) => (n ? `<span class="warn">${num(n)}</span>` : "0");
  return `<dl class="figs">
${figure("linked-last-pass", "Pass", time(p.at))}
${figure("linked-pushes", "Metadata pushed", num(p.pushes))}
${figure("linked-refreshes", "Tokens refreshed", num(p.refreshes))}
${figure("linked-failures", "Failures", warnIf(p.failures))}
${figure("linked-unlinked", "Grants found revoked", num(p.unlinked))}
${figure("linked-left", "Left for the next pass", num(p.left))}
</dl>`;
}

function alertsHtml(s: Section<Alert[]>): string {
  if (!s.ok) return unavailable(s.error);
  if (!s.value.length) return `<p>No alerts.</p>`;
  return `<ul class="alerts">${
    s.value.map((a) =>
      `<li class="sev-${a.severity}"><strong>${esc(a.title)}</strong> ${time(a.at)}${
        a.delivered ? "" : " (not delivered)"
      }<br>${esc(a.detail)}</li>`
    ).join("")
  }</ul>`;
}

export function renderMain(d: StatusData): string {
  return `<main id="main">
<p class="meta">Version ${esc(d.version)} · generated ${time(d.generatedAt)} · refreshes every ${
    REFRESH_MS / 1000
  } s</p>
<section aria-labelledby="h-sync"><h2 id="h-sync">Role sync</h2>${syncHtml(d.sync)}</section>
<section aria-labelledby="h-guilds"><h2 id="h-guilds">Guilds</h2>${guildsHtml(d.guilds)}</section>
<section aria-labelledby="h-fresh"><h2 id="h-fresh">Freshness (score changes to roles)</h2>${
    freshHtml(d.fresh)
  }</section>
<section aria-labelledby="h-linked"><h2 id="h-linked">Linked roles</h2>${
    linkedHtml(d.linked)
  }</section>
<section aria-labelledby="h-rest"><h2 id="h-rest">Discord REST health</h2>${
    restHtml(d.rest)
  }</section>
<section aria-labelledby="h-commands"><h2 id="h-commands">Command manifest</h2>${
    commandsHtml(d.commands)
  }</section>
<section aria-labelledby="h-backups"><h2 id="h-backups">Backups</h2>${
    backupsHtml(d.backups)
  }</section>
<section aria-labelledby="h-alerts"><h2 id="h-alerts">Recent alerts</h2>${
    alertsHtml(d.alerts)
  }</section>
</main>`;
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:1100px;padding:1rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:2px solid #2f3b52;padding-bottom:.2rem;margin-top:1.6rem}
h3{font-size:1.05rem}.meta{color:#444}code{background:#f1f3f6;padding:0 .25rem}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:.5rem;margin:.5rem 0}
.fig{border:1px solid #c8ced8;border-radius:6px;padding:.4rem .6rem}dt{font-size:.85rem;color:#3d4450}dd{margin:0;font-size:1.15rem;font-weight:600}
progress{width:100%;height:1.4rem}table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:600}
th,td{border-bottom:1px solid #d5dae2;padding:.3rem .5rem;text-align:left}.chart{width:100%;max-width:640px;height:auto}
.chart rect{fill:#1f5fa8}.chart .base{stroke:#3d4450}.chart .axis{font-size:11px;fill:#3d4450}
.chart .max{stroke:#b34700;stroke-width:2}.chart .target{stroke:#1b5e20;stroke-dasharray:6 3}.chart .alert{stroke:#8a1c1c;stroke-dasharray:6 3}
.legend{font-size:.85rem;color:#3d4450}dd small{font-size:.8rem;font-weight:400;color:#3d4450}
.warn{color:#8a1c1c}.state-failed{color:#8a1c1c}.state-completed{color:#1b5e20}.state-running{color:#0d47a1}
.alerts{padding-left:1.2rem}.sev-critical strong{color:#8a1c1c}a{color:#0b4f9c}`;

export function renderPage(d: StatusData, nonce: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Ethos bot status</title>
<style>${STYLE}</style></head><body>
<header><h1>Ethos bot status</h1></header>
${renderMain(d)}
<script nonce="${nonce}">
setInterval(async () => {
  try {
    const res = await fetch(location.pathname, { credentials: "same-origin", cache: "no-store" });
    if (!res.ok) return;
    const next = new DOMParser().parseFromString(await res.text(), "text/html").getElementById("main");
    if (next) document.getElementById("main").replaceWith(next);
  } catch (_) { /* offline: keep the last figures */ }
}, ${REFRESH_MS});
</script></body></html>`;
}

export function renderUnauthorized(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Status: sign-in needed</title>
<style>${STYLE}</style></head><body><main><h1>Sign-in needed</h1>
<p>This page needs a fresh status link. Get one with <code>deno run -A sync-helper.ts status-link</code>
or the <code>/status_link</code> command in Discord (Administrator). Links are valid for one hour.</p></main></body></html>`;
}

export function renderRedirect(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Opening status…</title>
<meta http-equiv="refresh" content="0;url=/status"></head><body><main><p><a href="/status">Continue to the status page</a></p></main></body></html>`;
}
