/**
 * The status page's Freshness section: lag samples and backlog entries written the way the
 * freshness pass writes them, read back from the rendered HTML (the chart's per-minute data
 * attributes and the figures by id) and from /status.json.
 */
import assert from "node:assert/strict";
import { createTestApp, GUILD_ID } from "../_harness.ts";
import { collectStatus } from "../../lib/status/data.ts";
import { renderMain } from "../../lib/status/html.ts";
import { recordLags } from "../../lib/sync/fresh_lag.ts";
import { freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import type { PassSummary } from "../../lib/sync/fresh_pass.ts";
import { statusJson } from "./_fixture.ts";

const MIN = 60_000;
const TOKEN = "status-test-token-0123456789";

/** The text of the element with this id (tags stripped). */
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

Deno.test("status page: the freshness section charts the hour per minute, the backlog and the p95", async () => {
  const t = await createTestApp({
    env: { SYNC_AUTH_TOKEN: TOKEN, SELF_URL: "https://bot.example" },
  });
  try {
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
  } finally {
    await t.close();
  }
});

Deno.test("status page: freshness with nothing recorded yet, a feed error, and turned off", async () => {
  const t = await createTestApp();
  try {
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
  } finally {
    await t.close();
  }
  const off = await createTestApp({ env: { SYNC_FRESHNESS: "false" } });
  try {
    const html = renderMain(await collectStatus(off.app));
    assert.deepStrictEqual(byId(html, "fresh-state"), "off (SYNC_FRESHNESS=false)");
    assert.ok(!html.includes("fresh-lag-chart"), "no chart when off");
  } finally {
    await off.close();
  }
});

Deno.test("status page: a failing freshness report is that section's error, the rest renders", async () => {
  const raw = await Deno.openKv(":memory:");
  // The report's first read (the last pass and the cursor) fails; nothing else reads fresh keys.
  const kv = new Proxy(raw, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "getMany") {
        return (keys: Deno.KvKey[], ...rest: unknown[]) => {
          if (keys.some((k) => k[0] === "fresh")) throw new Error("KV read failed: fresh");
          return (value as (...a: unknown[]) => unknown).apply(target, [keys, ...rest]);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const t = await createTestApp({ kv });
  try {
    const data = await collectStatus(t.app);
    assert.deepStrictEqual(data.fresh, { ok: false, error: "KV read failed: fresh" });
    assert.ok(data.sync.ok && data.guilds.ok && data.rest.ok && data.alerts.ok);
    const html = renderMain(data);
    const section = html.match(/<section aria-labelledby="h-fresh">[\s\S]*?<\/section>/)?.[0];
    assert.ok(section, "the freshness section");
    assert.match(section, /<p class="warn" role="status">Unavailable: KV read failed: fresh<\/p>/);
    assert.match(html, />Discord REST health<\/h2>/);
  } finally {
    await t.close();
    raw.close();
  }
});
