import { assert, assertEquals } from "../_assert.ts";
import { membersNeedingChange, outOfSync, startFixture, writesByMember } from "./sync_helpers.ts";

Deno.test("sync: a complete run, chunks forced small and self-chained, ends in sync", async () => {
  const fx = await startFixture({ guilds: [{ members: 300 }] }, {
    env: { AUTO_CONTINUE_CHUNKS: "true", SYNC_CHUNK_SIZE: "40" },
  });
  try {
    const { emu, bot } = fx;
    const needed = membersNeedingChange(emu);
    assert(needed > 50, `the seed should leave members out of sync (${needed})`);
    const res = await bot.trigger({});
    assertEquals(res.status, 202, JSON.stringify(res.body));
    const done = await bot.waitFor();
    await bot.settle();
    assertEquals(outOfSync(emu), []);
    assert(done.chunk >= 8, `chunks: ${done.chunk}`);
    assertEquals(done.processed, emu.state.guild("200000000000000001").members.size);
    assertEquals(done.counters["changed"], needed);
    assertEquals(emu.stats.noopRoleWrites(), []);
    const perMember = writesByMember(emu);
    assertEquals(perMember.size, needed);
    assertEquals(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  } finally {
    await fx.close();
  }
});
