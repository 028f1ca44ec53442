/**
 * The per-guild fallback's copies are recorded and removed once the global sync works again, so the
 * guilds do not show every command twice; a dev guild's own scope is never emptied.
 */
import { assert, assertEquals } from "../_assert.ts";
import { syncCommands } from "../../lib/manifest/sync.ts";
import { getSynced, listFallbackCopies, readLog } from "../../lib/manifest/store.ts";
import { drive, G1, G2, PUT_GLOBAL, PUT_GUILD, withManifest } from "./_env.ts";

/** Fails the global bulk overwrite while `global` is set, and a guild's while it is listed. */
function faults() {
  const fail = { global: true, guilds: new Set<string>() };
  const fetchFn: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const path = new URL(req.url).pathname;
    const guild = path.match(/\/applications\/\d+\/guilds\/(\d+)\/commands$/)?.[1];
    const failing = req.method === "PUT" &&
      ((fail.global && /\/applications\/\d+\/commands$/.test(path)) ||
        (guild !== undefined && fail.guilds.has(guild)));
    if (failing) {
      await req.body?.cancel();
      return new Response(JSON.stringify({ message: "500: failed", code: 0 }), {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    }
    return fetch(req);
  };
  return { fail, fetch: fetchFn };
}

const twoGuilds = { guilds: [{ members: 1, id: G1 }, { members: 1, id: G2 }] };

Deno.test("a successful global sync removes the fallback's guild copies and their records", async () => {
  const f = faults();
  await withManifest(
    { emulator: twoGuilds, fetch: f.fetch, env: { guildIds: [G1, G2] } },
    async ({ env, emu, clock, kv, requests }) => {
      const degraded = await drive(clock, syncCommands(env), 1_000);
      assertEquals(degraded.value.status, "degraded");
      assertEquals(emu.state.commandList(G1).length, env.manifest.length);
      assertEquals(emu.state.commandList(G2).length, env.manifest.length);
      assertEquals((await listFallbackCopies(kv)).map((c) => c.guildId), [G1, G2]);

      f.fail.global = false;
      const started = clock.now();
      const { value: report, steps } = await drive(clock, syncCommands(env), 1_000);
      assertEquals(report.status, "ok");
      assertEquals(report.results.map((r) => [r.scope, r.outcome]), [
        ["global", "synced"],
        [`guild:${G1}`, "cleared"],
        [`guild:${G2}`, "cleared"],
      ]);
      assertEquals(report.calls, 2 + 2, "GET + PUT global, one empty PUT per guild");
      assertEquals(steps, [started], "spaced like the fallback");
      assertEquals(requests(PUT_GLOBAL), 1, "the failed one never reached the emulator");
      assertEquals(requests(PUT_GUILD), 4);
      assertEquals(emu.state.commandList(G1), []);
      assertEquals(emu.state.commandList(G2), []);
      assertEquals(emu.state.commandList().length, env.manifest.length);
      assertEquals(await listFallbackCopies(kv), []);
      assertEquals(await getSynced(kv, `guild:${G1}`), null, "the guild no longer holds it");
      const logged = (await readLog(kv)).filter((e) => e.outcome === "cleared");
      assertEquals(logged.map((e) => [e.scope, e.calls]).sort(), [
        [`guild:${G1}`, 1],
        [`guild:${G2}`, 1],
      ]);

      const calls = requests();
      const again = await syncCommands(env);
      assertEquals(again.results.map((r) => r.outcome), ["unchanged"]);
      assertEquals(requests(), calls, "nothing left to remove: no call");

      // Global breaks again: the fallback writes the guilds again (their fingerprint was cleared).
      f.fail.global = true;
      const forced = await drive(clock, syncCommands(env, { force: true }), 1_000);
      assertEquals(forced.value.results.map((r) => r.outcome), ["failed", "synced", "synced"]);
      assertEquals(emu.state.commandList(G1).length, env.manifest.length);
    },
  );
});

Deno.test("a failed removal is not fatal and is retried when global is unchanged", async () => {
  const f = faults();
  await withManifest(
    { emulator: twoGuilds, fetch: f.fetch, env: { guildIds: [G1, G2] } },
    async ({ env, emu, clock, kv, log }) => {
      await drive(clock, syncCommands(env), 1_000);
      f.fail.global = false;
      f.fail.guilds.add(G1);
      const { value: report } = await drive(clock, syncCommands(env), 1_000);
      assertEquals(report.status, "ok", "the global sync itself worked");
      assertEquals(report.results.map((r) => [r.scope, r.outcome]), [
        ["global", "synced"],
        [`guild:${G1}`, "failed"],
        [`guild:${G2}`, "cleared"],
      ]);
      assertEquals(report.calls, 4);
      assertEquals(emu.state.commandList(G1).length, env.manifest.length);
      assertEquals(emu.state.commandList(G2), []);
      assertEquals((await listFallbackCopies(kv)).map((c) => c.guildId), [G1]);
      assert(log.lines.some((l) => l.msg === "command sync: fallback cleanup failed"));

      f.fail.guilds.clear();
      const retry = await syncCommands(env);
      assertEquals(retry.results.map((r) => [r.scope, r.outcome]), [
        ["global", "unchanged"],
        [`guild:${G1}`, "cleared"],
      ]);
      assertEquals(retry.calls, 1);
      assertEquals(emu.state.commandList(G1), []);
      assertEquals(await listFallbackCopies(kv), []);
    },
  );
});

Deno.test("with DISCORD_DEV_GUILD_ID the dev guild's own scope is never emptied", async () => {
  const f = faults();
  await withManifest(
    { emulator: twoGuilds, fetch: f.fetch, env: { guildIds: [G1, G2] } },
    async ({ env, emu, clock, kv, requests }) => {
      await drive(clock, syncCommands(env), 1_000);
      assertEquals((await listFallbackCopies(kv)).map((c) => c.guildId), [G1, G2]);
      f.fail.global = false;
      env.devGuildId = G1;
      const guildPuts = requests(PUT_GUILD);
      for (const force of [false, true]) {
        const report = await syncCommands(env, { force });
        assertEquals(report.target, `guild:${G1}`);
        assertEquals(report.results.map((r) => r.scope), [`guild:${G1}`], "no cleanup step");
        assertEquals(emu.state.commandList(G1).length, env.manifest.length);
      }
      assertEquals(requests(PUT_GUILD), guildPuts + 1, "only the forced dev-guild sync wrote");
      assertEquals(emu.state.commandList(G2).length, env.manifest.length, "left for global mode");
      assertEquals((await listFallbackCopies(kv)).map((c) => c.guildId), [G1, G2]);
      assertEquals(emu.state.commandList().length, 0);
    },
  );
});
