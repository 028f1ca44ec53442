/** lib/deps.ts: the job runner's environment taken from the deps bag, and the requested guild. */
import assert from "node:assert/strict";
import { jobEnvOf, requestedGuild } from "../lib/deps.ts";
import { memoryDeps } from "./_deps.ts";
import { withKv } from "./kv/_kv.ts";

const ENV = {
  SELF_URL: "https://bot.example",
  SYNC_AUTH_TOKEN: "operator-token-0123456789",
  SYNC_MAX_CHUNK_MS: "30000",
};

Deno.test("jobEnvOf: the deps' KV, clock, fetch, shutdown and self URL, with the service's parts", () =>
  withKv((kv) => {
    const deps = { ...memoryDeps(kv, { env: ENV }), shutdown: new AbortController().signal };
    const onChunkEnd = () => {};
    const env = jobEnvOf(deps, {
      component: "sync",
      autoContinue: true,
      defaultChunkSize: 250,
      onChunkEnd,
    });
    assert.equal(env.kv, kv);
    assert.equal(env.clock, deps.clock);
    assert.equal(env.fetch, deps.fetch);
    assert.equal(env.shutdown, deps.shutdown);
    assert.equal(env.selfUrl, "https://bot.example");
    assert.equal(env.authToken, "operator-token-0123456789");
    assert.equal(env.maxChunkMs, 30_000);
    assert.equal(env.autoContinue, true);
    assert.equal(env.defaultChunkSize, 250);
    assert.equal(env.onChunkEnd, onChunkEnd);
    return Promise.resolve();
  }));

Deno.test("jobEnvOf: work kept alive goes to the deps' waitUntil; lines carry the component", () =>
  withKv((kv) => {
    const deps = memoryDeps(kv);
    const env = jobEnvOf(deps, { component: "backup", autoContinue: false, defaultChunkSize: 1 });
    const work = Promise.resolve(7);
    env.waitUntil(work);
    assert.deepEqual(deps.background, [work]);
    env.log.info("chunk done", { n: 1 });
    assert.deepEqual(
      deps.log.lines.map(({ msg, component, n }) => ({ msg, component, n })),
      [{ msg: "chunk done", component: "backup", n: 1 }],
    );
    assert.equal(env.selfUrl, undefined, "no SELF_URL: no continuation URL");
    assert.equal(env.shutdown, undefined);
    return Promise.resolve();
  }));

Deno.test("requestedGuild: the guild a request names, else DISCORD_GUILD_ID, else none", () =>
  withKv((kv) => {
    const withGuild = memoryDeps(kv, { env: { DISCORD_GUILD_ID: "200000000000000001" } });
    assert.equal(requestedGuild(withGuild, "200000000000000009"), "200000000000000009");
    assert.equal(requestedGuild(withGuild), "200000000000000001");
    assert.equal(requestedGuild(withGuild, null), "200000000000000001");
    const without = memoryDeps(kv);
    assert.equal(requestedGuild(without), undefined);
    assert.equal(requestedGuild(without, "200000000000000009"), "200000000000000009");
    return Promise.resolve();
  }));
