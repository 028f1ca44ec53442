/**
 * lib/linked_roles/page.ts: the page and status for each outcome of the connect callback, what
 * Discord now knows, the way back, and everything from outside escaped.
 */
import assert from "node:assert/strict";
import { renderOutcome, renderRedirect } from "../../lib/linked_roles/page.ts";
import type { ConnectOutcome } from "../../lib/linked_roles/connect.ts";
import type { EthosProfile } from "../../lib/ethos/profile.ts";
import { CONNECT_URL } from "../../lib/ethos/profile.ts";

const user = { id: "300000000000000001", username: "ann", global_name: "Ann <b>" };
const profile = { displayName: "Ann & Co" } as EthosProfile;
const metadata = { score: "1850", level: "4", validator: "1", human: "0" };

/** The `data-key` values of the metadata list. */
const shown = (html: string) =>
  Object.fromEntries([...html.matchAll(/data-key="(\w+)">([^<]*)</g)].map((m) => [m[1], m[2]]));

Deno.test("renderOutcome: connected, with the profile and what Discord now knows", () => {
  const { status, html } = renderOutcome({ kind: "connected", user, profile, metadata });
  assert.equal(status, 200);
  assert.match(html, /<title>Ethos linked to Discord<\/title>/);
  assert.deepEqual(shown(html), {
    score: "1850",
    level: "4 (established)",
    validator: "yes",
    human: "no",
  });
  assert.ok(html.includes("<strong>Ann &#38; Co</strong>"), "the profile name, escaped");
  assert.ok(html.includes("<strong>Ann &#60;b&#62;</strong>"), "the Discord name, escaped");
  assert.ok(!html.includes("Ann <b>"));
  assert.match(html, /claim the role/);
});

Deno.test("renderOutcome: connected without a profile says score 0 and how to get one", () => {
  const { status, html } = renderOutcome({
    kind: "connected",
    user: { ...user, global_name: null },
    profile: null,
    metadata: { score: "0", level: "0", validator: "0", human: "0" },
  });
  assert.equal(status, 200);
  assert.match(html, /Discord account <strong>ann<\/strong> has no Ethos profile yet/);
  assert.ok(html.includes(`href="${CONNECT_URL}"`), html);
  assert.deepEqual(shown(html).level, "0 (untrusted)");
  assert.match(html, /href="\/linked-role">connect again/);
});

Deno.test("renderOutcome: a level index out of range reads as untrusted, not a crash", () => {
  const { html } = renderOutcome({
    kind: "connected",
    user,
    profile,
    metadata: { ...metadata, level: "42" },
  });
  assert.equal(shown(html).level, "42 (untrusted)");
});

Deno.test("renderOutcome: every failure is a 4xx page with the way to start again", () => {
  const cases: [ConnectOutcome, number, RegExp][] = [
    [{ kind: "denied" }, 400, /You cancelled on Discord&#39;s page/],
    [{ kind: "bad_state", reason: "used_or_expired" }, 400, /already used or is more than 10/],
    [{ kind: "bad_state", reason: "mismatch" }, 400, /did not start here/],
    [{ kind: "bad_state", reason: "missing" }, 400, /did not keep its cookie/],
    [{ kind: "bad_code" }, 400, /sign-in code was already used/],
    [{ kind: "missing_scope" }, 400, /Discord did not grant it/],
    [{ kind: "upstream", service: "Ethos" }, 424, /Ethos did not answer as expected/],
    [{ kind: "upstream", service: "Discord" }, 424, /Discord did not answer as expected/],
  ];
  for (const [outcome, status, text] of cases) {
    const r = renderOutcome(outcome);
    assert.equal(r.status, status, outcome.kind);
    assert.match(r.html, text);
    assert.match(r.html, /<a class="button" href="\/linked-role">Start again<\/a>/);
    assert.doesNotMatch(r.html, /data-key=/, "no metadata on a failure");
  }
});

Deno.test("renderRedirect: a link to Discord for browsers that do not follow, escaped", () => {
  const html = renderRedirect('https://discord.com/oauth2/authorize?a=1&b="2"');
  assert.ok(
    html.includes('href="https://discord.com/oauth2/authorize?a=1&#38;b=&#34;2&#34;"'),
    html,
  );
  assert.match(html, /Continue to Discord/);
});
