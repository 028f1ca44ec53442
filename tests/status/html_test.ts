/**
 * lib/status/html.ts: the page around the sections (their order, headings and the meta line), the
 * script that keeps it live under the request's nonce, and the sign-in and redirect pages.
 */
import assert from "node:assert/strict";
import {
  REFRESH_MS,
  renderMain,
  renderPage,
  renderRedirect,
  renderUnauthorized,
} from "../../lib/status/html.ts";
import { failed, statusData } from "./_sections.ts";

const HEADINGS = [
  ["h-sync", "Role sync"],
  ["h-guilds", "Guilds"],
  ["h-fresh", "Freshness (score changes to roles)"],
  ["h-linked", "Linked roles"],
  ["h-rest", "Discord REST health"],
  ["h-commands", "Command manifest"],
  ["h-backups", "Backups"],
  ["h-alerts", "Recent alerts"],
];

/** Each section's heading id and text, in page order. */
function sections(html: string): string[][] {
  return [...html.matchAll(/<section aria-labelledby="([\w-]+)"><h2 id="([\w-]+)">([^<]*)<\/h2>/g)]
    .map((m) => {
      assert.equal(m[1], m[2], "each section is labelled by its own heading");
      return [m[2], m[3]];
    });
}

Deno.test("renderMain: one <main>, the meta line, every section under its heading, in order", () => {
  const html = renderMain(statusData());
  assert.ok(html.startsWith('<main id="main">') && html.endsWith("</main>"));
  assert.equal(html.match(/<main/g)?.length, 1);
  assert.match(
    html,
    /<p class="meta">Version 1\.2\.3 · generated <time datetime="2026-11-22T12:00:00\.000Z">2026-11-22 12:00:00 UTC<\/time> · refreshes every 5 s<\/p>/,
  );
  assert.deepStrictEqual(sections(html), HEADINGS);
});

Deno.test("renderMain: the version is escaped; a failed section still has its heading", () => {
  const data = { ...statusData(), version: '<script>"x"</script>', sync: failed<never>("boom") };
  const html = renderMain(data);
  assert.ok(!html.includes("<script>"), html.slice(0, 200));
  assert.match(html, /Version &#60;script&#62;/);
  assert.deepStrictEqual(sections(html), HEADINGS);
  const sync = html.match(/<section aria-labelledby="h-sync">[\s\S]*?<\/section>/)![0];
  assert.match(sync, /Unavailable: boom/);
});

Deno.test("renderPage: the document around <main>, its refresh script under the nonce only", () => {
  const data = statusData();
  const html = renderPage(data, "n0nce-123");
  assert.ok(html.startsWith("<!doctype html>"));
  assert.match(html, /<html lang="en">/);
  assert.match(html, /<title>Ethos bot status<\/title>/);
  assert.ok(html.includes(renderMain(data)));
  const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
  assert.deepStrictEqual(scripts, [' nonce="n0nce-123"']);
  assert.ok(html.includes(`}, ${REFRESH_MS});`), "refreshes every REFRESH_MS");
  assert.match(html, /getElementById\("main"\)\.replaceWith\(next\)/);
});

Deno.test("renderUnauthorized and renderRedirect: no figures; how to sign in, or on to /status", () => {
  const denied = renderUnauthorized();
  assert.match(denied, /<h1>Sign-in needed<\/h1>/);
  assert.match(denied, /sync-helper\.ts status-link/);
  assert.match(denied, /\/status_link/);
  assert.ok(!denied.includes("<script"));
  const redirect = renderRedirect();
  assert.match(redirect, /<meta http-equiv="refresh" content="0;url=\/status">/);
  assert.match(redirect, /<a href="\/status">/);
  assert.ok(!redirect.includes("<script"));
});
