import assert from "node:assert/strict";
import { membersNeedingChange, outOfSync, startFixture, writesByMember } from "./sync_helpers.ts";

Deno.test("sync: a complete run, chunks forced small and self-chained, ends in sync", async () => {
  const fx = await startFixture({ guilds: [{ members: 300 }] }, {
    env: { AUTO_CONTINUE_CHUNKS: "true", SYNC_CHUNK_SIZE: "40" },
  });
  try {
    const { emu, bot } = fx;
    const needed = membersNeedingChange(emu);
    assert.ok(needed > 50, `the seed should leave members out of sync (${needed})`);
    const res = await bot.trigger({});
    assert.deepStrictEqual(res.status, 202, JSON.stringify(res.body));
    const done = await bot.waitFor();
    await bot.settle();
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.ok(done.chunk >= 8, `chunks: ${done.chunk}`);
    assert.deepStrictEqual(done.processed, emu.state.guild("200000000000000001").members.size);
    assert.deepStrictEqual(done.counters["changed"], needed);
    assert.deepStrictEqual(emu.stats.noopRoleWrites(), []);
    const perMember = writesByMember(emu);
    assert.deepStrictEqual(perMember.size, needed);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  } finally {
    await fx.close();
  }
});
