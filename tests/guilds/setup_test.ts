import assert from "node:assert/strict";
import { effectiveSetup, getSetup, updateSetup } from "../../lib/guilds/setup.ts";
import { testConfig } from "../_config.ts";
import { ManualClock } from "../_clock.ts";
import { readAudit } from "../../lib/audit/mod.ts";

const ENV_GUILD = "200000000000000001";
const OTHER = "200000000000000002";
const id = (n: number) => String(700000000000000000n + BigInt(n));
const admin = { id: "300000000000000001", name: "admin" };

async function withDeps(fn: (deps: { kv: Deno.Kv; clock: ManualClock }) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn({ kv, clock: new ManualClock(1_800_000_000_000) });
  } finally {
    kv.close();
  }
}

Deno.test("guild setup: versioned, audited, and two admins at once lose nothing", () =>
  withDeps(async (deps) => {
    assert.deepStrictEqual(await getSetup(deps.kv, OTHER), null);
    const first = await updateSetup(deps, OTHER, admin, "map", (s) => {
      s.roles.known = id(1);
      return s;
    }, { slot: "known" });
    assert.deepStrictEqual([first.version, first.roles.known, first.updatedBy], [
      1,
      id(1),
      admin.id,
    ]);
    // Concurrent changes of different fields: both land, each on top of the other.
    await Promise.all([
      updateSetup(
        deps,
        OTHER,
        admin,
        "map",
        (s) => ({ ...s, roles: { ...s.roles, revered: id(2) } }),
      ),
      updateSetup(deps, OTHER, admin, "log", (s) => ({ ...s, logChannelId: id(3) })),
      updateSetup(deps, OTHER, admin, "schedule", (s) => ({ ...s, schedule: "hourly" })),
    ]);
    const now = (await getSetup(deps.kv, OTHER))!;
    assert.deepStrictEqual(now.version, 4);
    assert.deepStrictEqual(now.roles, { known: id(1), revered: id(2) });
    assert.deepStrictEqual([now.logChannelId, now.schedule], [id(3), "hourly"]);
    const audit = await readAudit(deps.kv, OTHER, { limit: 10 });
    assert.deepStrictEqual(
      audit.entries.map((e) => e.action).sort(),
      ["setup.log", "setup.map", "setup.map", "setup.schedule"],
    );
  }));

Deno.test("guild setup: the environment's roles are the setup of its guild; the stored setup fills the rest", () => {
  const config = testConfig({
    DISCORD_GUILD_ID: ENV_GUILD,
    VERIFIED_ROLE_ID: id(10),
    ETHOS_ROLE_KNOWN: id(11),
    ETHOS_ROLE_UNTRUSTED: id(12),
  });
  const stored = {
    version: 3,
    active: true,
    roles: { known: id(21), revered: id(22), validator: id(23), verified: id(24) },
    verifiedNone: false,
    logChannelId: id(25),
    schedule: "hourly" as const,
    created: [],
    updatedAt: 0,
    updatedBy: "",
  };
  const env = effectiveSetup(config, ENV_GUILD, stored);
  assert.deepStrictEqual(
    env.roles.known,
    { id: id(11), source: "environment" },
    "the environment wins",
  );
  assert.deepStrictEqual(
    env.roles.revered,
    { id: id(22), source: "setup" },
    "the setup fills the rest",
  );
  assert.deepStrictEqual(env.roles.verified, { id: id(10), source: "environment" });
  assert.deepStrictEqual(env.tiers.map((t) => [t.name, t.roleId]), [
    ["Revered", id(22)],
    ["Known", id(11)],
    ["Untrusted", id(12)],
  ]);
  assert.deepStrictEqual([env.logChannelId, env.schedule, env.configured], [
    id(25),
    "hourly",
    true,
  ]);
  // Another guild: nothing from the environment.
  const other = effectiveSetup(config, OTHER, stored);
  assert.deepStrictEqual(other.roles.known, { id: id(21), source: "setup" });
  assert.deepStrictEqual(other.verifiedRoleId, id(24));
  // Nothing set: not configured.
  const bare = effectiveSetup(config, OTHER, null);
  assert.deepStrictEqual([bare.tiers, bare.configured, bare.schedule], [[], false, "daily"]);
  // Verified "none": configured with tiers and no verified role.
  const none = effectiveSetup(config, OTHER, {
    ...stored,
    roles: { known: id(21) },
    verifiedNone: true,
  });
  assert.ok(none.configured && none.verifiedNone && none.verifiedRoleId === null);
});

Deno.test("guild setup: ETHOS_TIERS stays the full override for the environment's guild", () => {
  const tiers = [{ name: "Gold", minScore: 1500, roleId: id(31) }];
  const config = testConfig({
    DISCORD_GUILD_ID: ENV_GUILD,
    VERIFIED_ROLE_ID: id(10),
    ETHOS_TIERS: JSON.stringify(tiers),
  });
  const env = effectiveSetup(config, ENV_GUILD, null);
  assert.deepStrictEqual([env.tiers, env.tiersSource], [tiers, "environment"]);
});
