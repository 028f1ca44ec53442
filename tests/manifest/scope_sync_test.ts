/**
 * lib/manifest/scope_sync.ts, one scope at a time against the emulator: the skips that make no
 * call, the GET-only "already in sync", the overwrite keeping ids, a 429 turned into a cooldown,
 * and the removal of a fallback copy.
 */
import assert from "node:assert/strict";
import type { APIApplicationCommand } from "discord-api-types/v10";
import { fingerprint } from "../../lib/manifest/canonical.ts";
import {
  clearGuildCopy,
  type ScopeRun,
  syncScope,
  withIds,
} from "../../lib/manifest/scope_sync.ts";
import {
  getCooldown,
  getSynced,
  listFallbackCopies,
  setCooldown,
  setFallbackCopy,
  setSynced,
} from "../../lib/manifest/store.ts";
import { G1, GET_GLOBAL, PUT_GLOBAL, PUT_GUILD, withManifest } from "./_env.ts";

async function runOf(
  manifest: Parameters<typeof fingerprint>[0],
  forced = false,
): Promise<ScopeRun> {
  return { fingerprint: await fingerprint(manifest), forced, trigger: "test" };
}

Deno.test("scope sync: a cooldown or an unchanged fingerprint makes no call", async () => {
  await withManifest({}, async ({ env, kv, clock, requests }) => {
    const run = await runOf(env.manifest);
    await setCooldown(kv, "global", {
      until: clock.now() + 60_000,
      retryAfterMs: 60_000,
      setAt: clock.now(),
      error: "429",
    }, clock);
    const cooling = await syncScope(env, "global", { ...run, forced: true });
    assert.equal(cooling.outcome, "cooldown");
    assert.equal(cooling.cooldownUntil, clock.now() + 60_000);
    assert.equal(cooling.calls, 0);

    clock.advance(60_001);
    await setSynced(kv, "global", {
      fingerprint: run.fingerprint,
      at: clock.now(),
      commands: env.manifest.length,
      via: "synced",
    });
    const unchanged = await syncScope(env, "global", run);
    assert.equal(unchanged.outcome, "unchanged");
    assert.equal(unchanged.calls, 0);
    assert.equal(requests(), 0);
  });
});

Deno.test("scope sync: an overwrite, then one GET when Discord already matches", async () => {
  await withManifest({}, async ({ env, kv, emu, requests }) => {
    const run = await runOf(env.manifest);
    const first = await syncScope(env, "global", run);
    assert.equal(first.outcome, "synced");
    assert.equal(first.calls, 2);
    assert.equal(first.diff?.added, env.manifest.length);
    assert.equal(requests(GET_GLOBAL), 1);
    assert.equal(requests(PUT_GLOBAL), 1);
    assert.equal((await getSynced(kv, "global"))?.via, "synced");
    const ids = emu.state.commandList().map((c) => c.id).sort();

    await kv.delete(["cmd_manifest", "synced", "global"]);
    const again = await syncScope(env, "global", run);
    assert.equal(again.outcome, "in_sync");
    assert.equal(again.calls, 1);
    assert.equal(requests(PUT_GLOBAL), 1, "nothing written");
    assert.equal((await getSynced(kv, "global"))?.via, "in_sync");

    const forced = await syncScope(env, "global", { ...run, forced: true });
    assert.equal(forced.outcome, "synced");
    assert.deepStrictEqual(emu.state.commandList().map((c) => c.id).sort(), ids, "ids kept");
  });
});

Deno.test("scope sync: a long 429 is a cooldown; other failures a failed scope", async () => {
  await withManifest({}, async ({ env, kv, clock, emu }) => {
    const run = await runOf(env.manifest);
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 600 });
    const limited = await syncScope(env, "global", run);
    assert.equal(limited.outcome, "rate_limited");
    assert.equal(limited.calls, 2, "the GET, then the refused PUT");
    assert.equal(limited.cooldownUntil, clock.now() + 600_000);
    assert.equal((await getCooldown(kv, "global", clock))?.until, limited.cooldownUntil);
    assert.equal(await getSynced(kv, "global"), null);

    await emu.close();
    const failed = await syncScope(env, `guild:${G1}`, run);
    assert.equal(failed.outcome, "failed");
    assert.equal(failed.calls, 1);
    assert.ok(failed.error);
  });
});

Deno.test("scope sync: a fallback copy is emptied and its record cleared, or kept", async () => {
  await withManifest({}, async ({ env, kv, clock, emu, requests }) => {
    const run = await runOf(env.manifest);
    await syncScope(env, `guild:${G1}`, run);
    await setFallbackCopy(kv, G1, { at: clock.now(), fingerprint: run.fingerprint });
    assert.equal(emu.state.commandList(G1).length, env.manifest.length);

    await setCooldown(kv, `guild:${G1}`, {
      until: clock.now() + 1_000,
      retryAfterMs: 1_000,
      setAt: clock.now(),
      error: "429",
    }, clock);
    const kept = await clearGuildCopy(env, G1, run);
    assert.equal(kept.outcome, "cooldown");
    assert.equal(kept.calls, 0);
    assert.deepStrictEqual((await listFallbackCopies(kv)).map((c) => c.guildId), [G1]);

    clock.advance(1_001);
    const puts = requests(PUT_GUILD);
    const cleared = await clearGuildCopy(env, G1, run);
    assert.equal(cleared.outcome, "cleared");
    assert.equal(cleared.scope, `guild:${G1}`);
    assert.equal(cleared.calls, 1);
    assert.equal(requests(PUT_GUILD), puts + 1);
    assert.deepStrictEqual(emu.state.commandList(G1), []);
    assert.deepStrictEqual(await listFallbackCopies(kv), []);
  });
});

Deno.test("with ids: commands Discord has under the same type and name keep their id", () => {
  const manifest = [
    { name: "help", description: "h", type: 1 as const },
    { name: "help", type: 2 as const },
    { name: "new", description: "n", type: 1 as const },
  ];
  const registered = [
    { id: "1", name: "help", type: 1 },
    { id: "2", name: "other", type: 1 },
  ] as APIApplicationCommand[];
  assert.deepStrictEqual(withIds(manifest, registered), [
    { name: "help", description: "h", type: 1, id: "1" },
    { name: "help", type: 2 },
    { name: "new", description: "n", type: 1 },
  ]);
});
