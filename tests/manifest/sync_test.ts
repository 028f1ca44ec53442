/**
 * lib/manifest/sync.ts: a sync of the target scope, its cooldowns, the per-guild fallback and the
 * removal of the fallback's copies once global works again, and the log of every attempt. Kept
 * whole past 400 lines: each test drives the one entry point, syncCommands, through a scenario.
 */
import assert from "node:assert/strict";
import { diffCommands, syncCommands } from "../../lib/manifest/sync.ts";
import { fingerprint } from "../../lib/manifest/canonical.ts";
import { getCooldown, getSynced, listFallbackCopies, readLog } from "../../lib/manifest/store.ts";
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
    assert.deepStrictEqual(first.status, "ok");
    assert.deepStrictEqual(first.results[0].outcome, "synced");
    assert.deepStrictEqual(requests(PUT_GLOBAL), 1);
    assert.deepStrictEqual(requests(), 2, "one GET for the diff, one PUT");
    assert.deepStrictEqual(first.calls, 2);
    assert.deepStrictEqual(first.results[0].diff?.added, env.manifest.length);
    assert.deepStrictEqual(
      emu.state.commandList().map((c) => c.name).sort(),
      env.manifest.map((c) => c.name).sort(),
    );
    assert.ok(noEchoWarning(log.lines), "Discord's echo matches the canonical form");
    assert.deepStrictEqual(
      (await getSynced(kv, "global"))?.fingerprint,
      await fingerprint(env.manifest),
    );

    const second = await syncCommands(env);
    assert.deepStrictEqual(second.status, "skipped");
    assert.deepStrictEqual(second.results[0].outcome, "unchanged");
    assert.deepStrictEqual(second.calls, 0);
    assert.deepStrictEqual(requests(), 2, "no Discord call when the fingerprint is unchanged");

    const diff = await diffCommands(env);
    assert.deepStrictEqual(diff.inSync, true);
    assert.deepStrictEqual(
      diff.discordFingerprint,
      diff.fingerprint,
      "Discord's copy hashes the same",
    );
    assert.deepStrictEqual(diff.syncedFingerprint, diff.fingerprint);
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
    assert.deepStrictEqual(diff.inSync, false);
    assert.deepStrictEqual(diff.diff.added, []);
    assert.deepStrictEqual(diff.diff.removed, []);
    assert.deepStrictEqual(diff.diff.changed.map((c) => c.name), ["help"]);
    assert.deepStrictEqual(diff.diff.changed[0].fields, [{
      path: "description",
      code: "Everything this bot can do",
      discord: "Show what this bot can do, by category",
    }]);

    const before = requests(PUT_GLOBAL);
    const report = await syncCommands(env);
    assert.deepStrictEqual(report.results[0].outcome, "synced");
    assert.deepStrictEqual(report.results[0].diff?.changed, 1);
    assert.deepStrictEqual(requests(PUT_GLOBAL), before + 1);
    const after = emu.state.commandList();
    for (const c of after) assert.deepStrictEqual(c.id, ids.get(c.name), `/${c.name} keeps its id`);
    assert.deepStrictEqual(
      after.find((c) => c.name === "help")?.description,
      "Everything this bot can do",
    );
    assert.deepStrictEqual(emu.state.commands.createsToday("global"), creates, "no create spent");
  });
});

Deno.test("a command removed on Discord's side shows as drift; --force restores it", async () => {
  await withManifest({}, async ({ env, emu, requests }) => {
    await syncCommands(env);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.delete("global", help.id);

    const diff = await diffCommands(env);
    assert.deepStrictEqual(diff.inSync, false);
    assert.deepStrictEqual(
      diff.diff.added,
      [{ name: "help", type: 1 }],
      "in the code, missing on Discord",
    );
    assert.deepStrictEqual(diff.syncedFingerprint, diff.fingerprint, "the code did not change");

    // The fingerprint is unchanged, so a plain sync makes no call (the rule) ...
    const calls = requests();
    assert.deepStrictEqual((await syncCommands(env)).results[0].outcome, "unchanged");
    assert.deepStrictEqual(requests(), calls);
    // ... and a forced one restores the command.
    const forced = await syncCommands(env, { force: true });
    assert.deepStrictEqual(forced.results[0].outcome, "synced");
    assert.deepStrictEqual(forced.results[0].diff?.added, 1);
    assert.deepStrictEqual((await diffCommands(env)).inSync, true);
  });
});

Deno.test("a 429 stores a cooldown; syncs skip until it passes, then run", async () => {
  await withManifest({}, async (t) => {
    const { env, emu, clock, kv, log, requests } = t;
    env.guildIds = [G1]; // a rate limit must not trigger the per-guild fallback
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 3600 });
    const first = await syncCommands(env);
    assert.deepStrictEqual(first.status, "failed");
    assert.deepStrictEqual(first.results.length, 1, "no fallback on a rate limit");
    const r = first.results[0];
    assert.deepStrictEqual(r.outcome, "rate_limited");
    assert.deepStrictEqual(r.cooldownUntil, clock.now() + 3_600_000);
    assert.deepStrictEqual((await getCooldown(kv, "global", clock))?.until, r.cooldownUntil);
    assert.deepStrictEqual(
      await getSynced(kv, "global"),
      null,
      "fingerprint stored only after success",
    );

    const calls = requests();
    clock.advance(30 * 60_000);
    for (const force of [false, true]) {
      const skipped = await syncCommands(env, { force });
      assert.deepStrictEqual(skipped.status, "skipped");
      assert.deepStrictEqual(skipped.results[0].outcome, "cooldown");
      assert.match(skipped.message, /cooldown until 2026-11-22T13:00:00\.000Z/);
    }
    assert.deepStrictEqual(requests(), calls, "no Discord call during the cooldown");
    assert.ok(
      log.lines.some((l) =>
        l.msg ===
          "command sync skipped: Discord rate limit, cooldown until 2026-11-22T13:00:00.000Z"
      ),
    );

    clock.advance(30 * 60_000 + 1);
    env.rest = t.newRest(); // a later isolate: this one's client still holds the paused bucket
    const later = await syncCommands(env);
    assert.deepStrictEqual(later.results[0].outcome, "synced");
    assert.deepStrictEqual(await getCooldown(kv, "global", clock), null);
  });
});

Deno.test("the daily create limit (30034) becomes a cooldown until Discord's reset", async () => {
  await withManifest(
    { emulator: { guilds: [{ members: 1 }], limits: { commandCreatesPerDay: 2 } } },
    async ({ env, emu, clock }) => {
      const report = await syncCommands(env);
      const r = report.results[0];
      assert.deepStrictEqual(r.outcome, "rate_limited");
      assert.deepStrictEqual(emu.state.commandList().length, 0, "Discord changed nothing");
      // The emulator's retry_after runs to the end of its (real) UTC day.
      const real = Date.now();
      const expected = (Math.floor(real / 86_400_000) + 1) * 86_400_000 - real;
      assert.ok(r.cooldownUntil != null);
      assert.ok(
        Math.abs(r.cooldownUntil - clock.now() - expected) < 5_000,
        "until Discord's reset",
      );
    },
  );
});

Deno.test("a short 429 is waited out once instead of becoming a cooldown", async () => {
  // A short bucket window, so the forced 429's reset comes quickly.
  const emulator = { guilds: [{ members: 1 }], limits: { default: { limit: 50, windowMs: 100 } } };
  await withManifest({ emulator }, async ({ env, emu, requests, kv, clock }) => {
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 0.05 });
    const report = await syncCommands(env);
    assert.deepStrictEqual(report.results[0].outcome, "synced");
    assert.deepStrictEqual(report.calls, 3);
    assert.deepStrictEqual(requests(PUT_GLOBAL), 2);
    assert.deepStrictEqual(await getCooldown(kv, "global", clock), null);
  });
});

Deno.test("FORCE_SYNC overwrites although nothing changed, keeping ids and creates", async () => {
  await withManifest({}, async ({ env, emu, requests }) => {
    await syncCommands(env);
    const ids = emu.state.commandList().map((c) => c.id).sort();
    const creates = emu.state.commands.createsToday("global");
    env.forceSync = true;
    const report = await syncCommands(env);
    assert.deepStrictEqual(report.forced, true);
    assert.deepStrictEqual(report.results[0].outcome, "synced");
    assert.deepStrictEqual(requests(PUT_GLOBAL), 2);
    assert.deepStrictEqual(emu.state.commandList().map((c) => c.id).sort(), ids);
    assert.deepStrictEqual(emu.state.commands.createsToday("global"), creates);
  });
});

Deno.test("with DISCORD_DEV_GUILD_ID the dev guild is synced, not the global scope", async () => {
  await withManifest({}, async ({ env, emu, kv, requests }) => {
    env.devGuildId = G1;
    env.guildIds = [G2]; // never used for a dev guild
    const report = await syncCommands(env);
    assert.deepStrictEqual(report.target, `guild:${G1}`);
    assert.deepStrictEqual(report.results.map((r) => [r.scope, r.outcome]), [[
      `guild:${G1}`,
      "synced",
    ]]);
    assert.deepStrictEqual(emu.state.commandList(G1).length, env.manifest.length);
    assert.deepStrictEqual(emu.state.commandList().length, 0);
    assert.deepStrictEqual(requests(PUT_GUILD), 1);
    assert.deepStrictEqual(requests(PUT_GLOBAL), 0);
    assert.ok((await getSynced(kv, `guild:${G1}`)) != null);
    assert.deepStrictEqual(await getSynced(kv, "global"), null);
    const diff = await diffCommands(env);
    assert.deepStrictEqual(diff.scope, `guild:${G1}`);
    assert.deepStrictEqual(diff.inSync, true);
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
      assert.deepStrictEqual(report.status, "failed");
      assert.deepStrictEqual(report.fallback, false);
      assert.deepStrictEqual(report.results.map((r) => [r.outcome, r.status]), [["failed", 401]]);
      assert.deepStrictEqual(requests(PUT_GUILD), 0);
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
      assert.deepStrictEqual(report.status, "degraded");
      assert.deepStrictEqual(report.fallback, true);
      assert.deepStrictEqual(report.results.map((r) => [r.scope, r.outcome]), [
        ["global", "failed"],
        [`guild:${G1}`, "synced"],
        [`guild:${G2}`, "synced"],
      ]);
      assert.match(report.results[0].error ?? "", /500/);
      assert.deepStrictEqual(steps, [started], "one spacing pause, between the two guilds");
      assert.deepStrictEqual(requests(PUT_GUILD), 2);
      assert.deepStrictEqual(emu.state.commandList(G1).length, env.manifest.length);
      assert.deepStrictEqual(emu.state.commandList(G2).length, env.manifest.length);
      assert.deepStrictEqual(emu.state.commandList().length, 0);

      const again = await drive(clock, syncCommands(env), 1_000);
      assert.deepStrictEqual(again.value.results.map((r) => r.outcome), [
        "failed",
        "unchanged",
        "unchanged",
      ]);
      assert.deepStrictEqual(again.steps, [], "no spacing when no guild call was made");
      assert.deepStrictEqual(requests(PUT_GUILD), 2);
      assert.deepStrictEqual(requests(GET_GLOBAL), 2, "global is retried every time");
    },
  );
});

Deno.test("an invalid manifest is refused before any Discord call", async () => {
  await withManifest({}, async ({ env, kv, requests }) => {
    env.manifest = [...botManifest(), { name: "Bad Name", description: "" }];
    const report = await syncCommands(env, { force: true });
    assert.deepStrictEqual(report.status, "failed");
    assert.deepStrictEqual(report.results[0].outcome, "invalid");
    assert.ok((report.problems ?? []).some((p) => p.includes("Bad Name")));
    assert.deepStrictEqual(requests(), 0);
    assert.deepStrictEqual((await readLog(kv))[0].outcome, "invalid");
  });
});

Deno.test("a sync while another holds the lease is skipped as busy", async () => {
  await withManifest({}, async ({ env, kv, clock, requests }) => {
    assert.ok((await acquireLease(kv, "commands-sync", "other-isolate", 60_000, clock)) != null);
    const report = await syncCommands(env);
    assert.deepStrictEqual(report.status, "skipped");
    assert.deepStrictEqual(report.results[0].outcome, "busy");
    assert.deepStrictEqual(requests(), 0);
  });
});

Deno.test("when Discord already matches, the fingerprint is stored without a write", async () => {
  await withManifest({}, async ({ env, kv, requests }) => {
    await syncCommands(env);
    await kv.delete(["cmd_manifest", "synced", "global"]); // e.g. a fresh KV
    const report = await syncCommands(env);
    assert.deepStrictEqual(report.results[0].outcome, "in_sync");
    assert.deepStrictEqual(report.calls, 1);
    assert.deepStrictEqual(requests(PUT_GLOBAL), 1);
    assert.deepStrictEqual((await getSynced(kv, "global"))?.via, "in_sync");
  });
});

Deno.test("every attempt is logged with its details; the log is capped", async () => {
  await withManifest({}, async ({ env, kv, clock }) => {
    env.tuning.logCap = 5;
    await syncCommands(env, { trigger: "test" });
    const [first] = await readLog(kv);
    assert.deepStrictEqual(first.outcome, "synced");
    assert.deepStrictEqual(first.scope, "global");
    assert.deepStrictEqual(first.calls, 2);
    assert.deepStrictEqual(first.trigger, "test");
    assert.deepStrictEqual(first.fingerprint, await fingerprint(env.manifest));
    assert.deepStrictEqual(first.diff?.added, env.manifest.length);
    for (let i = 0; i < 7; i++) {
      clock.advance(1_000);
      await syncCommands(env);
    }
    const entries = await readLog(kv, 50);
    assert.deepStrictEqual(entries.length, 5);
    assert.deepStrictEqual(entries.map((e) => e.outcome), Array(5).fill("unchanged"));
    assert.ok(entries[0].at > entries[4].at, "newest first");
  });
});

// The per-guild fallback's copies are recorded and removed once the global sync works again, so
// the guilds do not show every command twice; a dev guild's own scope is never emptied.

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
      assert.deepStrictEqual(degraded.value.status, "degraded");
      assert.deepStrictEqual(emu.state.commandList(G1).length, env.manifest.length);
      assert.deepStrictEqual(emu.state.commandList(G2).length, env.manifest.length);
      assert.deepStrictEqual((await listFallbackCopies(kv)).map((c) => c.guildId), [G1, G2]);

      f.fail.global = false;
      const started = clock.now();
      const { value: report, steps } = await drive(clock, syncCommands(env), 1_000);
      assert.deepStrictEqual(report.status, "ok");
      assert.deepStrictEqual(report.results.map((r) => [r.scope, r.outcome]), [
        ["global", "synced"],
        [`guild:${G1}`, "cleared"],
        [`guild:${G2}`, "cleared"],
      ]);
      assert.deepStrictEqual(report.calls, 2 + 2, "GET + PUT global, one empty PUT per guild");
      assert.deepStrictEqual(steps, [started], "spaced like the fallback");
      assert.deepStrictEqual(requests(PUT_GLOBAL), 1, "the failed one never reached the emulator");
      assert.deepStrictEqual(requests(PUT_GUILD), 4);
      assert.deepStrictEqual(emu.state.commandList(G1), []);
      assert.deepStrictEqual(emu.state.commandList(G2), []);
      assert.deepStrictEqual(emu.state.commandList().length, env.manifest.length);
      assert.deepStrictEqual(await listFallbackCopies(kv), []);
      assert.deepStrictEqual(
        await getSynced(kv, `guild:${G1}`),
        null,
        "the guild no longer holds it",
      );
      const logged = (await readLog(kv)).filter((e) => e.outcome === "cleared");
      assert.deepStrictEqual(logged.map((e) => [e.scope, e.calls]).sort(), [
        [`guild:${G1}`, 1],
        [`guild:${G2}`, 1],
      ]);

      const calls = requests();
      const again = await syncCommands(env);
      assert.deepStrictEqual(again.results.map((r) => r.outcome), ["unchanged"]);
      assert.deepStrictEqual(requests(), calls, "nothing left to remove: no call");

      // Global breaks again: the fallback writes the guilds again (their fingerprint was cleared).
      f.fail.global = true;
      const forced = await drive(clock, syncCommands(env, { force: true }), 1_000);
      assert.deepStrictEqual(forced.value.results.map((r) => r.outcome), [
        "failed",
        "synced",
        "synced",
      ]);
      assert.deepStrictEqual(emu.state.commandList(G1).length, env.manifest.length);
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
      assert.deepStrictEqual(report.status, "ok", "the global sync itself worked");
      assert.deepStrictEqual(report.results.map((r) => [r.scope, r.outcome]), [
        ["global", "synced"],
        [`guild:${G1}`, "failed"],
        [`guild:${G2}`, "cleared"],
      ]);
      assert.deepStrictEqual(report.calls, 4);
      assert.deepStrictEqual(emu.state.commandList(G1).length, env.manifest.length);
      assert.deepStrictEqual(emu.state.commandList(G2), []);
      assert.deepStrictEqual((await listFallbackCopies(kv)).map((c) => c.guildId), [G1]);
      assert.ok(log.lines.some((l) => l.msg === "command sync: fallback cleanup failed"));

      f.fail.guilds.clear();
      const retry = await syncCommands(env);
      assert.deepStrictEqual(retry.results.map((r) => [r.scope, r.outcome]), [
        ["global", "unchanged"],
        [`guild:${G1}`, "cleared"],
      ]);
      assert.deepStrictEqual(retry.calls, 1);
      assert.deepStrictEqual(emu.state.commandList(G1), []);
      assert.deepStrictEqual(await listFallbackCopies(kv), []);
    },
  );
});

Deno.test("with DISCORD_DEV_GUILD_ID the dev guild's own scope is never emptied", async () => {
  const f = faults();
  await withManifest(
    { emulator: twoGuilds, fetch: f.fetch, env: { guildIds: [G1, G2] } },
    async ({ env, emu, clock, kv, requests }) => {
      await drive(clock, syncCommands(env), 1_000);
      assert.deepStrictEqual((await listFallbackCopies(kv)).map((c) => c.guildId), [G1, G2]);
      f.fail.global = false;
      env.devGuildId = G1;
      const guildPuts = requests(PUT_GUILD);
      for (const force of [false, true]) {
        const report = await syncCommands(env, { force });
        assert.deepStrictEqual(report.target, `guild:${G1}`);
        assert.deepStrictEqual(
          report.results.map((r) => r.scope),
          [`guild:${G1}`],
          "no cleanup step",
        );
        assert.deepStrictEqual(emu.state.commandList(G1).length, env.manifest.length);
      }
      assert.deepStrictEqual(
        requests(PUT_GUILD),
        guildPuts + 1,
        "only the forced dev-guild sync wrote",
      );
      assert.deepStrictEqual(
        emu.state.commandList(G2).length,
        env.manifest.length,
        "left for global mode",
      );
      assert.deepStrictEqual((await listFallbackCopies(kv)).map((c) => c.guildId), [G1, G2]);
      assert.deepStrictEqual(emu.state.commandList().length, 0);
    },
  );
});
