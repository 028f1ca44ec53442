/**
 * lib/privacy/inventory.ts: the sources a member can have deleted (score and profile caches,
 * cooldowns, interaction records), each reporting only live entries of that member, and the
 * view and delete over a list of sources.
 */
import assert from "node:assert/strict";
import {
  cooldownSource,
  deletableSources,
  deleteMemberData,
  idempotencySource,
  type PrivacySource,
  profileCacheSource,
  scoreCacheSource,
  viewMemberData,
} from "../../lib/privacy/inventory.ts";
import { keys } from "../../lib/kv/keys.ts";
import { memoryDeps } from "../_deps.ts";
import { listAll, withKv } from "../kv/_kv.ts";

const G = "200000000000000001";
const U = "300000000000000001";
const OTHER = "300000000000000002";
const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("scoreCacheSource: a live cached score or 'no score'; an expired one is nothing", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: { ETHOS_SCORE_TTL_S: "300", ETHOS_NO_SCORE_TTL_S: "60" } });
    const now = deps.clock.now();
    const report = await scoreCacheSource.view(deps, G, U);
    assert.deepEqual(report, {
      name: "Cached Ethos score",
      items: [],
      retention: '300 s (60 s for "no score"): ETHOS_SCORE_TTL_S, ETHOS_NO_SCORE_TTL_S',
    });
    await kv.set(keys.ethosScore(U), { s: 1400, x: now + 1_000 });
    assert.deepEqual((await scoreCacheSource.view(deps, G, U)).items, [
      `score 1400, cached until ${iso(now + 1_000)}`,
    ]);
    await kv.set(keys.ethosScore(U), { s: null, x: now + 1_000 });
    assert.deepEqual((await scoreCacheSource.view(deps, G, U)).items, [
      `no Ethos score, cached until ${iso(now + 1_000)}`,
    ]);
    deps.clock.advance(1_000);
    assert.deepEqual((await scoreCacheSource.view(deps, G, U)).items, [], "expired");
  }));

Deno.test("scoreCacheSource: delete removes the member's entry, once", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await kv.set(keys.ethosScore(U), { s: 1, x: 0 });
    await kv.set(keys.ethosScore(OTHER), { s: 1, x: 0 });
    assert.equal(await scoreCacheSource.delete!(deps, G, U), 1);
    assert.equal(await scoreCacheSource.delete!(deps, G, U), 0);
    assert.equal((await kv.get(keys.ethosScore(OTHER))).versionstamp !== null, true);
  }));

Deno.test("profileCacheSource: a live profile card or 'no profile', by the member's Discord id", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const now = deps.clock.now();
    const key = keys.ethosProfile(`discord:${U}`);
    assert.deepEqual((await profileCacheSource.view(deps, G, U)).items, []);
    await kv.set(key, { expiresAt: now + 60_000, value: { kind: "profile" } });
    assert.deepEqual((await profileCacheSource.view(deps, G, U)).items, [
      `your Ethos profile card, cached until ${iso(now + 60_000)}`,
    ]);
    await kv.set(key, { expiresAt: now + 60_000, value: { kind: "none" } });
    assert.match((await profileCacheSource.view(deps, G, U)).items[0], /^no Ethos profile, /);
    await kv.set(key, { expiresAt: now, value: { kind: "none" } });
    assert.deepEqual((await profileCacheSource.view(deps, G, U)).items, [], "expired");
    assert.equal(await profileCacheSource.delete!(deps, G, U), 1);
    assert.equal(await profileCacheSource.delete!(deps, G, U), 0);
  }));

Deno.test("cooldownSource and idempotencySource: the member's entries only, listed and deleted", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await kv.set(keys.cooldown(U, "ethos"), { at: [1, 2] });
    await kv.set(keys.cooldown(U, "help"), {});
    await kv.set(keys.cooldown(OTHER, "ethos"), { at: [1] });
    await kv.set(keys.idempotency(U, "i1"), 1);
    await kv.set(keys.idempotency(U, "i2"), 1);
    await kv.set(keys.idempotency(OTHER, "i3"), 1);
    assert.deepEqual((await cooldownSource.view(deps, G, U)).items, [
      "/ethos: 2 recent uses",
      "/help: 0 recent uses",
    ]);
    assert.deepEqual((await idempotencySource.view(deps, G, U)).items, [
      "2 recent interactions (the bot's replies, kept to answer repeated deliveries)",
    ]);
    assert.equal(await cooldownSource.delete!(deps, G, U), 2);
    assert.equal(await idempotencySource.delete!(deps, G, U), 2);
    assert.deepEqual((await idempotencySource.view(deps, G, U)).items, []);
    assert.equal((await listAll(kv, ["cooldown"])).length, 1, "the other member's stays");
    assert.equal((await listAll(kv, ["idem"])).length, 1);
  }));

Deno.test("deletableSources: every one can delete; none says it is kept", () => {
  assert.deepEqual(deletableSources.map((s) => s.name), [
    "Cached Ethos score",
    "Cached Ethos profile",
    "Command cooldowns",
    "Interaction records",
  ]);
  for (const s of deletableSources) assert.equal(typeof s.delete, "function", s.name);
});

/** A source that records what it was asked and holds `items`. */
function probe(name: string, items: string[], deletes?: number) {
  const asked: [string | undefined, string][] = [];
  const source: PrivacySource = {
    name,
    view: (_deps, guildId, userId) => {
      asked.push([guildId, userId]);
      return Promise.resolve({ name, items, retention: "r", keptBecause: "k" });
    },
    ...(deletes === undefined ? {} : {
      delete: (_deps, guildId, userId) => {
        asked.push([guildId, userId]);
        return Promise.resolve(deletes);
      },
    }),
  };
  return { source, asked };
}

Deno.test("viewMemberData: every source's report, in the sources' order", () =>
  withKv(async (kv) => {
    const a = probe("A", ["a"]);
    const b = probe("B", []);
    const reports = await viewMemberData(memoryDeps(kv), undefined, U, [a.source, b.source]);
    assert.deepEqual(reports.map((r) => r.name), ["A", "B"]);
    assert.deepEqual(a.asked, [[undefined, U]]);
  }));

Deno.test("deleteMemberData: deletes what can go; reports what stays only when it holds something", () =>
  withKv(async (kv) => {
    const gone = probe("Gone", ["x"], 3);
    const keptFull = probe("Kept", ["your roles in backup 1"]);
    const keptEmpty = probe("Empty", []);
    const report = await deleteMemberData(memoryDeps(kv), G, U, [
      keptFull.source,
      gone.source,
      keptEmpty.source,
    ]);
    assert.deepEqual(report.deleted, [{ name: "Gone", count: 3 }]);
    assert.deepEqual(report.kept.map((k) => k.name), ["Kept"]);
    assert.deepEqual(gone.asked, [[G, U]], "a deletable source is not viewed");
  }));
