/** lib/status/linked_html.ts: the Linked roles section from its data. */
import assert from "node:assert/strict";
import { linkedHtml } from "../../lib/status/linked_html.ts";
import { failed, linkedSection, ok, textOf } from "./_sections.ts";

Deno.test("linked html: on, with what to paste in the portal and the last pass", () => {
  const html = linkedHtml(ok(linkedSection()));
  assert.equal(textOf(html, "linked-state"), "on");
  assert.equal(textOf(html, "linked-users"), "1,234");
  assert.match(textOf(html, "linked-records"), /^outdated: run deno task linked-roles register/);
  assert.equal(textOf(html, "linked-verification-url"), "https://bot.example/linked-role");
  assert.equal(textOf(html, "linked-redirect-uri"), "https://bot.example/linked-role/callback");
  assert.equal(textOf(html, "linked-pushes"), "3");
  assert.equal(textOf(html, "linked-failures"), "2");
  assert.match(html, /id="linked-failures"[^>]*><span class="warn">2<\/span>/);
  assert.equal(textOf(html, "linked-left"), "0");
});

Deno.test("linked html: off shows how to turn it on and no pass figures", () => {
  const html = linkedHtml(ok(linkedSection({
    enabled: false,
    registered: null,
    verificationUrl: null,
    redirectUri: null,
  })));
  assert.match(textOf(html, "linked-state"), /off: set DISCORD_CLIENT_SECRET and SELF_URL/);
  assert.match(textOf(html, "linked-records"), /^not registered/);
  assert.ok(!html.includes("linked-verification-url"));
  assert.ok(!html.includes("Linked users in the last freshness pass"));
});

Deno.test("linked html: current records, no pass yet, an unreadable pass, unavailable", () => {
  const none = linkedHtml(ok(linkedSection({
    registered: { at: Date.UTC(2026, 0, 1), current: true },
    lastPass: ok(null),
  })));
  assert.match(textOf(none, "linked-records"), /^current registered 2026-01-01 00:00:00 UTC$/);
  assert.match(textOf(none, "linked-last-pass"), /^No figures yet/);
  assert.match(linkedHtml(ok(linkedSection({ lastPass: failed("bad") }))), /Unavailable: bad/);
  assert.match(linkedHtml(failed("kv")), /Unavailable: kv/);
});
