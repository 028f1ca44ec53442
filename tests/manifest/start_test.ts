/** lib/manifest/start.ts: the sync on start, once per fingerprint across a burst of isolates. */
import assert from "node:assert/strict";
import { createTestApp } from "../_harness.ts";
import { commandsOnStart } from "../../lib/manifest/mod.ts";
import { setCommandRest } from "../../lib/manifest/env.ts";
import { commandRestFor, PUT_GLOBAL } from "./_env.ts";
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
    assert.deepStrictEqual(emu.stats.requests[PUT_GLOBAL], 1);
    const ran = reports.filter((r) => r !== null);
    assert.deepStrictEqual(ran.length, 1);
    assert.deepStrictEqual(ran[0]!.trigger, "start");
    assert.deepStrictEqual(ran[0]!.results[0].outcome, "synced");
    assert.deepStrictEqual(emu.state.commandList().length, apps[0].app.registry.commands.length);

    // A second burst with the same code: nothing at all.
    const calls = emu.stats.totalRequests;
    await Promise.all(apps.map((t) => commandsOnStart(t.app)));
    assert.deepStrictEqual(emu.stats.totalRequests, calls);
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
    assert.deepStrictEqual(await commandsOnStart(t.app), null);
    assert.deepStrictEqual(emu.stats.totalRequests, 0);
  } finally {
    await t.close();
    await emu.close();
  }
});
