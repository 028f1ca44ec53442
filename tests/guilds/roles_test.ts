/**
 * lib/guilds/roles.ts: the server's roles as /ethos_setup reads them, and why a role cannot serve
 * a slot.
 */
import assert from "node:assert/strict";
import { readServerRoles, roleProblem } from "../../lib/guilds/roles.ts";
import { ManualClock } from "../_clock.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { BOT, everyone, GUILD, guildDiscord, MANAGE, role, serverOf } from "./_roles.ts";

function server(botPermissions = MANAGE) {
  const low = role("Low", 1);
  const managed = role("Booster", 2, { managed: true });
  const bot = role("Bot", 5, { permissions: botPermissions });
  const high = role("Admin", 9);
  const roles = [everyone(), low, managed, bot, high];
  return { low, managed, bot, high, view: serverOf(roles, [bot.id]) };
}

Deno.test("roleProblem: a usable role below the bot has none", () => {
  const s = server();
  assert.equal(roleProblem(s.view, GUILD, "known", s.low.id), null);
});

Deno.test("roleProblem: each refusal, checked in order", () => {
  const s = server();
  assert.equal(roleProblem(s.view, GUILD, "known", "799999999999999999"), "missing");
  assert.equal(roleProblem(s.view, GUILD, "known", GUILD), "everyone");
  assert.equal(roleProblem(s.view, GUILD, "known", s.managed.id), "managed");
  assert.equal(roleProblem(s.view, GUILD, "validator", s.high.id), "above_bot");
  assert.equal(roleProblem(s.view, GUILD, "known", s.bot.id), "above_bot", "its own top role");
  const weak = server("0");
  assert.equal(roleProblem(weak.view, GUILD, "known", weak.low.id), "no_manage_roles");
  assert.equal(roleProblem(weak.view, GUILD, "known", weak.managed.id), "managed");
});

Deno.test("roleProblem: the verified role is only read: managed or above the bot is fine", () => {
  const s = server("0");
  assert.equal(roleProblem(s.view, GUILD, "verified", s.managed.id), null);
  assert.equal(roleProblem(s.view, GUILD, "verified", s.high.id), null);
  assert.equal(roleProblem(s.view, GUILD, "verified", GUILD), "everyone");
  assert.equal(roleProblem(s.view, GUILD, "verified", "799999999999999999"), "missing");
});

Deno.test("readServerRoles: the roles, the bot's place and permission, read from Discord", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const low = role("Low", 1);
    const bot = role("Bot", 3, { permissions: MANAGE });
    const high = role("Admin", 4);
    const roles = [everyone(), low, bot, high];
    const discord = guildDiscord(clock, { roles, botRoles: [bot.id] });
    const deps = memoryDeps(kv, { fetch: discord.fetch, clock });
    const s = await readServerRoles(deps, GUILD);
    assert.deepEqual(s.roles, roles);
    assert.deepEqual(s.byId.get(high.id), high);
    assert.equal(s.botTop, s.byId.get(bot.id));
    assert.equal(s.hierarchy.canManageRoles, true);
    assert.deepEqual([...s.hierarchy.manageable], [low.id]);
    assert.deepEqual(
      discord.calls.map((c) => `${c.method} ${c.path}`).sort(),
      [
        "GET /users/@me",
        `GET /guilds/${GUILD}`,
        `GET /guilds/${GUILD}/members/${BOT}`,
        `GET /guilds/${GUILD}/roles`,
      ].sort(),
    );
  }));
