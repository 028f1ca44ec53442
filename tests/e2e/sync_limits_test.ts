/**
 * Role sync end to end against the write buckets' limits, with the REST client keeping its bucket
 * state in KV as the deployed bot does: tight buckets draw no 429, and the limits learned from
 * Discord's headers carry over chunk boundaries, to a new client (a new isolate) too.
 */
import { assert, assertEquals } from "../_assert.ts";
import { startEmulator } from "../emulator/server.ts";
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
    assertEquals(r.body.state, "completed");
    assertEquals(outOfSync(emu), []);
    assertEquals(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
    assert(emu.stats.writesTo("PATCH /guilds/:guild/members/:user").length > 0);
    assert(emu.stats.writes.some((w) => w.route.endsWith("/roles/:role")));
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
    assert(needed > 100);
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
        assertEquals(r.status, 200);
        state = String(r.body.state);
      } finally {
        await bot.close();
      }
    }
    assert(chunks >= 2, `${chunks} chunk(s)`);
    assertEquals(outOfSync(emu), []);
    assertEquals(emu.stats.writes.length, needed);
    assertEquals(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  } finally {
    kv.close();
    await emu.close();
  }
});
