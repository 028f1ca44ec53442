/**
 * lib/app.ts: what createApp builds once per isolate from the deps: the checked registry, keys per
 * purpose (with a warning when they are not the operator's), custom IDs signed with the custom-ID
 * key, the verifier of the configured public key, and the shutdown signal handed to long work.
 */
import assert from "node:assert/strict";
import { createApp } from "../lib/app.ts";
import { SIGNING_SECRET_WARNING } from "../lib/signing_keys.ts";
import { createCustomIds } from "../lib/interactions/custom_id.ts";
import { defineCommand } from "../lib/interactions/define.ts";
import { ManifestError } from "../lib/interactions/registry.ts";
import { commands as allCommands } from "../lib/commands/mod.ts";
import { memoryDeps } from "./_deps.ts";
import { withKv } from "./kv/_kv.ts";

const SECRET = "operator-signing-secret-0123456789";

/** An Ed25519 key pair as Discord holds one: the public key in hex, and a signer. */
async function ed25519() {
  const pair = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const hex = (b: ArrayBuffer) =>
    Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
  return {
    publicKeyHex: hex(await crypto.subtle.exportKey("raw", pair.publicKey)),
    sign: async (m: Uint8Array<ArrayBuffer>) =>
      hex(await crypto.subtle.sign("Ed25519", pair.privateKey, m)),
  };
}

const ping = defineCommand({
  name: "ping",
  description: "Answers pong",
  category: "Test",
  handler: (c) => c.reply("pong"),
});

Deno.test("createApp: the registry holds every command by default, or the ones given", () =>
  withKv(async (kv) => {
    const app = await createApp(memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } }));
    assert.equal(app.registry.commands.length, allCommands.length);
    assert.deepEqual(app.registry.manifest().map((c) => c.name), allCommands.map((c) => c.name));
    const mine = await createApp(memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } }), [ping]);
    assert.deepEqual(mine.registry.manifest().map((c) => c.name), ["ping"]);
    assert.equal(mine.registry.get("help"), undefined);
    assert.equal(mine.interactions.registry, mine.registry);
  }));

Deno.test("createApp: a manifest Discord would refuse stops the app from being built", () =>
  withKv(async (kv) => {
    const bad = defineCommand({
      name: "Bad Name",
      description: "Spaces are not allowed in a name",
      category: "Test",
      handler: (c) => c.reply(""),
    });
    await assert.rejects(
      createApp(memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } }), [bad]),
      (e) => e instanceof ManifestError && e.problems.length > 0,
    );
    await assert.rejects(
      createApp(memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } }), [ping, ping]),
      ManifestError,
      "two commands of one name",
    );
  }));

Deno.test("createApp: without SIGNING_SECRET the keys are the KV's, with a warning; apps agree", () =>
  withKv(async (kv) => {
    const first = memoryDeps(kv);
    const a = await createApp(first, [ping]);
    assert.equal(a.keys.source, "derived");
    assert.deepEqual(first.log.lines.map((l) => [l.level, l.msg]), [
      ["warn", SIGNING_SECRET_WARNING],
    ]);
    // Another isolate over the same KV verifies what this one signed.
    const b = await createApp(memoryDeps(kv), [ping]);
    const id = await a.customIds.sign("ping.go", "s", 60_000, 0);
    assert.equal((await b.customIds.verify(id, 0)).ok, true);
  }));

Deno.test("createApp: with SIGNING_SECRET the keys are the operator's and nothing is logged", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } });
    const app = await createApp(deps, [ping]);
    assert.equal(app.keys.source, "configured");
    assert.deepEqual(deps.log.lines, []);
  }));

Deno.test("createApp: custom IDs are signed with the custom-ID key, not another purpose's", () =>
  withKv(async (kv) => {
    const app = await createApp(memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } }), [ping]);
    const id = await app.customIds.sign("ping.go", "state", 60_000, 0);
    assert.equal((await createCustomIds(app.keys.customId).verify(id, 0)).ok, true);
    assert.deepEqual(await createCustomIds(app.keys.statusLink).verify(id, 0), {
      ok: false,
      reason: "tampered",
    });
    assert.equal(app.interactions.customIds, app.customIds);
    assert.equal(app.interactions.keys, app.keys);
  }));

Deno.test("createApp: the verifier accepts Discord's signature under the configured key only", () =>
  withKv(async (kv) => {
    const discord = await ed25519();
    const other = await ed25519();
    const app = await createApp(
      memoryDeps(kv, {
        env: { SIGNING_SECRET: SECRET, DISCORD_PUBLIC_KEY: discord.publicKeyHex },
      }),
      [ping],
    );
    const body = new TextEncoder().encode('{"type":1}');
    const ts = "1800000000";
    const message = new TextEncoder().encode(ts + '{"type":1}');
    const now = 1_800_000_000_000;
    assert.deepEqual(
      await app.verifier.verify(await discord.sign(message), ts, body, now),
      { ok: true },
    );
    assert.deepEqual(await app.verifier.verify(await other.sign(message), ts, body, now), {
      ok: false,
      reason: "bad signature",
    });
  }));

Deno.test("createApp: long work sees the app's shutdown signal unless the deps bring one", () =>
  withKv(async (kv) => {
    const base = memoryDeps(kv, { env: { SIGNING_SECRET: SECRET } });
    const app = await createApp(base, [ping]);
    assert.notEqual(app.deps, base);
    assert.equal(app.deps.shutdown, app.shutdown.signal);
    assert.equal(app.interactions.deps, app.deps);
    assert.equal(app.deps.kv, base.kv);
    assert.equal(app.deps.shutdown!.aborted, false);
    app.shutdown.abort(new Error("SIGINT"));
    assert.equal(app.deps.shutdown!.aborted, true);

    const own = new AbortController();
    const given = { ...base, shutdown: own.signal };
    const kept = await createApp(given, [ping]);
    assert.equal(kept.deps, given);
    assert.equal(kept.deps.shutdown, own.signal);
  }));
