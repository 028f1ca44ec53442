/**
 * lib/sync/context.ts: the rules a guild syncs by (or why it cannot, with a Reason), and the
 * guild context read through the shared reader: 3 calls plus /users/@me once, then the cache.
 */
import assert from "node:assert/strict";
import { effectiveSetup, emptySetup } from "../../lib/guilds/setup.ts";
import { reason, ReasonError, reasonOf, reasonText } from "../../lib/i18n/reason.ts";
import { t } from "../../lib/i18n/mod.ts";
import {
  cachedGuildContext,
  loadGuildContext,
  rulesFromSetup,
  SyncConfigError,
} from "../../lib/sync/context.ts";
import type { SyncRules } from "../../lib/sync/rule.ts";
import { memoryDeps } from "../_deps.ts";
import { testConfig } from "../_config.ts";

const G = "200000000000000001";
const BOT = "100000000000000002";
const TIER = "300000000000000001";
const VERIFIED = "300000000000000002";
const MISSING = "300000000000000003";

function refusal(fn: () => unknown): SyncConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SyncConfigError);
    return error;
  }
  assert.fail("no SyncConfigError");
}

Deno.test("context: each missing piece of setup is a SyncConfigError with its Reason", () => {
  const config = testConfig({ DISCORD_GUILD_ID: G, ETHOS_ROLE_EXEMPLARY: TIER });
  const inactive = refusal(() =>
    rulesFromSetup(config, effectiveSetup(config, G, { ...emptySetup(), active: false }))
  );
  assert.equal(inactive.reason?.key, "reason.sync_inactive");
  assert.equal(
    inactive.message,
    "role sync is stopped here: the bot was removed from this server or lost access; re-invite it and run /ethos_setup view",
  );
  const other = "200000000000000009";
  const noTiers = refusal(() => rulesFromSetup(config, effectiveSetup(config, other, null)));
  assert.equal(noTiers.reason?.key, "reason.sync_no_tiers");
  assert.equal(
    noTiers.message,
    "role sync is not configured: map the level roles with /ethos_setup (or set ETHOS_ROLE_* or ETHOS_TIERS)",
  );
  const noVerified = refusal(() => rulesFromSetup(config, effectiveSetup(config, G, null)));
  assert.equal(noVerified.reason?.key, "reason.sync_no_verified_role");
  assert.equal(
    noVerified.message,
    "role sync is not configured: choose the verified role (or none) with /ethos_setup verified (or set VERIFIED_ROLE_ID)",
  );
  assert.equal(reasonText("es", noVerified.reason!), t("es", "reason.sync_no_verified_role"));
  assert.equal(noVerified.name, "SyncConfigError");
});

Deno.test("context: a configured guild's rules; every SyncConfigError is a ReasonError", () => {
  const config = testConfig({
    DISCORD_GUILD_ID: G,
    ETHOS_ROLE_EXEMPLARY: TIER,
    VERIFIED_ROLE_ID: VERIFIED,
  });
  const rules = rulesFromSetup(config, effectiveSetup(config, G, null));
  assert.equal(rules.verifiedRoleId, VERIFIED);
  assert.deepStrictEqual(rules.tiers.map((t) => t.roleId), [TIER]);
  const why = reason("reason.sync_no_manage_roles");
  const error = new SyncConfigError(why);
  assert.equal(error.message, "the bot lacks the Manage Roles permission in this server");
  assert.ok(error instanceof ReasonError);
  assert.equal(error.name, "SyncConfigError");
  assert.deepStrictEqual(reasonOf(error), why);
});

/** Discord's four reads for the context, recorded. */
function discord() {
  const calls: string[] = [];
  const answer = (path: string): unknown => {
    if (path === "/users/@me") return { id: BOT, username: "bot" };
    if (path === `/guilds/${G}`) return { id: G, owner_id: "1", approximate_member_count: 42 };
    if (path === `/guilds/${G}/roles`) {
      return [
        { id: G, position: 0, permissions: String(1n << 28n) }, // @everyone: Manage Roles
        { id: TIER, name: "Exemplary", position: 1, permissions: "0", managed: false },
        { id: VERIFIED, name: "Verified", position: 5, permissions: "0", managed: false },
        { id: "300000000000000009", name: "Bot", position: 3, permissions: "0", managed: true },
      ];
    }
    if (path === `/guilds/${G}/members/${BOT}`) return { roles: ["300000000000000009"] };
  };
  const fetch: typeof globalThis.fetch = (input) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const path = url.pathname.replace(/^\/api\/v10/, "");
    calls.push(`${path}${url.search}`);
    const body = answer(path);
    return Promise.resolve(
      body === undefined ? Response.json({ code: 0 }, { status: 404 }) : Response.json(body),
    );
  };
  return { calls, fetch };
}

Deno.test("context: read in 3 calls plus /users/@me once, with warnings, then cached", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const d = discord();
    const deps = memoryDeps(kv, { fetch: d.fetch });
    const rules: SyncRules = {
      verifiedRoleId: VERIFIED,
      tiers: [{ name: "Exemplary", minScore: 2000, roleId: TIER }, {
        name: "Known",
        minScore: 1000,
        roleId: MISSING,
      }],
    } as SyncRules;
    const ctx = await loadGuildContext(deps, deps.config, G, rules);
    assert.deepStrictEqual(d.calls.toSorted(), [
      `/guilds/${G}/members/${BOT}`,
      `/guilds/${G}/roles`,
      `/guilds/${G}?with_counts=true`,
      "/users/@me",
    ]);
    assert.equal(ctx.botUserId, BOT);
    assert.equal(ctx.memberCount, 42);
    assert.equal(ctx.canManageRoles, true);
    assert.deepStrictEqual(ctx.manageable, [TIER]);
    assert.deepStrictEqual(ctx.roleNames, { [TIER]: "Exemplary", [VERIFIED]: "Verified" });
    assert.deepStrictEqual(ctx.warnings, [
      `The tier Known (${MISSING}) does not exist in this server.`,
    ]);

    d.calls.length = 0;
    const cached = await cachedGuildContext(deps, deps.config, G, rules);
    assert.equal(d.calls.length, 3, "the bot's id is kept in KV");
    assert.deepStrictEqual({ ...cached, at: 0 }, { ...ctx, at: 0 });
    d.calls.length = 0;
    await cachedGuildContext(deps, deps.config, G, rules);
    assert.equal(d.calls.length, 0, "served from the KV cache");
  } finally {
    kv.close();
  }
});
