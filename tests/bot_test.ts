import parsePrometheusTextFormat from "parse-prometheus-text-format";
import assert from "node:assert/strict";
import { APP_ID, commandInteraction, fakeDiscordFetch, GUILD_ID, signingKeys } from "./_harness.ts";
import { testConfig } from "./_config.ts";
import { composeBot } from "../lib/bot.ts";
import { createHandler } from "../routes/mod.ts";
import { silentLogger } from "../lib/log/log.ts";

const TOKEN = "bot-test-token-0123456789abcdef";

type Family = { name: string; metrics: { labels?: Record<string, string>; value?: string }[] };

const total = (families: Family[], name: string, labels: Record<string, string> = {}) =>
  (families.find((f) => f.name === name)?.metrics ?? [])
    .filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? 0), 0);

Deno.test("composeBot, as mod.ts and the bench run it, counts interactions, KV and REST in metrics", async () => {
  const keys = await signingKeys();
  const kv = await Deno.openKv(":memory:");
  const fake = fakeDiscordFetch({ [`GET /guilds/${GUILD_ID}/roles`]: [] });
  const bot = await composeBot({
    config: testConfig({
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      SYNC_AUTH_TOKEN: TOKEN,
      // Configured, so start-up reads no generated secret from KV: the KV count is the gate's.
      SIGNING_SECRET: "bot-test-signing-secret-0123456789",
    }),
    kv,
    fetch: fake.fetch,
    log: silentLogger,
    flushIntervalMs: 0,
  });
  const handle = createHandler(bot.app);
  const post = async (payload: unknown) => {
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await handle(
      new Request("http://bot.test/interactions", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-signature-ed25519": await keys.sign(new TextEncoder().encode(timestamp + body)),
          "x-signature-timestamp": timestamp,
        },
        body,
      }),
    );
    assert.deepStrictEqual(res.status, 200);
    return await res.json();
  };
  try {
    const pong = await post({
      id: "400000000000000001",
      application_id: APP_ID,
      type: 1,
      token: "t",
      version: 1,
    });
    assert.deepStrictEqual(pong, { type: 1 });
    await post(commandInteraction("help"));
    // The REST client's onEvent hook feeds the same registry.
    await bot.deps.rest.get(`/guilds/${GUILD_ID}/roles`);
    assert.deepStrictEqual(fake.calls.length, 1, "the REST client uses the given fetch");

    // A command with side effects: the gate's one KV commit goes through the counting KV.
    await post(commandInteraction("ethos_sync_status"));
    const res = await handle(
      new Request("http://bot.test/metrics", { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    assert.deepStrictEqual(res.status, 200);
    const families = parsePrometheusTextFormat(await res.text()) as Family[];
    assert.deepStrictEqual(
      total(families, "discord_interactions_total", { type: "ping", outcome: "pong" }),
      1,
    );
    assert.deepStrictEqual(
      total(families, "discord_interactions_total", { type: "application_command", outcome: "ok" }),
      2,
    );
    assert.deepStrictEqual(total(families, "discord_rest_requests_total", { status: "200" }), 1);
    assert.ok(
      total(families, "deno_kv_operations_total", { op: "atomic" }) >= 1,
      "the gate's KV commit is counted",
    );
  } finally {
    await bot.drain("test over", 1_000);
    assert.ok(bot.app.shutdown.signal.aborted, "drain aborts the app's shutdown signal");
    kv.close();
  }
});

Deno.test("mod.ts and the interactions bench server build the bot only through composeBot", async () => {
  // Both entry points must serve the same composition; a second assembly would drift silently.
  for (const file of ["../mod.ts", "../bench/interactions_server.ts"]) {
    const source = await Deno.readTextFile(new URL(file, import.meta.url));
    assert.ok(source.includes("composeBot("), `${file} calls composeBot`);
    assert.ok(source.includes("createHandler("), `${file} serves routes/mod.ts's createHandler`);
    for (const assembly of ["createApp(", "new RestClient(", "new Metrics(", "countingKv("]) {
      assert.ok(
        !source.includes(assembly),
        `${file} does not assemble the bot itself (${assembly})`,
      );
    }
  }
});
