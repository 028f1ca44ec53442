/**
 * The status page's smaller sections, one function each: guilds and their levels, Discord REST
 * health, the command manifest, backups and restores, and recent alerts.
 */
import { escapeHtml as esc } from "../http/html.ts";
import type { Alert } from "../ops/alerts.ts";
import type {
  BackupsSection,
  CommandsSection,
  GuildsSection,
  RestSection,
  Section,
} from "./data.ts";
import { bytes, figure, num, time, unavailable } from "./html_format.ts";

export function commandsHtml(s: Section<CommandsSection>): string {
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

export function backupsHtml(s: Section<BackupsSection>): string {
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

export function restHtml(s: Section<RestSection>): string {
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

export function guildsHtml(s: Section<GuildsSection>): string {
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

export function alertsHtml(s: Section<Alert[]>): string {
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
