import assert from "node:assert/strict";
import { createTestApp } from "../_harness.ts";
import { guildDataKeys, guildRetention } from "../../lib/guilds/retention.ts";
import { getSetup, updateSetup } from "../../lib/guilds/setup.ts";
import { readAudit } from "../../lib/audit/mod.ts";

const GONE = "200000000000000002";
const STAYS = "200000000000000003";
const DAY = 86_400_000;

/** One entry under every prefix and key of a guild's removable data. */
async function seed(kv: Deno.Kv, guildId: string) {
  const { prefixes, keys } = guildDataKeys(guildId);
  for (const p of prefixes) await kv.set([...p, "300000000000000001"], 1);
  for (const k of keys) await kv.set(k, { any: "value" });
  return prefixes.length + keys.length;
}

async function count(kv: Deno.Kv, guildId: string) {
  const { prefixes, keys } = guildDataKeys(guildId);
  let n = 0;
  for (const p of prefixes) for await (const _ of kv.list({ prefix: p })) n++;
  for (const e of await kv.getMany(keys)) if (e.versionstamp !== null) n++;
  return n;
}

Deno.test("guild retention: a guild left more than GUILD_RETENTION_DAYS ago loses its sync data, once", async () => {
  const t = await createTestApp({ env: { GUILD_RETENTION_DAYS: "30" } });
  try {
    const kv = t.deps.kv;
    const seeded = await seed(kv, GONE);
    await seed(kv, STAYS);
    for (const g of [GONE, STAYS]) {
      await updateSetup(t.deps, g, { id: "1" }, "map", (s) => ({ ...s, schedule: "hourly" }));
    }
    // Both left; only one of them long enough ago.
    await updateSetup(t.deps, GONE, { id: "system" }, "inactive", (s) => ({ ...s, active: false }));
    t.clock.advance(20 * DAY);
    await updateSetup(
      t.deps,
      STAYS,
      { id: "system" },
      "inactive",
      (s) => ({ ...s, active: false }),
    );
    t.clock.advance(11 * DAY);

    const r = await guildRetention(t.deps);
    assert.deepStrictEqual(r.removed, [{ guildId: GONE, entries: seeded }]);
    assert.deepStrictEqual(await count(kv, GONE), 0);
    assert.deepStrictEqual(await count(kv, STAYS), seeded, "left 11 days ago: kept");
    // The setup stays (a re-invite finds its roles), noting the removal; the audit log says so.
    const setup = (await getSetup(kv, GONE))!;
    assert.deepStrictEqual([setup.active, setup.schedule, setup.dataRemovedAt], [
      false,
      "hourly",
      t.clock.now(),
    ]);
    const { entries } = await readAudit(kv, GONE, { limit: 10 });
    assert.ok(
      entries.some((e) => e.action === "setup.data_removed" && e.detail.entries === seeded),
    );

    // Runs once per departure.
    assert.deepStrictEqual((await guildRetention(t.deps)).removed, []);
  } finally {
    await t.close();
  }
});

Deno.test("guild retention: 0 keeps everything; active guilds are never touched", async () => {
  const t = await createTestApp({ env: { GUILD_RETENTION_DAYS: "0" } });
  try {
    const seeded = await seed(t.deps.kv, GONE);
    await updateSetup(t.deps, GONE, { id: "system" }, "inactive", (s) => ({ ...s, active: false }));
    t.clock.advance(400 * DAY);
    assert.deepStrictEqual((await guildRetention(t.deps)).removed, []);
    assert.deepStrictEqual(await count(t.deps.kv, GONE), seeded);
  } finally {
    await t.close();
  }
  const u = await createTestApp({ env: { GUILD_RETENTION_DAYS: "1" } });
  try {
    const seeded = await seed(u.deps.kv, STAYS);
    await updateSetup(u.deps, STAYS, { id: "1" }, "map", (s) => s);
    u.clock.advance(400 * DAY);
    assert.deepStrictEqual((await guildRetention(u.deps)).removed, []);
    assert.deepStrictEqual(await count(u.deps.kv, STAYS), seeded);
  } finally {
    await u.close();
  }
});
