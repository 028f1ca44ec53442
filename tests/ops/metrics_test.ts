import parsePrometheusTextFormat from "parse-prometheus-text-format";
import assert from "node:assert/strict";
import { commandInteraction, createTestApp, GUILD_ID } from "../_harness.ts";
import { type FreshPassFigures, Metrics } from "../../lib/ops/metrics.ts";
import { deleteLinked, saveLinked } from "../../lib/linked_roles/store.ts";
import type { PassSummary } from "../../lib/sync/fresh_pass.ts";
import { passSummary } from "../status/_fixture.ts";
import { linkedRecord } from "../linked_roles/_linked.ts";

const TOKEN = "metrics-test-token-0123456789";

type Family = {
  name: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
  }[];
};

async function scrape(t: Awaited<ReturnType<typeof createTestApp>>): Promise<Family[]> {
  const res = await t.handle(
    new Request("http://bot.test/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }),
  );
  assert.deepStrictEqual(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  return parsePrometheusTextFormat(await res.text()) as Family[];
}

function value(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) return 0;
  return family.metrics
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    // The parser gives histograms as buckets only (no labels): count them by their +Inf bucket.
    .reduce((sum, m) => sum + Number(m.value ?? m.buckets?.["+Inf"] ?? 0), 0);
}

/**
 * The one sample of `name` with exactly these labels: a missing family or sample fails the test
 * (it does not read as 0, so a renamed or never-registered metric cannot pass as "nothing yet").
 */
function exact(families: Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `${name} is missing from the scrape`);
  const samples = family.metrics.filter((m) =>
    Object.keys(m.labels ?? {}).length === Object.keys(labels).length &&
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
  );
  assert.deepStrictEqual(samples.length, 1, `${name} ${JSON.stringify(labels)}: one sample`);
  assert.ok(samples[0].value !== undefined, `${name} has a value`);
  return Number(samples[0].value);
}

/** A pass summary as lib/sync/fresh_pass.ts stores it, with these linked-users figures. */
function passWith(linked: PassSummary["linked"]): PassSummary {
  return passSummary({ linked });
}

const LINKED_COUNTERS = [
  "ethos_linked_pushes_total",
  "ethos_linked_push_failures_total",
  "ethos_linked_token_refreshes_total",
  "ethos_linked_unlinked_total",
];

Deno.test("GET /metrics: bearer only, fail closed without a configured token", async () => {
  const open = await createTestApp({ metrics: new Metrics() });
  const closed = await createTestApp({ metrics: new Metrics(), env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const disabled = await open.handle(
      new Request("http://bot.test/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    assert.deepStrictEqual(disabled.status, 401);
    await disabled.body?.cancel();
    for (const auth of [undefined, "Bearer wrong-token-0123456789", `Basic ${TOKEN}`]) {
      const res = await closed.handle(
        new Request("http://bot.test/metrics", { headers: auth ? { authorization: auth } : {} }),
      );
      assert.deepStrictEqual(res.status, 401, String(auth));
      await res.body?.cancel();
    }
  } finally {
    await open.close();
    await closed.close();
  }
});

Deno.test("GET /metrics parses as Prometheus text and moves with real activity", async () => {
  const t = await createTestApp({
    metrics: new Metrics(),
    env: { SYNC_AUTH_TOKEN: TOKEN },
    routes: { [`GET /guilds/${GUILD_ID}/roles`]: [] },
  });
  try {
    const before = await scrape(t);
    assert.deepStrictEqual(value(before, "discord_interactions_total"), 0);
    for (const name of ["help", "nope"]) {
      const res = await t.post(commandInteraction(name));
      await res.body?.cancel();
    }
    await t.deps.rest.get(`/guilds/${GUILD_ID}/roles`);
    const after = await scrape(t);
    assert.deepStrictEqual(
      value(after, "discord_interactions_total", { type: "application_command", outcome: "ok" }),
      1,
    );
    assert.deepStrictEqual(value(after, "discord_interactions_total", { outcome: "unknown" }), 1);
    assert.deepStrictEqual(
      value(after, "discord_interaction_duration_seconds"),
      2,
    );
    assert.deepStrictEqual(value(after, "discord_rest_requests_total", { status: "200" }), 1);
    assert.ok(value(after, "deno_kv_operations_total") > 0, "KV operations are counted");
    // Prometheus naming: counters end in _total, durations in _seconds.
    for (const f of after) {
      if (f.type === "COUNTER") assert.ok(f.name.endsWith("_total"), f.name);
      if (f.name.includes("duration")) assert.ok(f.name.endsWith("_seconds"), f.name);
    }
  } finally {
    await t.close();
  }
});

Deno.test("GET /metrics aggregates the snapshots of every isolate sharing the KV", async () => {
  const kv = await Deno.openKv(":memory:");
  const other = new Metrics();
  other.interactions.inc({ type: "ping", outcome: "pong" }, 5);
  other.rest({
    type: "rate_limited",
    method: "GET",
    route: "GET /x",
    bucket: "b",
    scope: "global",
    retryAfterMs: 10,
  });
  await other.flush(kv);
  const t = await createTestApp({ kv, metrics: new Metrics(), env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const res = await t.post({
      id: "400000000000009999",
      application_id: "100000000000000001",
      type: 1,
      token: "t",
      version: 1,
    });
    await res.body?.cancel();
    const families = await scrape(t);
    assert.deepStrictEqual(value(families, "discord_interactions_total", { type: "ping" }), 6);
    assert.deepStrictEqual(
      value(families, "discord_rest_rate_limited_total", { scope: "global" }),
      1,
    );
  } finally {
    await t.close();
    kv.close();
  }
});

Deno.test("sync chunks feed member outcomes (counter deltas) and chunk durations", async () => {
  const m = new Metrics();
  const base = { counters: {} } as never;
  m.syncChunk({
    kind: "sync",
    key: "g",
    before: { counters: { changed: 5, "skipped.bot": 1 } } as never,
    after: {
      counters: { changed: 12, unchanged: 30, "skipped.bot": 2, "skipped.role_above_bot": 3 },
    } as never,
    durationMs: 42_000,
  });
  m.syncChunk({ kind: "sync", key: "g", before: base, after: base, durationMs: 1_000 });
  m.syncChunk({
    kind: "sync",
    key: "h",
    before: base,
    after: { counters: { changed: 3 } } as never,
    durationMs: 5_000,
  });
  const text = await m.registry.metrics();
  const families = parsePrometheusTextFormat(text) as Family[];
  assert.deepStrictEqual(value(families, "ethos_sync_members_total", { outcome: "changed" }), 10);
  // Labelled by guild: each guild's own figures.
  assert.deepStrictEqual(
    value(families, "ethos_sync_members_total", { outcome: "changed", guild: "g" }),
    7,
  );
  assert.deepStrictEqual(
    value(families, "ethos_sync_members_total", { outcome: "changed", guild: "h" }),
    3,
  );
  assert.deepStrictEqual(value(families, "ethos_sync_members_total", { outcome: "unchanged" }), 30);
  assert.deepStrictEqual(value(families, "ethos_sync_members_total", { outcome: "skipped" }), 4);
  // The parser keeps no labels on histograms: the chunk counts per guild, from the text itself.
  const counts = Object.fromEntries(
    [...text.matchAll(/^ethos_sync_chunk_duration_seconds_count\{guild="(\w+)"\} (\d+)$/gm)]
      .map((m) => [m[1], Number(m[2])]),
  );
  assert.deepStrictEqual(counts, { g: 2, h: 1 });
});

Deno.test("freshness passes feed the linked-roles counters (pushes, failures, refreshes, unlinked)", async () => {
  const m = new Metrics();
  const linked = (pushes: number, refreshes: number, failures: number, unlinked: number) => ({
    pushes,
    refreshes,
    failures,
    unlinked,
    applied: pushes + 1,
    notLinked: 4,
    left: failures,
  });
  // Before any pass: every counter present, at 0.
  let families = parsePrometheusTextFormat(await m.registry.metrics()) as Family[];
  for (const name of LINKED_COUNTERS) assert.deepStrictEqual(exact(families, name), 0, name);
  m.freshPass(passWith(linked(7, 2, 3, 1)));
  m.freshPass(passWith(null)); // linked roles off, or their stage failed: nothing counted
  const old: FreshPassFigures = { intake: { error: "Ethos 503" }, guilds: [] }; // no `linked`
  m.freshPass(old);
  m.freshPass(passWith(linked(5, 0, 1, 2)));
  families = parsePrometheusTextFormat(await m.registry.metrics()) as Family[];
  assert.deepStrictEqual(exact(families, "ethos_linked_pushes_total"), 12);
  assert.deepStrictEqual(exact(families, "ethos_linked_token_refreshes_total"), 2);
  assert.deepStrictEqual(exact(families, "ethos_linked_push_failures_total"), 4);
  assert.deepStrictEqual(exact(families, "ethos_linked_unlinked_total"), 3);
  for (const name of LINKED_COUNTERS) {
    assert.deepStrictEqual(families.find((f) => f.name === name)?.type, "COUNTER", name);
  }
  // The intake figures still count alongside (the error pass counted once).
  assert.deepStrictEqual(exact(families, "ethos_fresh_feed_entries_total", { kind: "error" }), 1);
});

Deno.test("GET /metrics: linked users and linked roles on/off as gauges read at scrape time, counters aggregated", async () => {
  const t = await createTestApp({
    metrics: new Metrics(),
    env: {
      SYNC_AUTH_TOKEN: TOKEN,
      DISCORD_CLIENT_SECRET: "client-secret-0123456789",
      SELF_URL: "https://bot.example",
    },
  });
  const off = await createTestApp({ metrics: new Metrics(), env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    let families = await scrape(t);
    assert.deepStrictEqual(exact(families, "ethos_linked_roles_enabled"), 1);
    assert.deepStrictEqual(exact(families, "ethos_linked_users"), 0);
    assert.deepStrictEqual(families.find((f) => f.name === "ethos_linked_users")?.type, "GAUGE");

    const now = t.clock.now();
    const record = linkedRecord(now);
    for (const id of ["301", "302", "303"]) await saveLinked(t.deps.kv, id, record);
    await saveLinked(t.deps.kv, "302", { ...record, pushedAt: now + 1 }); // again: still one
    assert.ok(await deleteLinked(t.deps.kv, "303"));
    t.deps.metrics!.freshPass(
      passWith({
        pushes: 9,
        refreshes: 1,
        failures: 2,
        unlinked: 1,
        applied: 9,
        notLinked: 0,
        left: 2,
      }),
    );
    families = await scrape(t);
    assert.deepStrictEqual(exact(families, "ethos_linked_users"), 2);
    assert.deepStrictEqual(exact(families, "ethos_linked_pushes_total"), 9);
    assert.deepStrictEqual(exact(families, "ethos_linked_push_failures_total"), 2);
    assert.deepStrictEqual(exact(families, "ethos_linked_token_refreshes_total"), 1);
    assert.deepStrictEqual(exact(families, "ethos_linked_unlinked_total"), 1);

    const offFamilies = await scrape(off);
    assert.deepStrictEqual(exact(offFamilies, "ethos_linked_roles_enabled"), 0);
    assert.deepStrictEqual(exact(offFamilies, "ethos_linked_users"), 0);
  } finally {
    await t.close();
    await off.close();
  }
});

Deno.test("the strict metric reader fails on a missing metric rather than reading 0", () => {
  const families = parsePrometheusTextFormat(
    "# HELP a_total A.\n# TYPE a_total counter\na_total 3\n",
  ) as Family[];
  assert.deepStrictEqual(exact(families, "a_total"), 3);
  let failed = false;
  try {
    exact(families, "ethos_linked_pushes_total");
  } catch {
    failed = true;
  }
  assert.ok(failed, "a missing metric fails");
});
