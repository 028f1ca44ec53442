import { MessageFlags, PermissionFlagsBits } from "discord-api-types/v10";
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { commandInteraction, createTestApp } from "../_harness.ts";
import { manifestEnv, setCommandRest } from "../../lib/manifest/env.ts";
import { syncCommands } from "../../lib/manifest/sync.ts";
import { fingerprint } from "../../lib/manifest/canonical.ts";
import { setCooldown } from "../../lib/manifest/store.ts";
import { startEmulator } from "../emulator/server.ts";
import { commandRestFor } from "./_env.ts";

const admin = { permissions: PermissionFlagsBits.ManageGuild };

Deno.test("/commands_status: fingerprint, last sync, cooldown and drift, for Manage Server", async () => {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  const t = await createTestApp();
  setCommandRest(t.app.deps, commandRestFor(emu));
  const ask = async (o = admin) => {
    t.clock.advance(10_000); // past the command's cooldown
    const res = await t.post(commandInteraction("commands_status", [], o));
    const body = await res.json();
    assertEquals(body.data.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
    return body.data.content as string;
  };
  try {
    assertStringIncludes(await ask({ permissions: 0n }), "Manage Server");
    assertEquals(emu.stats.totalRequests, 0);

    const fp = (await fingerprint(t.app.registry.manifest())).slice(0, 12);
    const before = await ask();
    assertStringIncludes(before, `Fingerprint: \`${fp}\``);
    assertStringIncludes(before, "Last sync: never");
    assertStringIncludes(before, "**drift**");
    assertStringIncludes(before, "missing on Discord: ");
    assertStringIncludes(before, "`/config`"); // the first five missing are named, alphabetically

    await syncCommands(manifestEnv(t.app), { trigger: "test" });
    const after = await ask();
    assertStringIncludes(after, "Discord: in sync");
    assertStringIncludes(after, `<t:${Math.floor(t.clock.now() / 1000) - 10}:f>`);
    assertStringIncludes(after, "Last attempt:");
    assert(!after.includes("drift"));

    await setCooldown(t.app.deps.kv, "global", {
      until: t.clock.now() + 3_600_000,
      retryAfterMs: 3_600_000,
      setAt: t.clock.now(),
      error: "429",
    }, t.clock);
    await emu.close();
    const offline = await ask();
    assertStringIncludes(offline, "Rate-limit cooldown until");
    assertStringIncludes(offline, "Discord: not checked now");
    assertStringIncludes(offline, "Last check");
    assertStringIncludes(offline, "in sync");
  } finally {
    await t.close();
    await emu.close();
  }
});
