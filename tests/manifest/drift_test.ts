/** lib/manifest/drift.ts: the daily drift check, with and without AUTO_SYNC_COMMANDS. */
import assert from "node:assert/strict";
import { checkCommandDrift } from "../../lib/manifest/drift.ts";
import { syncCommands } from "../../lib/manifest/sync.ts";
import { getSynced } from "../../lib/manifest/store.ts";
import { botManifest, withManifest } from "./_env.ts";

Deno.test("the drift check logs drift, and syncs it away with AUTO_SYNC_COMMANDS", async () => {
  await withManifest({}, async ({ env, emu, log }) => {
    await syncCommands(env);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.delete("global", help.id);

    const logged = await checkCommandDrift(env);
    assert.deepStrictEqual(logged.report?.inSync, false);
    assert.deepStrictEqual(logged.sync, undefined);
    assert.ok(
      log.lines.some((l) => l.level === "warn" && l.msg === "command drift in global: 1 added"),
    );
    assert.deepStrictEqual(emu.state.commandList().length, env.manifest.length - 1);

    env.autoSync = true;
    const fixed = await checkCommandDrift(env);
    assert.deepStrictEqual(fixed.sync?.trigger, "drift");
    assert.deepStrictEqual(fixed.sync?.results[0].outcome, "synced");
    assert.deepStrictEqual(emu.state.commandList().length, env.manifest.length);
  });
});

Deno.test("a drift check that finds Discord in sync records the fingerprint", async () => {
  await withManifest({}, async ({ env, kv, requests }) => {
    await syncCommands(env);
    await kv.delete(["cmd_manifest", "synced", "global"]);
    const check = await checkCommandDrift(env);
    assert.deepStrictEqual(check.report?.inSync, true);
    assert.ok(await getSynced(kv, "global") != null);
    const calls = requests();
    assert.deepStrictEqual((await syncCommands(env)).results[0].outcome, "unchanged");
    assert.deepStrictEqual(requests(), calls);
  });
});

Deno.test("a drift check that cannot reach Discord reports it without throwing", async () => {
  await withManifest({}, async ({ env, emu }) => {
    env.manifest = botManifest();
    await emu.close();
    const check = await checkCommandDrift(env);
    assert.ok(check.error != null);
    assert.deepStrictEqual(check.report, undefined);
  });
});
