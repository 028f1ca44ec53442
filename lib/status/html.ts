/**
 * The status page as server-rendered HTML: no build step, readable without JavaScript, headings
 * and labelled figures for screen readers, dark-on-light colours well above WCAG AA contrast.
 * A few lines of script re-fetch the page every few seconds and swap its <main>, so the figures
 * stay live without a second renderer in the browser.
 *
 * This module is the page around the sections; each section is rendered in its own module
 * (sync_html.ts, fresh_html.ts, linked_html.ts, sections_html.ts) from html_format.ts's pieces.
 */
import { escapeHtml as esc } from "../http/html.ts";
import type { StatusData } from "./data.ts";
import { freshHtml } from "./fresh_html.ts";
import { time } from "./html_format.ts";
import { linkedHtml } from "./linked_html.ts";
import { alertsHtml, backupsHtml, commandsHtml, guildsHtml, restHtml } from "./sections_html.ts";
import { syncHtml } from "./sync_html.ts";

export const REFRESH_MS = 5_000;

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
