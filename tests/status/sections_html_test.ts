/** lib/status/sections_html.ts: guilds, REST health, commands, backups and alerts. */
import assert from "node:assert/strict";
import {
  alertsHtml,
  backupsHtml,
  commandsHtml,
  guildsHtml,
  restHtml,
} from "../../lib/status/sections_html.ts";
import {
  alerts,
  backupsSection,
  commandsSection,
  failed,
  GUILD,
  guildsSection,
  ok,
  restSection,
  textOf,
} from "./_sections.ts";

Deno.test("sections html: each guild's setup, sync and levels", () => {
  const html = guildsHtml(ok(guildsSection()));
  assert.match(html, new RegExp(`<h3>Guild ${GUILD} \\(environment\\)</h3>`));
  assert.equal(textOf(html, `guild-${GUILD}-state`), "ready");
  assert.equal(textOf(html, `guild-${GUILD}-progress`), "2,000 of 2,000");
  assert.equal(textOf(html, `guild-${GUILD}-log`), "none");
  assert.match(html, /<svg class="chart" id="guild-200000000000000001-levels"/);
  assert.match(html, /<title>Exemplary: 10<\/title>/);
  const other = "200000000000000002";
  assert.equal(textOf(html, `guild-${other}-state`), "inactive: the bot left or lost access");
  assert.equal(textOf(html, `guild-${other}-progress`), "0");
  assert.ok(!html.includes(`guild-${other}-levels`), "no chart without levels");
  assert.match(guildsHtml(ok({ guilds: [] })), /No guild is set up yet/);
});

Deno.test("sections html: REST health with the invalid-request budget and the global limit", () => {
  const html = restHtml(ok(restSection()));
  assert.match(html, /Figures for all instances\./);
  assert.equal(textOf(html, "rest-requests"), "12,345");
  assert.equal(textOf(html, "rest-429-shared"), "1");
  assert.equal(textOf(html, "rest-invalid"), "80 of 8,000 (1.0 %)");
  assert.equal(textOf(html, "rest-global-budget"), "2 isolate(s) sending, booked 120 ms ahead");
  const none = restHtml(
    ok({ ...restSection(), globalBudget: null, invalid: { used: 0, limit: 0 } }),
  );
  assert.equal(textOf(none, "rest-invalid"), "0 of 0 (0.0 %)");
  assert.ok(!none.includes("rest-global-budget"));
});

Deno.test("sections html: the command manifest, with drift and cooldown when there are", () => {
  const html = commandsHtml(ok(commandsSection()));
  assert.equal(textOf(html, "commands-fingerprint"), "0123456789abcdef");
  assert.equal(textOf(html, "commands-count"), "14");
  assert.match(textOf(html, "commands-last-attempt"), /^synced, 2026-11-22 11:59:00 UTC$/);
  assert.match(textOf(html, "commands-drift"), /^1 added \(checked 2026-11-22 11:58:00 UTC \)$/);
  assert.equal(textOf(html, "commands-cooldown"), "2026-11-22 12:30:00 UTC");
  const quiet = commandsHtml(ok({
    ...commandsSection(),
    lastAttempt: null,
    drift: null,
    cooldownUntil: null,
  }));
  assert.equal(textOf(quiet, "commands-drift"), "not checked yet");
  assert.equal(textOf(quiet, "commands-last-attempt"), "—");
  assert.ok(!quiet.includes("commands-cooldown"));
});

Deno.test("sections html: backups per guild and restores in progress, labels escaped", () => {
  const html = backupsHtml(ok(backupsSection()));
  assert.match(html, /<td>3<\/td><td>1<\/td><td>2\.50 MB<\/td><td>&#60;before&#62; cleanup, <time/);
  assert.match(html, new RegExp(`Restore in progress in ${GUILD} from \\?: running, 1,500 items`));
  const empty = backupsHtml(ok({ guilds: [], restores: [] }));
  assert.match(empty, /No backups yet\./);
  assert.match(empty, /No restore in progress\./);
});

Deno.test("sections html: alerts by severity, undelivered marked; unavailable sections", () => {
  const html = alertsHtml(ok(alerts()));
  assert.match(html, /<li class="sev-critical"><strong>Sync &#60;failed&#62;<\/strong> <time/);
  assert.match(html, /\(not delivered\)<br>see the log<\/li>/);
  assert.match(
    html,
    /<li class="sev-warning"><strong>Warning<\/strong> <time[^]*?<\/time><br>minor/,
  );
  assert.match(alertsHtml(ok([])), /No alerts\./);
  for (const render of [alertsHtml, backupsHtml, commandsHtml, guildsHtml, restHtml]) {
    assert.match(render(failed("gone")), /Unavailable: gone/);
  }
});
