import { assert, assertEquals, assertExists } from "../_assert.ts";
import { createTestApp } from "../_harness.ts";
import { commandsOnStart } from "../../lib/manifest/mod.ts";
import { setCommandRest } from "../../lib/manifest/env.ts";
import { checkCommandDrift, syncCommands } from "../../lib/manifest/sync.ts";
import { getSynced } from "../../lib/manifest/store.ts";
import { botManifest, commandRestFor, PUT_GLOBAL, withManifest } from "./_env.ts";
import { startEmulator } from "../emulator/server.ts";

Deno.test("10 isolates starting at once with SYNC_COMMANDS_ON_START make one bulk call", async () => {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  const kv = await Deno.openKv(":memory:");
  const apps = await Promise.all(
    Array.from(
      { length: 10 },
      () => createTestApp({ kv, env: { SYNC_COMMANDS_ON_START: "true" } }),
    ),
  );
  try {
    for (const t of apps) setCommandRest(t.deps, commandRestFor(emu));
    const reports = await Promise.all(apps.map((t) => commandsOnStart(t.app)));
    assertEquals(emu.stats.requests[PUT_GLOBAL], 1);
    const ran = reports.filter((r) => r !== null);
    assertEquals(ran.length, 1);
    assertEquals(ran[0]!.trigger, "start");
    assertEquals(ran[0]!.results[0].outcome, "synced");
    assertEquals(emu.state.commandList().length, apps[0].app.registry.commands.length);

    // A second burst with the same code: nothing at all.
    const calls = emu.stats.totalRequests;
    await Promise.all(apps.map((t) => commandsOnStart(t.app)));
    assertEquals(emu.stats.totalRequests, calls);
  } finally {
    for (const t of apps) await t.close();
    kv.close();
    await emu.close();
  }
});

Deno.test("without SYNC_COMMANDS_ON_START, starting does nothing", async () => {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  const t = await createTestApp();
  try {
    setCommandRest(t.deps, commandRestFor(emu));
    assertEquals(await commandsOnStart(t.app), null);
    assertEquals(emu.stats.totalRequests, 0);
  } finally {
    await t.close();
    await emu.close();
  }
});

Deno.test("the drift check logs drift, and syncs it away with AUTO_SYNC_COMMANDS", async () => {
  await withManifest({}, async ({ env, emu, log }) => {
    await syncCommands(env);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.delete("global", help.id);

    const logged = await checkCommandDrift(env);
    assertEquals(logged.report?.inSync, false);
    assertEquals(logged.sync, undefined);
    assert(
      log.lines.some((l) => l.level === "warn" && l.msg === "command drift in global: 1 added"),
    );
    assertEquals(emu.state.commandList().length, env.manifest.length - 1);

    env.autoSync = true;
    const fixed = await checkCommandDrift(env);
    assertEquals(fixed.sync?.trigger, "drift");
    assertEquals(fixed.sync?.results[0].outcome, "synced");
    assertEquals(emu.state.commandList().length, env.manifest.length);
  });
});

Deno.test("a drift check that finds Discord in sync records the fingerprint", async () => {
  await withManifest({}, async ({ env, kv, requests }) => {
    await syncCommands(env);
    await kv.delete(["cmd_manifest", "synced", "global"]);
    const check = await checkCommandDrift(env);
    assertEquals(check.report?.inSync, true);
    assertExists(await getSynced(kv, "global"));
    const calls = requests();
    assertEquals((await syncCommands(env)).results[0].outcome, "unchanged");
    assertEquals(requests(), calls);
  });
});

Deno.test("a drift check that cannot reach Discord reports it without throwing", async () => {
  await withManifest({}, async ({ env, emu }) => {
    env.manifest = botManifest();
    await emu.close();
    const check = await checkCommandDrift(env);
    assertExists(check.error);
    assertEquals(check.report, undefined);
  });
});
