/** lib/status/sync_html.ts: the Role sync section from its data. */
import assert from "node:assert/strict";
import { syncHtml } from "../../lib/status/sync_html.ts";
import { failed, GUILD, ok, progress, syncSection, textOf } from "./_sections.ts";

Deno.test("sync html: the current run's figures, bar, chart and recent runs", () => {
  const html = syncHtml(ok(syncSection()));
  assert.equal(textOf(html, "sync-run"), "run-1");
  assert.match(html, /<progress id="sync-bar" max="2000" value="1500">75 %<\/progress>/);
  assert.equal(textOf(html, "sync-state"), "running");
  assert.equal(textOf(html, "sync-processed"), "1,500");
  assert.equal(textOf(html, "sync-total"), "2,000");
  assert.equal(textOf(html, "sync-changed"), "40");
  assert.equal(textOf(html, "sync-skipped"), "50", "skipped.* counters summed");
  assert.equal(textOf(html, "sync-errors"), "10");
  assert.equal(textOf(html, "sync-rate"), "12.3");
  assert.equal(textOf(html, "sync-eta"), "2 min 5 s");
  assert.equal(textOf(html, "sync-chunk-duration"), "42 s");
  assert.match(html, /id="sync-chunk-duration-label">This chunk so far</);
  assert.match(html, /<desc id="chart-desc">11:58: 300, 11:59: 600<\/desc>/);
  assert.equal([...html.matchAll(/<rect /g)].length, 2);
  assert.match(html, /<caption>The last run<\/caption>/);
  assert.match(html, /<td>incremental \(dry run\)<\/td><td class="state-completed">completed/);
  assert.match(html, /<td>3<\/td><td>3<\/td><td>1 min 35 s<\/td><\/tr>/, "changed, skipped, time");
});

Deno.test("sync html: no guild, no run yet, unknown total, last error, unavailable", () => {
  assert.match(syncHtml(ok(syncSection({ guildId: null }))), /No guild is configured/);
  const idle = syncHtml(ok(syncSection({ current: null, runs: [], perMinute: [] })));
  assert.equal(textOf(idle, "sync-state"), `No sync has run yet in guild ${GUILD}.`);
  assert.match(idle, /No finished runs yet/);
  const done = syncHtml(ok(syncSection({
    current: progress({ state: "completed", total: null, lastError: "boom <x>" }),
    perMinute: [],
  })));
  assert.match(done, /<progress id="sync-bar" >unknown total<\/progress>/);
  assert.match(done, /Chunk duration \(average\)/);
  assert.match(done, /Last error: boom &#60;x&#62;/);
  assert.match(done, /No per-minute figures yet/);
  assert.match(syncHtml(failed("kv down")), /Unavailable: kv down/);
});

Deno.test("sync html: a counter sums its own name and its dotted sub-counters only", () => {
  const counters = { skipped: 1, "skipped.bot": 2, skipped_total: 100, "errors.x": 3 };
  const html = syncHtml(ok(syncSection({ current: progress({ counters }) })));
  assert.equal(textOf(html, "sync-skipped"), "3");
  assert.equal(textOf(html, "sync-errors"), "3");
  assert.equal(textOf(html, "sync-changed"), "0");
});
