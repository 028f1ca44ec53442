/**
 * lib/status/fresh_html.ts: the Freshness section from its data (tests/status/data_test.ts
 * covers the same section from what the freshness pass stores).
 */
import assert from "node:assert/strict";
import { freshHtml } from "../../lib/status/fresh_html.ts";
import { failed, freshSection, GUILD, ok, textOf } from "./_sections.ts";

Deno.test("fresh html: the headline figures, with the p95 over the alert marked", () => {
  const html = freshHtml(ok(freshSection()));
  assert.equal(textOf(html, "fresh-state"), "on (every minute)");
  assert.equal(textOf(html, "fresh-last-lag"), "4.3 s at 2026-11-22 11:59:00 UTC");
  assert.match(html, /id="fresh-p95"[^>]*><span class="warn">35 s<\/span>/);
  assert.equal(textOf(html, "fresh-p95"), "35 s 9 changes incl. waiting, max 50 s");
  assert.equal(textOf(html, "fresh-waiting"), "3 oldest waiting 1 min 16 s");
  assert.equal(textOf(html, "fresh-feed"), "1 min 0 s ago more pages waiting");
  assert.equal(textOf(html, "fresh-last-pass"), "2026-11-22 11:59:00 UTC took 2.4 s");
});

Deno.test("fresh html: per guild, what waits and what the last pass did", () => {
  const html = freshHtml(ok(freshSection()));
  const row = html.match(new RegExp(`<tr id="fresh-guild-${GUILD}"[^>]*>`))?.[0];
  assert.equal(row, `<tr id="fresh-guild-${GUILD}" data-waiting="3" data-oldest-s="75.5">`);
  assert.equal(textOf(html, `fresh-guild-${GUILD}`), `${GUILD} 3 1 min 16 s 12 5 8 3 1`);
  assert.match(html, /<td class="warn">1<\/td>/, "a refused write is marked");
  assert.equal(
    textOf(html, "fresh-guild-200000000000000002"),
    "200000000000000002 0 — 0 0 0 0 0 role sync is turned off for this server",
  );
});

Deno.test("fresh html: the feed intake of the last pass", () => {
  const html = freshHtml(ok(freshSection()));
  assert.equal(textOf(html, "fresh-intake-read"), "1,200 (2 page(s))");
  assert.equal(textOf(html, "fresh-intake-badtime"), "1");
  assert.equal(textOf(html, "fresh-intake-gap"), "yes");
  assert.equal(textOf(html, "fresh-intake-reset"), "no");
  const last = freshSection().last!;
  const error = freshHtml(
    ok(freshSection({ last: { ...last, intake: { error: "feed <down>" } } })),
  );
  assert.equal(textOf(error, "fresh-intake-error"), "feed &#60;down&#62;");
  const skipped = freshHtml(ok(freshSection({
    last: { ...last, intake: { ...last.intake, ran: false } as typeof last.intake },
  })));
  assert.match(textOf(skipped, "fresh-intake-skipped"), /another pass held it/);
});

Deno.test("fresh html: the lag chart's minutes, scale and rules", () => {
  const html = freshHtml(ok(freshSection()));
  const svg = html.match(/<svg[^>]*id="fresh-lag-chart"[^]*?<\/svg>/)?.[0] ?? "";
  assert.match(svg, /data-scale-s="30"/, "the first round step above the longest lag (20 s)");
  const minutes = [...svg.matchAll(/<g class="lag-min"([^>]*)>/g)].map((m) => m[1].trim());
  assert.deepStrictEqual(minutes, [
    'data-at="2026-11-22T11:57:00.000Z" data-n="0"',
    'data-at="2026-11-22T11:58:00.000Z" data-n="4" data-p50="2.5" data-p95="8.125" data-max="20"',
    'data-at="2026-11-22T11:59:00.000Z" data-n="2" data-p50="3" data-p95="3" data-max="3"',
  ]);
  assert.match(svg, /<line class="target" data-s="15"/);
  assert.match(svg, /<line class="alert" data-s="30"/);
  assert.match(
    svg,
    /6 score changes applied in the last hour: p95 8\.1 s, max 20 s; worst minute 11:58 UTC/,
  );
  assert.match(svg, /1 of 3 minutes without changes/);
});

Deno.test("fresh html: off, nothing yet, unavailable", () => {
  assert.equal(
    textOf(freshHtml(ok(freshSection({ enabled: false }))), "fresh-state"),
    "off (SYNC_FRESHNESS=false)",
  );
  const none = freshHtml(ok(freshSection({
    last: null,
    feed: null,
    backlog: [],
    lagHour: { minutes: [], all: { n: 0, p50: null, p95: null, max: null } },
    lag15: { n: 0, p50: null, p95: null, max: null },
  })));
  assert.equal(textOf(none, "fresh-last-lag"), "none yet");
  assert.equal(textOf(none, "fresh-p95"), "— (no changes)");
  assert.equal(textOf(none, "fresh-feed"), "never");
  assert.match(none, /No guild is set up for the freshness pass/);
  assert.match(none, /No score changes applied in the last hour\. Target 15 s, alert above 30 s\./);
  assert.match(none, /data-scale-s="10"/);
  assert.match(freshHtml(failed("kv")), /Unavailable: kv/);
});
