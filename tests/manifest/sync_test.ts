import { assert, assertEquals, assertExists, assertStringIncludes } from "../_assert.ts";
import { diffCommands, syncCommands } from "../../lib/manifest/sync.ts";
import { fingerprint } from "../../lib/manifest/canonical.ts";
import { getCooldown, getSynced, readLog } from "../../lib/manifest/store.ts";
import { acquireLease } from "../../lib/kv/lease.ts";
import {
  botManifest,
  drive,
  G1,
  G2,
  GET_GLOBAL,
  PUT_GLOBAL,
  PUT_GUILD,
  withManifest,
} from "./_env.ts";

const noEchoWarning = (lines: Record<string, unknown>[]) =>
  !lines.some((l) => String(l.msg).includes("differs from the manifest after the overwrite"));

Deno.test("first sync: one bulk call; second: no call at all", async () => {
  await withManifest({}, async ({ env, emu, requests, log, kv }) => {
    const first = await syncCommands(env);
    assertEquals(first.status, "ok");
    assertEquals(first.results[0].outcome, "synced");
    assertEquals(requests(PUT_GLOBAL), 1);
    assertEquals(requests(), 2, "one GET for the diff, one PUT");
    assertEquals(first.calls, 2);
    assertEquals(first.results[0].diff?.added, env.manifest.length);
    assertEquals(
      emu.state.commandList().map((c) => c.name).sort(),
      env.manifest.map((c) => c.name).sort(),
    );
    assert(noEchoWarning(log.lines), "Discord's echo matches the canonical form");
    assertEquals((await getSynced(kv, "global"))?.fingerprint, await fingerprint(env.manifest));

    const second = await syncCommands(env);
    assertEquals(second.status, "skipped");
    assertEquals(second.results[0].outcome, "unchanged");
    assertEquals(second.calls, 0);
    assertEquals(requests(), 2, "no Discord call when the fingerprint is unchanged");

    const diff = await diffCommands(env);
    assertEquals(diff.inSync, true);
    assertEquals(diff.discordFingerprint, diff.fingerprint, "Discord's copy hashes the same");
    assertEquals(diff.syncedFingerprint, diff.fingerprint);
  });
});

Deno.test("a changed description shows as a changed field and syncs with ids kept", async () => {
  await withManifest({}, async ({ env, emu, requests }) => {
    await syncCommands(env);
    const ids = new Map(emu.state.commandList().map((c) => [c.name, c.id]));
    const creates = emu.state.commands.createsToday("global");
    env.manifest = botManifest().map((c) =>
      c.name === "help" ? { ...c, description: "Everything this bot can do" } : c
    );

    const diff = await diffCommands(env);
    assertEquals(diff.inSync, false);
    assertEquals(diff.diff.added, []);
    assertEquals(diff.diff.removed, []);
    assertEquals(diff.diff.changed.map((c) => c.name), ["help"]);
    assertEquals(diff.diff.changed[0].fields, [{
      path: "description",
      code: "Everything this bot can do",
      discord: "Show what this bot can do, by category",
    }]);

    const before = requests(PUT_GLOBAL);
    const report = await syncCommands(env);
    assertEquals(report.results[0].outcome, "synced");
    assertEquals(report.results[0].diff?.changed, 1);
    assertEquals(requests(PUT_GLOBAL), before + 1);
    const after = emu.state.commandList();
    for (const c of after) assertEquals(c.id, ids.get(c.name), `/${c.name} keeps its id`);
    assertEquals(after.find((c) => c.name === "help")?.description, "Everything this bot can do");
    assertEquals(emu.state.commands.createsToday("global"), creates, "no create spent");
  });
});

Deno.test("a command removed on Discord's side shows as drift; --force restores it", async () => {
  await withManifest({}, async ({ env, emu, requests }) => {
    await syncCommands(env);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.delete("global", help.id);

    const diff = await diffCommands(env);
    assertEquals(diff.inSync, false);
    assertEquals(diff.diff.added, [{ name: "help", type: 1 }], "in the code, missing on Discord");
    assertEquals(diff.syncedFingerprint, diff.fingerprint, "the code did not change");

    // The fingerprint is unchanged, so a plain sync makes no call (the rule) ...
    const calls = requests();
    assertEquals((await syncCommands(env)).results[0].outcome, "unchanged");
    assertEquals(requests(), calls);
    // ... and a forced one restores the command.
    const forced = await syncCommands(env, { force: true });
    assertEquals(forced.results[0].outcome, "synced");
    assertEquals(forced.results[0].diff?.added, 1);
    assertEquals((await diffCommands(env)).inSync, true);
  });
});

Deno.test("a 429 stores a cooldown; syncs skip until it passes, then run", async () => {
  await withManifest({}, async (t) => {
    const { env, emu, clock, kv, log, requests } = t;
    env.guildIds = [G1]; // a rate limit must not trigger the per-guild fallback
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 3600 });
    const first = await syncCommands(env);
    assertEquals(first.status, "failed");
    assertEquals(first.results.length, 1, "no fallback on a rate limit");
    const r = first.results[0];
    assertEquals(r.outcome, "rate_limited");
    assertEquals(r.cooldownUntil, clock.now() + 3_600_000);
    assertEquals((await getCooldown(kv, "global", clock))?.until, r.cooldownUntil);
    assertEquals(await getSynced(kv, "global"), null, "fingerprint stored only after success");

    const calls = requests();
    clock.advance(30 * 60_000);
    for (const force of [false, true]) {
      const skipped = await syncCommands(env, { force });
      assertEquals(skipped.status, "skipped");
      assertEquals(skipped.results[0].outcome, "cooldown");
      assertStringIncludes(skipped.message, "cooldown until 2026-11-22T13:00:00.000Z");
    }
    assertEquals(requests(), calls, "no Discord call during the cooldown");
    assert(
      log.lines.some((l) =>
        l.msg ===
          "command sync skipped: Discord rate limit, cooldown until 2026-11-22T13:00:00.000Z"
      ),
    );

    clock.advance(30 * 60_000 + 1);
    env.rest = t.newRest(); // a later isolate: this one's client still holds the paused bucket
    const later = await syncCommands(env);
    assertEquals(later.results[0].outcome, "synced");
    assertEquals(await getCooldown(kv, "global", clock), null);
  });
});

Deno.test("the daily create limit (30034) becomes a cooldown until Discord's reset", async () => {
  await withManifest(
    { emulator: { guilds: [{ members: 1 }], limits: { commandCreatesPerDay: 2 } } },
    async ({ env, emu, clock }) => {
      const report = await syncCommands(env);
      const r = report.results[0];
      assertEquals(r.outcome, "rate_limited");
      assertEquals(emu.state.commandList().length, 0, "Discord changed nothing");
      // The emulator's retry_after runs to the end of its (real) UTC day.
      const real = Date.now();
      const expected = (Math.floor(real / 86_400_000) + 1) * 86_400_000 - real;
      assertExists(r.cooldownUntil);
      assert(Math.abs(r.cooldownUntil - clock.now() - expected) < 5_000, "until Discord's reset");
    },
  );
});

Deno.test("a short 429 is waited out once instead of becoming a cooldown", async () => {
  // A short bucket window, so the forced 429's reset comes quickly.
  const emulator = { guilds: [{ members: 1 }], limits: { default: { limit: 50, windowMs: 100 } } };
  await withManifest({ emulator }, async ({ env, emu, requests, kv, clock }) => {
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 0.05 });
    const report = await syncCommands(env);
    assertEquals(report.results[0].outcome, "synced");
    assertEquals(report.calls, 3);
    assertEquals(requests(PUT_GLOBAL), 2);
    assertEquals(await getCooldown(kv, "global", clock), null);
  });
});

Deno.test("FORCE_SYNC overwrites although nothing changed, keeping ids and creates", async () => {
  await withManifest({}, async ({ env, emu, requests }) => {
    await syncCommands(env);
    const ids = emu.state.commandList().map((c) => c.id).sort();
    const creates = emu.state.commands.createsToday("global");
    env.forceSync = true;
    const report = await syncCommands(env);
    assertEquals(report.forced, true);
    assertEquals(report.results[0].outcome, "synced");
    assertEquals(requests(PUT_GLOBAL), 2);
    assertEquals(emu.state.commandList().map((c) => c.id).sort(), ids);
    assertEquals(emu.state.commands.createsToday("global"), creates);
  });
});

Deno.test("with DISCORD_DEV_GUILD_ID the dev guild is synced, not the global scope", async () => {
  await withManifest({}, async ({ env, emu, kv, requests }) => {
    env.devGuildId = G1;
    env.guildIds = [G2]; // never used for a dev guild
    const report = await syncCommands(env);
    assertEquals(report.target, `guild:${G1}`);
    assertEquals(report.results.map((r) => [r.scope, r.outcome]), [[`guild:${G1}`, "synced"]]);
    assertEquals(emu.state.commandList(G1).length, env.manifest.length);
    assertEquals(emu.state.commandList().length, 0);
    assertEquals(requests(PUT_GUILD), 1);
    assertEquals(requests(PUT_GLOBAL), 0);
    assertExists(await getSynced(kv, `guild:${G1}`));
    assertEquals(await getSynced(kv, "global"), null);
    const diff = await diffCommands(env);
    assertEquals(diff.scope, `guild:${G1}`);
    assertEquals(diff.inSync, true);
  });
});

/** Fails the global bulk overwrite, as when Discord's global path is broken. */
function failingGlobalPut(status = 500): typeof fetch {
  return async (input, init) => {
    const req = new Request(input, init);
    if (req.method === "PUT" && /\/applications\/\d+\/commands$/.test(new URL(req.url).pathname)) {
      await req.body?.cancel();
      return new Response(JSON.stringify({ message: `${status}: failed`, code: 0 }), {
        status,
        headers: { "content-type": "application/json" },
      });
    }
    return fetch(req);
  };
}

Deno.test("a 401 on the global scope does not fall back (the token is wrong everywhere)", async () => {
  await withManifest(
    { fetch: failingGlobalPut(401), env: { guildIds: [G1] } },
    async ({ env, requests }) => {
      const report = await syncCommands(env);
      assertEquals(report.status, "failed");
      assertEquals(report.fallback, false);
      assertEquals(report.results.map((r) => [r.outcome, r.status]), [["failed", 401]]);
      assertEquals(requests(PUT_GUILD), 0);
    },
  );
});

Deno.test("global failure falls back to the configured guilds, spaced; then costs nothing", async () => {
  await withManifest(
    {
      emulator: { guilds: [{ members: 1, id: G1 }, { members: 1, id: G2 }] },
      fetch: failingGlobalPut(),
      env: { guildIds: [G1, G2] },
    },
    async ({ env, emu, clock, requests }) => {
      const started = clock.now();
      const { value: report, steps } = await drive(clock, syncCommands(env), 1_000);
      assertEquals(report.status, "degraded");
      assertEquals(report.fallback, true);
      assertEquals(report.results.map((r) => [r.scope, r.outcome]), [
        ["global", "failed"],
        [`guild:${G1}`, "synced"],
        [`guild:${G2}`, "synced"],
      ]);
      assertStringIncludes(report.results[0].error ?? "", "500");
      assertEquals(steps, [started], "one spacing pause, between the two guilds");
      assertEquals(requests(PUT_GUILD), 2);
      assertEquals(emu.state.commandList(G1).length, env.manifest.length);
      assertEquals(emu.state.commandList(G2).length, env.manifest.length);
      assertEquals(emu.state.commandList().length, 0);

      const again = await drive(clock, syncCommands(env), 1_000);
      assertEquals(again.value.results.map((r) => r.outcome), ["failed", "unchanged", "unchanged"]);
      assertEquals(again.steps, [], "no spacing when no guild call was made");
      assertEquals(requests(PUT_GUILD), 2);
      assertEquals(requests(GET_GLOBAL), 2, "global is retried every time");
    },
  );
});

Deno.test("an invalid manifest is refused before any Discord call", async () => {
  await withManifest({}, async ({ env, kv, requests }) => {
    env.manifest = [...botManifest(), { name: "Bad Name", description: "" }];
    const report = await syncCommands(env, { force: true });
    assertEquals(report.status, "failed");
    assertEquals(report.results[0].outcome, "invalid");
    assert((report.problems ?? []).some((p) => p.includes("Bad Name")));
    assertEquals(requests(), 0);
    assertEquals((await readLog(kv))[0].outcome, "invalid");
  });
});

Deno.test("a sync while another holds the lease is skipped as busy", async () => {
  await withManifest({}, async ({ env, kv, clock, requests }) => {
    assertExists(await acquireLease(kv, "commands-sync", "other-isolate", 60_000, clock));
    const report = await syncCommands(env);
    assertEquals(report.status, "skipped");
    assertEquals(report.results[0].outcome, "busy");
    assertEquals(requests(), 0);
  });
});

Deno.test("when Discord already matches, the fingerprint is stored without a write", async () => {
  await withManifest({}, async ({ env, kv, requests }) => {
    await syncCommands(env);
    await kv.delete(["cmd_manifest", "synced", "global"]); // e.g. a fresh KV
    const report = await syncCommands(env);
    assertEquals(report.results[0].outcome, "in_sync");
    assertEquals(report.calls, 1);
    assertEquals(requests(PUT_GLOBAL), 1);
    assertEquals((await getSynced(kv, "global"))?.via, "in_sync");
  });
});

Deno.test("every attempt is logged with its details; the log is capped", async () => {
  await withManifest({}, async ({ env, kv, clock }) => {
    env.tuning.logCap = 5;
    await syncCommands(env, { trigger: "test" });
    const [first] = await readLog(kv);
    assertEquals(first.outcome, "synced");
    assertEquals(first.scope, "global");
    assertEquals(first.calls, 2);
    assertEquals(first.trigger, "test");
    assertEquals(first.fingerprint, await fingerprint(env.manifest));
    assertEquals(first.diff?.added, env.manifest.length);
    for (let i = 0; i < 7; i++) {
      clock.advance(1_000);
      await syncCommands(env);
    }
    const entries = await readLog(kv, 50);
    assertEquals(entries.length, 5);
    assertEquals(entries.map((e) => e.outcome), Array(5).fill("unchanged"));
    assert(entries[0].at > entries[4].at, "newest first");
  });
});
