import { MessageFlags, PermissionFlagsBits } from "discord-api-types/v10";
import assert from "node:assert/strict";
import { commandInteraction, createTestApp } from "../_harness.ts";
import { manifestEnv, setCommandRest } from "../../lib/manifest/env.ts";
import { syncCommands } from "../../lib/manifest/sync.ts";
import { fingerprint } from "../../lib/manifest/canonical.ts";
import { setCooldown } from "../../lib/manifest/store.ts";
import { startEmulator } from "../emulator/server.ts";
import { commandRestFor } from "./_env.ts";

const admin = { permissions: PermissionFlagsBits.ManageGuild };

/** Discord's timestamp markup as the status writes it: full date and relative. */
const when = (ms: number) => `<t:${Math.floor(ms / 1000)}:f> (<t:${Math.floor(ms / 1000)}:R>)`;

Deno.test("/commands_status: fingerprint, last sync, cooldown and drift, for Manage Server", async () => {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  const t = await createTestApp();
  setCommandRest(t.app.deps, commandRestFor(emu));
  const ask = async (o = admin) => {
    t.clock.advance(10_000); // past the command's cooldown
    const res = await t.post(commandInteraction("commands_status", [], o));
    const body = await res.json();
    assert.deepStrictEqual(body.data.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
    return (body.data.content as string).split("\n");
  };
  try {
    assert.deepStrictEqual(await ask({ permissions: 0n }), [
      "You need the **Manage Server** permission to use `/commands_status`.",
    ]);
    assert.deepStrictEqual(emu.stats.totalRequests, 0);

    const manifest = t.app.registry.manifest();
    assert.deepStrictEqual(manifest.length, 15);
    const fp = (await fingerprint(manifest)).slice(0, 12);
    const head = ["**Command manifest** · scope `global`", `Fingerprint: \`${fp}\` (15 commands)`];
    // Nothing registered yet: all 15 missing, the first five named alphabetically.
    assert.deepStrictEqual(await ask(), [
      ...head,
      "Last sync: never recorded for this scope",
      "Discord: **drift** ⚠️ 15 added",
      "- missing on Discord: `/audit`, `/backup`, `/commands_status`, `/config`, `/ethos` +10",
      "Run `deno task commands diff` for details, `commands sync` to apply.",
    ]);
    assert.deepStrictEqual(
      emu.stats.requests["GET /applications/:app/commands"],
      1,
      "one live GET",
    );

    const syncedAt = t.clock.now();
    await syncCommands(manifestEnv(t.app), { trigger: "test" });
    const synced = [
      `Last sync: ${when(syncedAt)}, fingerprint \`${fp}\``,
      // One GET to compare, one PUT to write.
      `Last attempt: ${when(syncedAt)}: synced (test, 2 calls)`,
    ];
    assert.deepStrictEqual(await ask(), [
      ...head,
      ...synced,
      "Discord: in sync ✅ (15 registered)",
    ]);
    const checkedAt = t.clock.now(); // this live check is stored as the last check

    const cooldownSetAt = t.clock.now();
    await setCooldown(t.app.deps.kv, "global", {
      until: cooldownSetAt + 3_600_000,
      retryAfterMs: 3_600_000,
      setAt: cooldownSetAt,
      error: "429",
    }, t.clock);
    await emu.close();
    // Discord is gone: the stored check stands in for the live one, and the cooldown shows.
    const offline = await ask();
    assert.deepStrictEqual(offline.toSpliced(5, 1), [
      ...head,
      ...synced,
      `Rate-limit cooldown until ${when(cooldownSetAt + 3_600_000)}: syncs are skipped until then`,
      `Last check ${when(checkedAt)}: in sync`,
    ]);
    // The network error's own wording is the runtime's ("fetch failed" here).
    assert.match(
      offline[5],
      /^Discord: not checked now \(GET \/applications\/:id\/commands failed: network error: .+\)$/,
    );
  } finally {
    await t.close();
    await emu.close();
  }
});
