/**
 * Role sync end to end against the write buckets' limits, with the REST client keeping its bucket
 * state in KV as the deployed bot does: tight buckets draw no 429, and the limits learned from
 * Discord's headers carry over chunk boundaries, to a new client (a new isolate) too.
 */
import assert from "node:assert/strict";
import { startEmulator, uniformLimits } from "../emulator/server.ts";
import { mapEmulatedGuild } from "../emulator/bot_env.ts";
import { collectStatus } from "../../lib/status/data.ts";
import { renderMain } from "../../lib/status/html.ts";

const SECOND = "200000000000000002";
import { membersNeedingChange, outOfSync, startBot, startFixture } from "./sync_helpers.ts";

Deno.test("sync e2e: write buckets of 5 per second: both busy, no 429", async () => {
  const tight = { limit: 5, windowMs: 1000 };
  const fx = await startFixture({
    guilds: [{ members: 150 }],
    limits: { global: 50, memberPatch: tight, memberRole: tight },
  }, { restKv: true, env: { SYNC_CHUNK_SIZE: "1000" } });
  try {
    const { emu, bot } = fx;
    const r = await bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed");
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
    assert.ok(emu.stats.writesTo("PATCH /guilds/:guild/members/:user").length > 0);
    assert.ok(emu.stats.writes.some((w) => w.route.endsWith("/roles/:role")));
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: learned limits carry over chunks on new isolates: one call per member", async () => {
  // Every route at 50/s; the bot is configured for Discord's reported 10 per 10 s. At those rates
  // a split sends members with two changes by role calls: two calls where one PATCH does.
  const emu = await startEmulator({ uniformRate: 50, guilds: [{ members: 500 }] });
  const kv = await Deno.openKv(":memory:");
  try {
    const needed = membersNeedingChange(emu);
    assert.ok(needed > 100);
    const env = {
      SYNC_CHUNK_SIZE: "1000",
      SYNC_MAX_CHUNK_MS: "1000",
      SYNC_PATCH_LIMIT: "10/10s",
      SYNC_ROLE_LIMIT: "10/10s",
    };
    let chunks = 0;
    for (let state = ""; state !== "completed" && chunks < 20; chunks++) {
      // Each chunk on a new bot (REST client, app) over the same KV, as on a new isolate.
      const bot = await startBot(emu, { kv, restKv: true, serve: false, env });
      try {
        const r = await bot.trigger({}, "?wait=true");
        assert.deepStrictEqual(r.status, 200);
        state = String(r.body.state);
      } finally {
        await bot.close();
      }
    }
    assert.ok(chunks >= 2, `${chunks} chunk(s)`);
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(emu.stats.writes.length, needed);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  } finally {
    kv.close();
    await emu.close();
  }
});

Deno.test("sync e2e: two guilds on two isolates at once share the global limit: no global 429", async () => {
  // Every bucket far above the global limit, so only the one global budget can bind; each
  // isolate alone would send at the full 40/s, together twice that without the shared budget.
  const emu = await startEmulator({
    limits: { ...uniformLimits(1000), global: 40 },
    guilds: [{ members: 120 }, { id: SECOND, members: 120 }],
  });
  const kv = await Deno.openKv(":memory:");
  const env = { SYNC_CHUNK_SIZE: "1000", DISCORD_GLOBAL_RATE_LIMIT: "40" };
  const a = await startBot(emu, { kv, restKv: true, serve: false, env });
  const b = await startBot(emu, { kv, restKv: true, serve: false, env });
  try {
    await mapEmulatedGuild(b.deps, SECOND, emu.state.guild(SECOND).ethosRoles!);
    const needed = membersNeedingChange(emu) + membersNeedingChange(emu, SECOND);
    const runs = Promise.all([
      a.trigger({}, "?wait=true"),
      b.trigger({ guildId: SECOND }, "?wait=true"),
    ]);
    // While both run, the status page shows two isolates on the global limit's timeline.
    let done = false;
    runs.finally(() => (done = true));
    let seen = 0;
    while (!done) {
      const data = await collectStatus(a.app);
      if (data.rest.ok) seen = Math.max(seen, data.rest.value.globalBudget?.clients ?? 0);
      if (seen === 2) assert.ok(renderMain(data).includes("2 isolate(s) sending"));
      await new Promise((r) => setTimeout(r, 100));
    }
    const [ra, rb] = await runs;
    assert.deepStrictEqual(seen, 2);
    assert.deepStrictEqual([ra.body.state, rb.body.state], ["completed", "completed"]);
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(outOfSync(emu, SECOND), []);
    assert.deepStrictEqual(emu.stats.writes.length, needed);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
    // Both isolates claimed from the one timeline.
    for (const bot of [a, b]) assert.ok((bot.deps.rest.stats().globalBudget?.claims ?? 0) > 0);
  } finally {
    await a.close();
    await b.close();
    kv.close();
    await emu.close();
  }
});
