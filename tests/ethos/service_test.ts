/**
 * lib/ethos/service.ts: one Ethos client and one profile cache per deps bag, built from the
 * config and the deps' fetch unless a client is injected.
 */
import assert from "node:assert/strict";
import { ethosClientFor, profilesFor } from "../../lib/ethos/service.ts";
import { EthosClient } from "../../lib/ethos/client.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";

const ID = "111111111111111111";

/** A fetch that answers 404 (no Ethos profile) and records what it was asked. */
function notFound() {
  const asked: { url: string; client: string | null }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    asked.push({
      url: String(input),
      client: new Headers(init?.headers).get("x-ethos-client"),
    });
    return Promise.resolve(new Response("{}", { status: 404 }));
  };
  return { fetch, asked };
}

Deno.test("ethosClientFor: one client per deps bag", () =>
  withKv((kv) => {
    const a = memoryDeps(kv);
    const b = memoryDeps(kv);
    assert.ok(ethosClientFor(a) instanceof EthosClient);
    assert.equal(ethosClientFor(a), ethosClientFor(a));
    assert.notEqual(ethosClientFor(a), ethosClientFor(b));
    return Promise.resolve();
  }));

Deno.test("ethosClientFor: an injected client is used as is", () =>
  withKv((kv) => {
    const ethos = new EthosClient({ apiBase: "https://ethos.test", client: "t@1" });
    assert.equal(ethosClientFor({ ...memoryDeps(kv), ethos }), ethos);
    return Promise.resolve();
  }));

Deno.test("profilesFor: asks Ethos at the configured base through the deps' fetch, then caches", () =>
  withKv(async (kv) => {
    const { fetch, asked } = notFound();
    const deps = memoryDeps(kv, {
      fetch,
      env: { ETHOS_API_BASE: "https://ethos.test/api/v2", ETHOS_CLIENT: "probe@9" },
    });
    assert.equal(profilesFor(deps), profilesFor(deps));
    assert.deepEqual(await profilesFor(deps).lookup({ kind: "discord", id: ID }), {
      kind: "none",
    });
    assert.deepEqual(asked, [{
      url: `https://ethos.test/api/v2/user/by/discord/${ID}`,
      client: "probe@9",
    }]);
    // The same bag's cache answers; a second bag shares the KV and so the cached answer.
    await profilesFor(deps).lookup({ kind: "discord", id: ID });
    await profilesFor(memoryDeps(kv, { fetch })).lookup({ kind: "discord", id: ID });
    assert.equal(asked.length, 1);
  }));

Deno.test("profilesFor: goes through the injected client, not the deps' fetch", () =>
  withKv(async (kv) => {
    const { fetch, asked } = notFound();
    const ethos = new EthosClient({ apiBase: "https://injected.test", client: "t@1", fetch });
    const deps = { ...memoryDeps(kv), ethos };
    assert.deepEqual(await profilesFor(deps).lookup({ kind: "x", handle: "bob" }), {
      kind: "none",
    });
    assert.deepEqual(asked.map((a) => a.url), ["https://injected.test/user/by/x/bob"]);
  }));
