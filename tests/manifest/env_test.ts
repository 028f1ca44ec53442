/**
 * lib/manifest/env.ts: the engine's environment gathered from an app: the config's command
 * settings, the registry's manifest, default tuning with overrides, and one REST client of its
 * own per app (it does not wait out 429s), kept across copies of the deps and replaceable.
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { memoryDeps } from "../_deps.ts";
import { createRegistry } from "../../lib/interactions/registry.ts";
import { validateManifest } from "../../lib/manifest/validate.ts";
import { commands } from "../../lib/commands/mod.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import {
  commandRest,
  DEFAULT_TUNING,
  manifestEnv,
  setCommandRest,
} from "../../lib/manifest/env.ts";

const G1 = "200000000000000001";
const G2 = "200000000000000002";
const registry = createRegistry(commands, validateManifest);

Deno.test("manifestEnv: the config's command settings, the registry's manifest, tuning overridden", () =>
  withKv((kv) => {
    const deps = memoryDeps(kv, {
      env: {
        DISCORD_DEV_GUILD_ID: G1,
        COMMAND_GUILD_IDS: `${G1},${G2}`,
        FORCE_SYNC: "true",
        AUTO_SYNC_COMMANDS: "true",
        SYNC_COMMANDS_ON_START: "true",
      },
    });
    const env = manifestEnv({ deps, registry }, { guildSpacingMs: 5 });
    assert.equal(env.kv, kv);
    assert.equal(env.clock, deps.clock);
    assert.equal(env.applicationId, deps.config.discord.applicationId);
    assert.deepStrictEqual(env.manifest, registry.manifest());
    assert.equal(env.devGuildId, G1);
    assert.deepStrictEqual(env.guildIds, [G1, G2]);
    assert.deepStrictEqual([env.forceSync, env.autoSync, env.syncOnStart], [true, true, true]);
    assert.deepStrictEqual(env.tuning, { ...DEFAULT_TUNING, guildSpacingMs: 5 });
    assert.equal(env.rest, commandRest(deps));
    return Promise.resolve();
  }));

Deno.test("manifestEnv: the defaults say no dev guild, no forcing, no sync on start", () =>
  withKv((kv) => {
    const env = manifestEnv({ deps: memoryDeps(kv), registry });
    assert.equal(env.devGuildId, undefined);
    assert.deepStrictEqual([env.forceSync, env.autoSync, env.syncOnStart], [false, false, false]);
    assert.deepStrictEqual(env.tuning, DEFAULT_TUNING);
    return Promise.resolve();
  }));

Deno.test("commandRest: one client per app, its own, kept across copies of the deps; replaceable", () =>
  withKv((kv) => {
    const deps = memoryDeps(kv);
    const rest = commandRest(deps);
    assert.ok(rest instanceof RestClient);
    assert.notEqual(rest, deps.rest, "not the app's client");
    assert.equal(commandRest({ ...deps }), rest);
    assert.notEqual(commandRest(memoryDeps(kv)), rest, "another app, another client");
    const mine = new RestClient({ token: "t", apiBase: "http://127.0.0.1:1/api/v10" });
    setCommandRest(deps, mine);
    assert.equal(commandRest(deps), mine);
    assert.equal(manifestEnv({ deps, registry }).rest, mine);
    return Promise.resolve();
  }));
