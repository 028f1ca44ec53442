/**
 * The status page's "Linked roles" section: on/off, the URLs to paste in the developer portal,
 * the metadata records' registration, the linked-user count and the last pass's figures, read
 * from KV as the bot writes them (figures by id) and from /status.json.
 */
import assert from "node:assert/strict";
import { APP_ID, createTestApp } from "../_harness.ts";
import { collectStatus } from "../../lib/status/data.ts";
import { renderMain } from "../../lib/status/html.ts";
import { freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import type { PassSummary } from "../../lib/sync/fresh_pass.ts";
import { registerMetadata } from "../../lib/linked_roles/metadata.ts";
import { deleteLinked, saveLinked } from "../../lib/linked_roles/store.ts";
import { linkedRecord, passSummary, statusJson } from "./_fixture.ts";

const TOKEN = "status-test-token-0123456789";
const ON = {
  SYNC_AUTH_TOKEN: TOKEN,
  DISCORD_CLIENT_SECRET: "client-secret-0123456789",
  SELF_URL: "https://bot.example",
};
const REGISTER_ROUTE = `PUT /applications/${APP_ID}/role-connections/metadata`;

/** The text of the element with this id (tags stripped); the test fails when it is absent. */
function byId(html: string, id: string): string {
  const m = html.match(new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(dd|p)>`));
  assert.ok(m, `#${id} in the page`);
  return m[1].replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim();
}

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

Deno.test("status page: linked roles on, records current, linked users and the last pass's figures", async () => {
  const t = await createTestApp({ env: ON, routes: { [REGISTER_ROUTE]: [] } });
  try {
    const kv = t.deps.kv;
    const now = t.clock.now();
    assert.deepStrictEqual((await registerMetadata(t.deps, APP_ID)).status, "registered");
    for (const id of ["301", "302", "303", "304"]) await saveLinked(kv, id, linkedRecord(now));
    assert.ok(await deleteLinked(kv, "304"));
    await kv.set(
      freshKeys.lastPass(),
      pass(now - 30_000, {
        pushes: 1234,
        refreshes: 5,
        failures: 2,
        unlinked: 1,
        applied: 1240,
        notLinked: 7,
        left: 3,
      }),
    );

    const data = await collectStatus(t.app);
    assert.ok(data.linked.ok, JSON.stringify(data.linked));
    assert.deepStrictEqual(data.linked.value, {
      enabled: true,
      verificationUrl: "https://bot.example/linked-role",
      redirectUri: "https://bot.example/linked-role/callback",
      registered: { at: now, current: true },
      linkedUsers: 3,
      lastPass: {
        ok: true,
        value: {
          at: now - 30_000,
          pushes: 1234,
          refreshes: 5,
          failures: 2,
          unlinked: 1,
          applied: 1240,
          notLinked: 7,
          left: 3,
        },
      },
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
  } finally {
    await t.close();
  }
});

Deno.test("status page: linked roles with no pass figures yet, and a summary written before them", async () => {
  const t = await createTestApp({ env: ON });
  try {
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
  } finally {
    await t.close();
  }
});

Deno.test("status page: linked roles off says what to set, and shows no pass figures", async () => {
  const t = await createTestApp();
  try {
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
  } finally {
    await t.close();
  }
});

Deno.test("status page: linked roles values are escaped", async () => {
  const t = await createTestApp({ env: ON });
  try {
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
  } finally {
    await t.close();
  }
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

Deno.test("status page: a failing linked-roles read is that section's error, the rest renders", async () => {
  const raw = await Deno.openKv(":memory:");
  // The linked-user count (two counters read with getMany) fails.
  const t = await createTestApp({
    kv: failingGetMany(raw, "linked_roles", "KV read failed: linked"),
    env: ON,
  });
  try {
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
  } finally {
    await t.close();
    raw.close();
  }
});

Deno.test("status page: a failing freshness report leaves the linked section up, its pass figures unavailable", async () => {
  const raw = await Deno.openKv(":memory:");
  const t = await createTestApp({
    kv: failingGetMany(raw, "fresh", "KV read failed: fresh"),
    env: ON,
  });
  try {
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
  } finally {
    await t.close();
    raw.close();
  }
});
