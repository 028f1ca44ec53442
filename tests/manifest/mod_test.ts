/**
 * lib/manifest/mod.ts: the two one-liners the entry points call, on the app's own deps and
 * registry: the sync on start (only with SYNC_COMMANDS_ON_START) and the daily drift check, whose
 * drift raises one alert naming what drifted and what to do.
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { memoryDeps } from "../_deps.ts";
import { startEmulator } from "../emulator/server.ts";
import { commandRestFor, PUT_GLOBAL } from "./_env.ts";
import { createRegistry } from "../../lib/interactions/registry.ts";
import { validateManifest } from "../../lib/manifest/validate.ts";
import { commands } from "../../lib/commands/mod.ts";
import { recentAlerts } from "../../lib/ops/alerts.ts";
import { commandsDriftCheck, commandsOnStart, setCommandRest } from "../../lib/manifest/mod.ts";
import type { Emulator } from "../emulator/server.ts";
import type { AppDeps } from "../../lib/deps.ts";
import type { Registry } from "../../lib/interactions/registry.ts";

async function withApp(
  env: Record<string, string>,
  fn: (app: { deps: AppDeps; registry: Registry }, emu: Emulator) => Promise<void>,
) {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  try {
    await withKv(async (kv) => {
      const deps = memoryDeps(kv, { env });
      setCommandRest(deps, commandRestFor(emu));
      await fn({ deps, registry: createRegistry(commands, validateManifest) }, emu);
    });
  } finally {
    await emu.close();
  }
}

Deno.test("commandsOnStart: nothing without SYNC_COMMANDS_ON_START", () =>
  withApp({}, async (app, emu) => {
    assert.equal(await commandsOnStart(app), null);
    assert.equal(emu.stats.totalRequests, 0);
  }));

Deno.test("commandsOnStart: with SYNC_COMMANDS_ON_START one sync, then none for the same manifest", () =>
  withApp({ SYNC_COMMANDS_ON_START: "true" }, async (app, emu) => {
    const report = await commandsOnStart(app);
    assert.equal(report?.trigger, "start");
    assert.equal(report?.status, "ok");
    assert.equal(emu.stats.requests[PUT_GLOBAL], 1);
    assert.equal(emu.state.commandList().length, app.registry.manifest().length);
    assert.equal(await commandsOnStart(app), null, "claimed for this fingerprint");
    assert.equal(emu.stats.requests[PUT_GLOBAL], 1);
  }));

Deno.test("commandsDriftCheck: in sync raises nothing", () =>
  withApp({ SYNC_COMMANDS_ON_START: "true" }, async (app) => {
    await commandsOnStart(app);
    const check = await commandsDriftCheck(app);
    assert.equal(check.report?.inSync, true);
    assert.deepStrictEqual(await recentAlerts(app.deps.kv), []);
  }));

Deno.test("commandsDriftCheck: drift raises one alert naming each side, and how to fix it", () =>
  withApp({ SYNC_COMMANDS_ON_START: "true" }, async (app, emu) => {
    await commandsOnStart(app);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.delete("global", help.id);
    const audit = emu.state.commandList().find((c) => c.name === "audit")!;
    emu.state.commands.edit("global", audit.id, { description: "edited on Discord" });
    emu.state.commands.create("global", { name: "stray", description: "not in the code" }, 100);

    const check = await commandsDriftCheck(app);
    assert.equal(check.report?.inSync, false);
    assert.equal(check.sync, undefined);
    const [alert, ...more] = await recentAlerts(app.deps.kv);
    assert.deepStrictEqual(more, []);
    assert.equal(alert.title, "Slash commands drifted from the code");
    assert.equal(
      alert.detail,
      "global: added in code: help; only on Discord: stray; changed: audit. " +
        "Run `deno task commands sync --force` or set AUTO_SYNC_COMMANDS=true.",
    );
    assert.equal(emu.state.commandList().some((c) => c.name === "help"), false, "not synced");
  }));

Deno.test("commandsDriftCheck: with AUTO_SYNC_COMMANDS the alert says how the sync went", () =>
  withApp({ SYNC_COMMANDS_ON_START: "true", AUTO_SYNC_COMMANDS: "true" }, async (app, emu) => {
    await commandsOnStart(app);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.delete("global", help.id);
    const check = await commandsDriftCheck(app);
    assert.equal(check.sync?.status, "ok");
    const alerts = await recentAlerts(app.deps.kv);
    assert.deepStrictEqual(alerts.map((a) => a.detail), [
      "global: added in code: help. Auto-sync: ok.",
    ]);
    assert.ok(emu.state.commandList().some((c) => c.name === "help"), "synced back");
  }));
