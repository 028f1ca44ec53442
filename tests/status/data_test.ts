/**
 * lib/status/data.ts: each section of the status page gathered from KV, read back from the rendered
 * HTML and from /status.json, and each section failing on its own. Kept whole past 400 lines: one
 * module gathers every section, and each section's tests write KV the way its writer does.
 */
import assert from "node:assert/strict";
import { APP_ID, GUILD_ID, type TestApp, withTestApp } from "../_harness.ts";
import { collectStatus } from "../../lib/status/data.ts";
import { renderMain } from "../../lib/status/html.ts";
import { recordLags } from "../../lib/sync/fresh_lag.ts";
import { freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import type { PassSummary } from "../../lib/sync/fresh_pass.ts";
import { registerMetadata } from "../../lib/linked_roles/metadata.ts";
import { deleteLinked, saveLinked } from "../../lib/linked_roles/store.ts";
import { passSummary, statusJson } from "./_fixture.ts";
import { linkedRecord } from "../linked_roles/_linked.ts";
import { keys } from "../../lib/kv/keys.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { historyMutation, seriesMutation } from "../../lib/jobs/history.ts";
import { appendLog, setCooldown, setDrift } from "../../lib/manifest/store.ts";
import { saveBackup, setPinned } from "../../lib/backup/store.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { raiseAlert } from "../../lib/ops/alerts.ts";
import { sampleSnapshot } from "../backup/_sample.ts";
import { newBackup } from "../backup/_new_backup.ts";
import { runRecord } from "../jobs/_run.ts";

const MIN = 60_000;
const TOKEN = "status-test-token-0123456789";

/** The text of the element with this id (tags stripped); the test fails when it is absent. */
function byId(html: string, id: string): string {
  const m = html.match(new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(dd|p|tr)>`));
  assert.ok(m, `#${id} in the page`);
  return m[1].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}

/** The attributes of a start tag. */
function attrs(tag: string): Record<string, string> {
  return Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/** The chart's minutes, by ISO minute, from their data attributes. */
function chartMinutes(html: string) {
  const svg = html.match(/<svg[^>]*id="fresh-lag-chart"[\s\S]*?<\/svg>/)?.[0];
  assert.ok(svg, "the lag chart");
  return {
    svg,
    minutes: [...svg.matchAll(/<g class="lag-min"[^>]*>/g)].map((m) => attrs(m[0])),
  };
}

/** The chart rules (target, alert) drawn, by their value in seconds. */
function rules(svg: string): Record<string, number> {
  return Object.fromEntries(
    [...svg.matchAll(/<line class="(target|alert)"[^>]*>/g)].map((m) => [
      m[1],
      Number(attrs(m[0])["data-s"]),
    ]),
  );
}

Deno.test("status page: the freshness section charts the hour per minute, the backlog and the p95", () =>
  withTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN, SELF_URL: "https://bot.example" } }, async (t) => {
    const kv = t.deps.kv;
    const now = t.clock.now(); // 12:00:00 UTC: the hour is 11:01 .. 12:00
    await recordLags(kv, now - 50 * MIN, [10, 20, 30]); // 11:10
    await recordLags(kv, now - 50 * MIN + 30_000, [25]); // same minute, a second pass
    await recordLags(kv, now - 10 * MIN, [100, 200, 400]); // 11:50
    await recordLags(kv, now, [5]); // 12:00
    await recordLags(kv, now - 90 * MIN, [9999]); // outside the hour
    // Two members waiting: Ethos changed them 90 s and 30 s ago.
    await kv.set(freshKeys.backlog(GUILD_ID, "u1"), {
      updatedAt: now - 90_000,
      queuedAt: now - 20_000,
    });
    await kv.set(freshKeys.backlog(GUILD_ID, "u2"), {
      updatedAt: now - 30_000,
      queuedAt: now - 20_000,
    });
    await kv.set(freshKeys.cursor(), { after: now - 60_000, at: now - 42_000 });
    const pass: PassSummary = {
      at: now - 40_000,
      durationMs: 3_500,
      intake: {
        ran: true,
        pages: 2,
        read: 1200,
        queued: 7,
        repeated: 3,
        otherService: 2,
        badTime: 1,
        cursorReset: false,
        more: false,
        gap: true,
      },
      guilds: [{
        guildId: GUILD_ID,
        ran: true,
        applied: 4,
        written: 2,
        calls: 2,
        reads: 1,
        notMember: 0,
        left: 2,
        refused: 0,
      }],
      linked: null,
      lastApplied: { lagS: 5, at: now - 37_000 },
    };
    await kv.set(freshKeys.lastPass(), pass);

    const data = await collectStatus(t.app);
    assert.ok(data.fresh.ok, JSON.stringify(data.fresh));
    const html = renderMain(data);
    assert.ok(html.includes(">Freshness (score changes to roles)</h2>"), html);

    // The chart: 60 minutes, oldest first; three with changes, the rest gaps with no shapes.
    const { svg, minutes } = chartMinutes(html);
    assert.deepStrictEqual(minutes.length, 60);
    assert.deepStrictEqual(minutes[0]["data-at"], "2026-11-22T11:01:00.000Z");
    assert.deepStrictEqual(minutes[59]["data-at"], "2026-11-22T12:00:00.000Z");
    const filled = minutes.filter((m) => m["data-n"] !== "0");
    assert.deepStrictEqual(filled, [
      {
        class: "lag-min",
        "data-at": "2026-11-22T11:10:00.000Z",
        "data-n": "4",
        "data-p50": "20",
        "data-p95": "30",
        "data-max": "30",
      },
      {
        class: "lag-min",
        "data-at": "2026-11-22T11:50:00.000Z",
        "data-n": "3",
        "data-p50": "200",
        "data-p95": "400",
        "data-max": "400",
      },
      {
        class: "lag-min",
        "data-at": "2026-11-22T12:00:00.000Z",
        "data-n": "1",
        "data-p50": "5",
        "data-p95": "5",
        "data-max": "5",
      },
    ]);
    // Empty minutes draw nothing; each filled one a bar and a max tick.
    assert.deepStrictEqual([...svg.matchAll(/<rect /g)].length, 3);
    assert.deepStrictEqual([...svg.matchAll(/<line class="max"/g)].length, 3);
    assert.ok(
      /<g class="lag-min" data-at="2026-11-22T11:11:00.000Z" data-n="0"><title>[^<]*<\/title><\/g>/
        .test(svg),
    );
    // Scale 600 s (the longest is 400 s): both the target and the alert line are in range.
    assert.deepStrictEqual(attrs(svg.match(/<svg[^>]*>/)![0])["data-scale-s"], "600");
    assert.deepStrictEqual(rules(svg), { target: 120, alert: 300 });
    assert.match(svg, /aria-labelledby="fresh-lag-chart-title fresh-lag-chart-desc"/);
    assert.ok(
      svg.includes(
        "8 score changes applied in the last hour: p95 6 min 40 s, max 6 min 40 s; worst minute 11:50 UTC (p95 6 min 40 s); 57 of 60 minutes without changes.",
      ),
      svg,
    );

    // The last 15 minutes with the two waiting at their age: [5, 30, 90, 100, 200, 400].
    assert.deepStrictEqual(data.fresh.value.lag15, { n: 6, p50: 90, p95: 400, max: 400 });
    assert.deepStrictEqual(
      byId(html, "fresh-p95"),
      "6 min 40 s 6 changes incl. waiting, max 6 min 40 s",
    );
    assert.match(html, /p95 lag, last 15 min \(alert above 300 s\)/);
    assert.ok(
      /id="fresh-p95"[^>]*><span class="warn">6 min 40 s<\/span>/.test(html),
      "over the alert line",
    );
    assert.deepStrictEqual(byId(html, "fresh-waiting"), "2 oldest waiting 1 min 30 s");
    const row = attrs(html.match(new RegExp(`<tr id="fresh-guild-${GUILD_ID}"[^>]*>`))![0]);
    assert.deepStrictEqual(row["data-waiting"], "2");
    assert.deepStrictEqual(row["data-oldest-s"], "90");
    assert.deepStrictEqual(
      byId(html, `fresh-guild-${GUILD_ID}`).split(" "),
      [GUILD_ID, "2", "1", "min", "30", "s", "4", "2", "3", "2", "0"],
    );
    assert.deepStrictEqual(byId(html, "fresh-last-lag"), "5.0 s at 2026-11-22 11:59:23 UTC");
    assert.deepStrictEqual(byId(html, "fresh-feed"), "42 s ago");
    assert.deepStrictEqual(byId(html, "fresh-last-pass"), "2026-11-22 11:59:20 UTC took 3.5 s");
    assert.deepStrictEqual(byId(html, "fresh-intake-read"), "1,200 (2 page(s))");
    assert.deepStrictEqual(byId(html, "fresh-intake-repeated"), "3");
    assert.deepStrictEqual(byId(html, "fresh-intake-other"), "2");
    assert.deepStrictEqual(byId(html, "fresh-intake-badtime"), "1");
    assert.deepStrictEqual(byId(html, "fresh-intake-gap"), "yes");
    assert.deepStrictEqual(byId(html, "fresh-intake-reset"), "no");

    // /status.json carries the same section, without the hour's raw sample.
    const json = await statusJson(t, TOKEN);
    assert.ok(json.fresh.ok, JSON.stringify(json.fresh));
    assert.deepStrictEqual(json.fresh.value.backlog, [{
      guildId: GUILD_ID,
      count: 2,
      oldestAgeS: 90,
    }]);
    assert.deepStrictEqual(json.fresh.value.lag15.p95, 400);
    assert.deepStrictEqual(json.fresh.value.lagHour.minutes.length, 60);
    assert.deepStrictEqual((json.fresh.value.lagHour as Record<string, unknown>).values, undefined);
    assert.deepStrictEqual(json.fresh.value.feed, { at: now - 42_000, ageS: 42, more: false });
  }));

Deno.test("status page: freshness with nothing recorded yet, a feed error, and turned off", async () => {
  await withTestApp({}, async (t) => {
    let html = renderMain(await collectStatus(t.app));
    assert.deepStrictEqual(byId(html, "fresh-state"), "on (every minute)");
    assert.deepStrictEqual(byId(html, "fresh-p95"), "— (no changes)");
    assert.deepStrictEqual(byId(html, "fresh-waiting"), "0");
    assert.deepStrictEqual(byId(html, "fresh-feed"), "never");
    assert.deepStrictEqual(byId(html, "fresh-last-pass"), "none yet");
    const { svg, minutes } = chartMinutes(html);
    assert.deepStrictEqual(minutes.length, 60);
    assert.ok(minutes.every((m) => m["data-n"] === "0"));
    assert.deepStrictEqual(rules(svg), {}); // a 10 s scale: neither line is in range
    assert.match(svg, /No score changes applied in the last hour\./);

    const now = t.clock.now();
    await t.deps.kv.set(
      freshKeys.lastPass(),
      {
        at: now - 10_000,
        durationMs: 800,
        intake: { error: "Ethos 503 after 3 retries" },
        guilds: [],
        linked: null,
        lastApplied: null,
      } satisfies PassSummary,
    );
    html = renderMain(await collectStatus(t.app));
    assert.deepStrictEqual(byId(html, "fresh-intake-error"), "Ethos 503 after 3 retries");
    assert.match(html, /<span class="warn">Ethos 503 after 3 retries<\/span>/);
    assert.deepStrictEqual(byId(html, `fresh-guild-${GUILD_ID}`).split(" ").at(-1), "pass");
  });
  await withTestApp({ env: { SYNC_FRESHNESS: "false" } }, async (t) => {
    const html = renderMain(await collectStatus(t.app));
    assert.deepStrictEqual(byId(html, "fresh-state"), "off (SYNC_FRESHNESS=false)");
    assert.ok(!html.includes("fresh-lag-chart"), "no chart when off");
  });
});

/** A KV whose getMany throws when it reads a key under `prefix`. */
function failingGetMany(raw: Deno.Kv, prefix: string, message: string): Deno.Kv {
  return new Proxy(raw, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "getMany") {
        return (keys: Deno.KvKey[], ...rest: unknown[]) => {
          if (keys.some((k) => k[0] === prefix)) throw new Error(message);
          return (value as (...a: unknown[]) => unknown).apply(target, [keys, ...rest]);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Runs `fn` against an app over `failingGetMany` (`raw` is the KV underneath, which still reads). */
async function withFailingKv(
  prefix: string,
  message: string,
  env: Record<string, string>,
  fn: (t: TestApp, raw: Deno.Kv) => Promise<void>,
): Promise<void> {
  const raw = await Deno.openKv(":memory:");
  try {
    await withTestApp({ kv: failingGetMany(raw, prefix, message), env }, (t) => fn(t, raw));
  } finally {
    raw.close();
  }
}

// The report's first read (the last pass and the cursor) fails; nothing else reads fresh keys.
Deno.test("status page: a failing freshness report is that section's error, the rest renders", () =>
  withFailingKv("fresh", "KV read failed: fresh", {}, async (t) => {
    const data = await collectStatus(t.app);
    assert.deepStrictEqual(data.fresh, { ok: false, error: "KV read failed: fresh" });
    assert.ok(data.sync.ok && data.guilds.ok && data.rest.ok && data.alerts.ok);
    const html = renderMain(data);
    const section = html.match(/<section aria-labelledby="h-fresh">[\s\S]*?<\/section>/)?.[0];
    assert.ok(section, "the freshness section");
    assert.match(section, /<p class="warn" role="status">Unavailable: KV read failed: fresh<\/p>/);
    assert.match(html, />Discord REST health<\/h2>/);
  }));

const ON = {
  SYNC_AUTH_TOKEN: TOKEN,
  DISCORD_CLIENT_SECRET: "client-secret-0123456789",
  SELF_URL: "https://bot.example",
};
const REGISTER_ROUTE = `PUT /applications/${APP_ID}/role-connections/metadata`;

/** The linked roles section's HTML. */
function linkedSection(html: string): string {
  const s = html.match(/<section aria-labelledby="h-linked">[\s\S]*?<\/section>/)?.[0];
  assert.ok(s, "the linked roles section");
  return s;
}

function pass(at: number, linked: PassSummary["linked"]): PassSummary {
  const quiet = passSummary();
  return passSummary({
    at,
    durationMs: 2_000,
    intake: { ...quiet.intake, read: 3, queued: 3 } as PassSummary["intake"],
    linked,
  });
}

Deno.test("status page: linked roles on, records current, linked users and the last pass's figures", () =>
  withTestApp({ env: ON, routes: { [REGISTER_ROUTE]: [] } }, async (t) => {
    const kv = t.deps.kv;
    const now = t.clock.now();
    assert.deepStrictEqual((await registerMetadata(t.deps, APP_ID)).status, "registered");
    for (const id of ["301", "302", "303", "304"]) await saveLinked(kv, id, linkedRecord(now));
    assert.ok(await deleteLinked(kv, "304"));
    const figures = {
      pushes: 1234,
      refreshes: 5,
      failures: 2,
      unlinked: 1,
      applied: 1240,
      notLinked: 7,
      left: 3,
    };
    await kv.set(freshKeys.lastPass(), pass(now - 30_000, figures));

    const data = await collectStatus(t.app);
    assert.ok(data.linked.ok, JSON.stringify(data.linked));
    assert.deepStrictEqual(data.linked.value, {
      enabled: true,
      verificationUrl: "https://bot.example/linked-role",
      redirectUri: "https://bot.example/linked-role/callback",
      registered: { at: now, current: true },
      linkedUsers: 3,
      // The pass's figures as it stored them, with when it ran.
      lastPass: { ok: true, value: { at: now - 30_000, ...figures } },
    });
    const html = renderMain(data);
    const section = linkedSection(html);
    assert.match(section, /<h2 id="h-linked">Linked roles<\/h2>/);
    assert.deepStrictEqual(byId(section, "linked-state"), "on");
    assert.deepStrictEqual(byId(section, "linked-users"), "3");
    assert.deepStrictEqual(
      byId(section, "linked-records"),
      "current registered 2026-11-22 12:00:00 UTC",
    );
    assert.deepStrictEqual(
      byId(section, "linked-verification-url"),
      "https://bot.example/linked-role",
    );
    assert.deepStrictEqual(
      byId(section, "linked-redirect-uri"),
      "https://bot.example/linked-role/callback",
    );
    assert.deepStrictEqual(byId(section, "linked-last-pass"), "2026-11-22 11:59:30 UTC");
    assert.deepStrictEqual(byId(section, "linked-pushes"), "1,234");
    assert.deepStrictEqual(byId(section, "linked-refreshes"), "5");
    assert.deepStrictEqual(byId(section, "linked-failures"), "2");
    assert.ok(
      /id="linked-failures"[^>]*><span class="warn">2<\/span>/.test(section),
      "failures warn",
    );
    assert.deepStrictEqual(byId(section, "linked-unlinked"), "1");
    assert.deepStrictEqual(byId(section, "linked-left"), "3");
    // Every figure labelled by its id.
    for (const id of ["linked-state", "linked-users", "linked-records", "linked-pushes"]) {
      assert.ok(section.includes(`<dt id="${id}-label">`), section);
      assert.ok(section.includes(`aria-labelledby="${id}-label"`), section);
    }

    // The records changed in code since: outdated, with the command to run.
    await kv.set(["linked_roles", "registered"], { fingerprint: "older-records", at: now - 1 });
    const outdated = renderMain(await collectStatus(t.app));
    assert.deepStrictEqual(
      byId(outdated, "linked-records"),
      "outdated: run deno task linked-roles register registered 2026-11-22 11:59:59 UTC",
    );
    assert.match(linkedSection(outdated), /<span class="warn">outdated: run <code>/);

    // /status.json carries the same section.
    const json = await statusJson(t, TOKEN);
    assert.ok(json.linked.ok, JSON.stringify(json.linked));
    assert.deepStrictEqual(json.linked.value.linkedUsers, 3);
    assert.deepStrictEqual(json.linked.value.registered, { at: now - 1, current: false });
    const lastPass = json.linked.value.lastPass;
    assert.ok(lastPass.ok, JSON.stringify(lastPass));
    assert.deepStrictEqual(lastPass.value?.pushes, 1234);
  }));

Deno.test("status page: linked roles with no pass figures yet, and a summary written before them", () =>
  withTestApp({ env: ON }, async (t) => {
    let html = renderMain(await collectStatus(t.app));
    assert.deepStrictEqual(byId(html, "linked-state"), "on");
    assert.deepStrictEqual(byId(html, "linked-users"), "0");
    assert.deepStrictEqual(
      byId(html, "linked-records"),
      "not registered: run deno task linked-roles register",
    );
    assert.match(byId(html, "linked-last-pass"), /No figures yet/);
    assert.ok(!html.includes('id="linked-pushes"'));

    // A pass whose linked stage failed (null), then one stored before the field existed.
    const now = t.clock.now();
    await t.deps.kv.set(freshKeys.lastPass(), pass(now - 5_000, null));
    html = renderMain(await collectStatus(t.app));
    assert.match(byId(html, "linked-last-pass"), /No figures yet/);
    const { linked: _, ...older } = pass(now - 5_000, null);
    await t.deps.kv.set(freshKeys.lastPass(), older);
    const data = await collectStatus(t.app);
    assert.ok(data.linked.ok);
    assert.deepStrictEqual(data.linked.value.lastPass, { ok: true, value: null });
  }));

Deno.test("status page: linked roles off says what to set, and shows no pass figures", () =>
  withTestApp({}, async (t) => {
    const now = t.clock.now();
    await saveLinked(t.deps.kv, "301", linkedRecord(now)); // linked before it was turned off
    await t.deps.kv.set(freshKeys.lastPass(), pass(now - 5_000, null));
    const data = await collectStatus(t.app);
    assert.ok(data.linked.ok);
    assert.deepStrictEqual(data.linked.value.enabled, false);
    assert.deepStrictEqual(data.linked.value.verificationUrl, null);
    const html = renderMain(data);
    const section = linkedSection(html);
    assert.deepStrictEqual(
      byId(section, "linked-state"),
      "off: set DISCORD_CLIENT_SECRET and SELF_URL",
    );
    assert.match(section, /<span class="warn">off: set DISCORD_CLIENT_SECRET and SELF_URL/);
    assert.deepStrictEqual(byId(section, "linked-users"), "1");
    for (const id of ["linked-verification-url", "linked-redirect-uri", "linked-last-pass"]) {
      assert.ok(!section.includes(`id="${id}"`), id);
    }
  }));

Deno.test("status page: linked roles values are escaped", () =>
  withTestApp({ env: ON }, async (t) => {
    const data = await collectStatus(t.app);
    assert.ok(data.linked.ok);
    data.linked.value.verificationUrl = `https://bot.example/linked-role?a=1&b="<script>x</script>`;
    data.linked.value.lastPass = { ok: false, error: "<b>KV</b> & co" };
    const section = linkedSection(renderMain(data));
    assert.ok(!section.includes("<script>"), "no raw markup");
    assert.ok(
      section.includes(
        "https://bot.example/linked-role?a=1&#38;b=&#34;&#60;script&#62;x&#60;/script&#62;",
      ),
      section,
    );
    assert.match(
      section,
      /<p class="warn" role="status">Unavailable: &#60;b&#62;KV&#60;\/b&#62; &#38; co<\/p>/,
    );
  }));

// The linked-user count (two counters read with getMany) fails.
Deno.test("status page: a failing linked-roles read is that section's error, the rest renders", () =>
  withFailingKv("linked_roles", "KV read failed: linked", ON, async (t) => {
    const data = await collectStatus(t.app);
    assert.deepStrictEqual(data.linked, { ok: false, error: "KV read failed: linked" });
    assert.ok(data.sync.ok && data.guilds.ok && data.fresh.ok && data.rest.ok && data.alerts.ok);
    const html = renderMain(data);
    assert.match(
      linkedSection(html),
      /<p class="warn" role="status">Unavailable: KV read failed: linked<\/p>/,
    );
    assert.ok(html.includes(">Freshness (score changes to roles)</h2>"), html);
    assert.match(html, />Discord REST health<\/h2>/);
    assert.match(html, /id="fresh-state"/);
  }));

Deno.test("status page: a failing freshness report leaves the linked section up, its pass figures unavailable", () =>
  withFailingKv("fresh", "KV read failed: fresh", ON, async (t, raw) => {
    await saveLinked(raw, "301", linkedRecord(t.clock.now()));
    const data = await collectStatus(t.app);
    assert.deepStrictEqual(data.fresh, { ok: false, error: "KV read failed: fresh" });
    assert.ok(data.linked.ok, JSON.stringify(data.linked));
    assert.deepStrictEqual(data.linked.value.linkedUsers, 1);
    assert.deepStrictEqual(data.linked.value.lastPass, {
      ok: false,
      error: "KV read failed: fresh",
    });
    const section = linkedSection(renderMain(data));
    assert.deepStrictEqual(byId(section, "linked-users"), "1");
    assert.match(section, /<p class="warn" role="status">Unavailable: KV read failed: fresh<\/p>/);
  }));

/** The role sync's run, 300 of 1,000 done, its chunk started 12 s ago, with level counters. */
function syncRun(now: number, o: Partial<RunRecord> = {}): RunRecord {
  return runRecord({
    kind: SYNC_KIND,
    key: GUILD_ID,
    runId: "run-s",
    state: "running",
    processed: 300,
    total: 1_000,
    counters: { changed: 7, "level.known": 40, "level.exemplary": 3, "level.neutral": 200 },
    updatedAt: now - 1_000,
    chunkStartedAt: now - 12_000,
    ...o,
  });
}

Deno.test("collectStatus: the sync section with no run yet, and the guild it syncs", () =>
  withTestApp({}, async (t) => {
    const data = await collectStatus(t.app);
    assert.equal(data.generatedAt, t.clock.now());
    assert.equal(data.version, t.deps.config.version);
    assert.deepStrictEqual(data.sync, {
      ok: true,
      value: { guildId: GUILD_ID, current: null, chunkSeconds: null, perMinute: [], runs: [] },
    });
    assert.ok(data.guilds.ok);
    assert.deepStrictEqual(data.guilds.value.guilds.map((g) => [g.guildId, g.state]), [
      [GUILD_ID, "idle"],
    ]);
    assert.equal(data.guilds.value.guilds[0].fromEnvironment, true);
  }));

Deno.test("collectStatus: a running sync's chunk time, per-minute series, history and levels", () =>
  withTestApp({}, async (t) => {
    const kv = t.deps.kv;
    const now = t.clock.now();
    const rec = syncRun(now);
    const earlier = syncRun(now, { runId: "run-0", state: "completed", chunk: 4, activeMs: 8_000 });
    const op = kv.atomic().set(keys.jobRun(SYNC_KIND, GUILD_ID), rec);
    historyMutation(op, earlier, now - 60 * MIN);
    seriesMutation(op, { ...rec, processed: 100 }, now - 2 * MIN);
    seriesMutation(op, rec, now - MIN);
    assert.ok((await op.commit()).ok);

    const data = await collectStatus(t.app);
    assert.ok(data.sync.ok, JSON.stringify(data.sync));
    const s = data.sync.value;
    assert.equal(s.current?.runId, "run-s");
    assert.equal(s.current?.state, "running");
    assert.equal(s.chunkSeconds, 12);
    assert.deepStrictEqual(s.perMinute.map((p) => p.processed), [100, 200]);
    assert.deepStrictEqual(s.runs.map((r) => r.runId), ["run-0"]);

    assert.ok(data.guilds.ok);
    const [g] = data.guilds.value.guilds;
    assert.deepStrictEqual([g.state, g.processed, g.total, g.changed], ["running", 300, 1_000, 7]);
    assert.deepStrictEqual(g.levels, [
      { level: "neutral", members: 200 },
      { level: "known", members: 40 },
      { level: "exemplary", members: 3 },
    ]);

    // Between chunks: the last run's average chunk time instead.
    await kv.set(keys.jobRun(SYNC_KIND, GUILD_ID), { ...rec, state: "waiting" });
    const waiting = await collectStatus(t.app);
    assert.ok(waiting.sync.ok);
    assert.equal(waiting.sync.value.chunkSeconds, 2);
  }));

Deno.test("collectStatus: the commands section says the drift, the last attempt and a cooldown", () =>
  withTestApp({}, async (t) => {
    const kv = t.deps.kv;
    const now = t.clock.now();
    let data = await collectStatus(t.app);
    assert.ok(data.commands.ok, JSON.stringify(data.commands));
    assert.deepStrictEqual(
      [data.commands.value.lastSyncAt, data.commands.value.lastAttempt, data.commands.value.drift],
      [null, null, null],
    );
    assert.equal(data.commands.value.commands, t.app.registry.manifest().length);

    const names = { added: ["a"], removed: ["b", "c"], changed: ["d"] };
    const summary = { added: 1, removed: 2, changed: 1, unchanged: 5, names };
    await setDrift(kv, "global", {
      at: now - 5_000,
      inSync: false,
      fingerprint: "f",
      discordFingerprint: "g",
      summary,
    });
    await appendLog(kv, {
      scope: "global",
      outcome: "rate_limited",
      fingerprint: "f",
      calls: 1,
      at: now - 4_000,
      durationMs: 10,
      trigger: "test",
      forced: false,
    });
    await setCooldown(
      kv,
      "global",
      { until: now + 60_000, retryAfterMs: 60_000, setAt: now, error: "429" },
      t.clock,
    );
    data = await collectStatus(t.app);
    assert.ok(data.commands.ok);
    assert.deepStrictEqual(data.commands.value.drift, {
      at: now - 5_000,
      inSync: false,
      summary: "1 only in code, 2 only on Discord, 1 changed",
    });
    assert.deepStrictEqual(data.commands.value.lastAttempt, {
      at: now - 4_000,
      result: "rate_limited",
    });
    assert.equal(data.commands.value.cooldownUntil, now + 60_000);
  }));

Deno.test("collectStatus: the backups section per guild, the configured one even with none", () =>
  withTestApp({}, async (t) => {
    const kv = t.deps.kv;
    const other = "200000000000000009";
    const now = t.clock.now();
    const limits = { maxPerGuild: 10, cooldownS: 0, retentionDays: 0 };
    const bytes = canonicalBytes(sampleSnapshot());
    const older = await saveBackup(
      kv,
      { ...newBackup("aaaaaaaa", now - 2_000), guildId: other },
      bytes,
      limits,
      now,
    );
    const newer = await saveBackup(
      kv,
      { ...newBackup("bbbbbbbb", now - 1_000), guildId: other },
      bytes,
      limits,
      now,
    );
    await setPinned(kv, other, "aaaaaaaa", true);

    const data = await collectStatus(t.app);
    assert.ok(data.backups.ok, JSON.stringify(data.backups));
    const byGuild = new Map(data.backups.value.guilds.map((g) => [g.guildId, g]));
    assert.deepStrictEqual(byGuild.get(GUILD_ID), {
      guildId: GUILD_ID,
      count: 0,
      pinned: 0,
      bytes: 0,
      latest: null,
    });
    assert.deepStrictEqual(byGuild.get(other), {
      guildId: other,
      count: 2,
      pinned: 1,
      bytes: older.sizeCompressed + newer.sizeCompressed,
      latest: {
        id: "bbbbbbbb",
        label: "label bbbbbbbb",
        at: now - 1_000,
        bytes: newer.sizeCompressed,
      },
    });
    assert.deepStrictEqual(data.backups.value.restores, []);
  }));

Deno.test("collectStatus: REST figures of this instance without metrics; recent alerts", () =>
  withTestApp({}, async (t) => {
    await raiseAlert(t.deps, { cause: "test:one", title: "Something broke", detail: "details" });
    const data = await collectStatus(t.app);
    assert.ok(data.rest.ok, JSON.stringify(data.rest));
    const stats = t.deps.rest.stats();
    assert.equal(data.rest.value.scope, "this instance");
    assert.equal(data.rest.value.requests, stats.requests);
    assert.deepStrictEqual(data.rest.value.invalid, {
      used: stats.invalidRequests.used,
      limit: stats.invalidRequests.limit,
    });
    assert.ok(data.alerts.ok);
    assert.deepStrictEqual(data.alerts.value.map((a) => [a.cause, a.title]), [
      ["test:one", "Something broke"],
    ]);
  }));
