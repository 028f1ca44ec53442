/**
 * lib/guilds/gone.ts: which Discord answers mean the bot left a guild or lost sight of it, and
 * what marking the guild gone does: the setup turns inactive (audited) and one alert says why.
 */
import assert from "node:assert/strict";
import { isGuildGone, markGuildGone } from "../../lib/guilds/gone.ts";
import { getSetup, updateSetup } from "../../lib/guilds/setup.ts";
import { DiscordApiError, DiscordHttpError } from "../../lib/discord/errors.ts";
import { recentAlerts } from "../../lib/ops/alerts.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";

const G = "200000000000000001";
const apiError = (status: number, code: number, message: string) =>
  new DiscordApiError(status, code, message, undefined, "GET", `/guilds/${G}`);

Deno.test("isGuildGone: Unknown Guild and Missing Access only", () => {
  assert.equal(isGuildGone(apiError(404, 10004, "Unknown Guild")), true);
  assert.equal(isGuildGone(apiError(403, 50001, "Missing Access")), true);
  assert.equal(isGuildGone(apiError(403, 50013, "Missing Permissions")), false);
  assert.equal(isGuildGone(apiError(404, 10007, "Unknown Member")), false);
  assert.equal(isGuildGone(new DiscordHttpError(0, "GET", "/guilds/1", "reset")), false);
  assert.equal(isGuildGone({ code: 10004 }), false, "the code alone is not Discord's answer");
  assert.equal(isGuildGone(new Error("Unknown Guild")), false);
});

Deno.test("markGuildGone: the setup turns inactive, audited, and one alert names the reason", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await updateSetup(deps, G, { id: "1" }, "map", (s) => {
      s.roles.known = "700000000000000001";
      return s;
    });
    await markGuildGone(deps, G, apiError(404, 10004, "Unknown Guild"));
    const setup = (await getSetup(kv, G))!;
    assert.equal(setup.active, false);
    assert.equal(setup.version, 2);
    assert.equal(setup.roles.known, "700000000000000001", "the mapping is kept for a re-invite");
    assert.equal(setup.updatedBy, "system");
    const [entry] = (await readAudit(kv, G)).entries;
    assert.equal(entry.action, "setup.inactive");
    assert.deepEqual(entry.actor, { id: "system", name: "role sync" });
    assert.deepEqual(entry.detail, {
      version: 2,
      reason: "Discord answered Unknown Guild: the bot was removed from the server",
    });
    const alerts = await recentAlerts(kv);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0].cause, `guild_gone:${G}:2`);
    assert.equal(alerts[0].title, `Role sync stopped for guild ${G}`);
    assert.match(alerts[0].detail, /^Discord answered Unknown Guild: .*Re-invite the bot/);
    assert.equal(alerts[0].severity, "warning");
  }));

Deno.test("markGuildGone: Missing Access (and anything else) reads as lost sight of the server", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await markGuildGone(deps, G, apiError(403, 50001, "Missing Access"));
    await markGuildGone(deps, G, new Error("odd"));
    const reasons = (await readAudit(kv, G)).entries.map((e) => e.detail.reason);
    assert.deepEqual(reasons, [
      "Discord answered Missing Access: the bot can no longer see the server",
      "Discord answered Missing Access: the bot can no longer see the server",
    ]);
    // Each marking is a new setup version, so each gets its own alert.
    assert.deepEqual((await recentAlerts(kv)).map((a) => a.cause).sort(), [
      `guild_gone:${G}:1`,
      `guild_gone:${G}:2`,
    ]);
  }));

Deno.test("markGuildGone: an alert that cannot be stored is logged; the guild is still marked", () =>
  withKv(async (kv) => {
    const noAlerts = new Proxy(kv, {
      get(target, prop) {
        if (prop === "set") {
          return (key: Deno.KvKey, value: unknown, o?: { expireIn?: number }) =>
            key[0] === "alerts"
              ? Promise.reject(new Error("kv write failed"))
              : target.set(key, value, o);
        }
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    const deps = memoryDeps(noAlerts);
    await markGuildGone(deps, G, apiError(404, 10004, "Unknown Guild"));
    assert.equal((await getSetup(kv, G))!.active, false);
    assert.ok(
      deps.log.lines.some((l) => l.level === "warn" && l.msg === "could not raise the alert"),
      JSON.stringify(deps.log.lines),
    );
  }));
