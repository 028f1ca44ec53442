/** lib/status/html_format.ts: the figures' formats, and escaping where text comes from data. */
import assert from "node:assert/strict";
import {
  bytes,
  duration,
  figure,
  hhmm,
  num,
  secs,
  time,
  unavailable,
} from "../../lib/status/html_format.ts";

Deno.test("html format: times in UTC with a machine-readable datetime, or a dash", () => {
  const at = Date.UTC(2026, 10, 22, 12, 3, 4, 500);
  const tag = '<time datetime="2026-11-22T12:03:04.500Z">2026-11-22 12:03:04 UTC</time>';
  assert.equal(time(at), tag);
  assert.equal(time("2026-11-22T12:03:04.500Z"), tag);
  assert.equal(time(null), "—");
  assert.equal(time(undefined), "—");
  assert.equal(hhmm(at), "12:03");
});

Deno.test("html format: numbers rounded and grouped, sizes and durations in units", () => {
  assert.equal(num(1234567.6), "1,234,568");
  assert.equal(num(0), "0");
  assert.equal(num(null), "—");
  assert.deepStrictEqual([999, 1_500, 2_500_000].map(bytes), ["999 B", "1.5 kB", "2.50 MB"]);
  assert.deepStrictEqual(
    [4.25, 42, 125, 3_600 + 90, null, Infinity].map(duration),
    ["4.3 s", "42 s", "2 min 5 s", "1 h 2 min", "—", "—"],
  );
  assert.equal(secs(8.1234567), "8.123");
  assert.equal(secs(0.1 + 0.2), "0.3");
});

Deno.test("html format: a figure labels its value by id; its label and errors are escaped", () => {
  assert.equal(
    figure("x", "A <b>", "<i>1</i>"),
    '<div class="fig"><dt id="x-label">A &#60;b&#62;</dt>' +
      '<dd id="x" aria-labelledby="x-label"><i>1</i></dd></div>',
  );
  assert.equal(
    unavailable("kv <down>"),
    '<p class="warn" role="status">Unavailable: kv &#60;down&#62;</p>',
  );
});
