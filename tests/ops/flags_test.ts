/** lib/ops/flags.ts: per-guild feature flags, on until turned off, safe under bad data and races. */
import assert from "node:assert/strict";
import { FEATURES, getFlags, isEnabled, setFlag } from "../../lib/ops/flags.ts";
import { keys } from "../../lib/kv/keys.ts";
import { withKv } from "../kv/_kv.ts";

const G = "200000000000000001";
const H = "200000000000000002";
const allOn = Object.fromEntries(FEATURES.map((f) => [f, true]));

Deno.test("flags: every feature is on for a guild nobody configured", () =>
  withKv(async (kv) => {
    assert.deepEqual(await getFlags(kv, G), allOn);
    for (const f of FEATURES) assert.equal(await isEnabled(kv, G, f), true);
  }));

Deno.test("flags: turning one feature off leaves the others and other guilds on", () =>
  withKv(async (kv) => {
    await setFlag(kv, G, "backups", false);
    assert.deepEqual(await getFlags(kv, G), { ...allOn, backups: false });
    assert.equal(await isEnabled(kv, G, "backups"), false);
    assert.deepEqual(await getFlags(kv, H), allOn);
    await setFlag(kv, G, "backups", true);
    assert.equal(await isEnabled(kv, G, "backups"), true);
  }));

Deno.test("flags: a stored value of the wrong shape reads as all on, and a set replaces it", () =>
  withKv(async (kv) => {
    await kv.set(keys.flags(G), { role_sync: "off" });
    assert.deepEqual(await getFlags(kv, G), allOn);
    await setFlag(kv, G, "role_sync", false);
    assert.deepEqual(await kv.get(keys.flags(G)).then((e) => e.value), { role_sync: false });
  }));

Deno.test("flags: unknown stored names are not reported as features", () =>
  withKv(async (kv) => {
    await kv.set(keys.flags(G), { old_feature: false, self_refresh: false });
    assert.deepEqual(await getFlags(kv, G), { ...allOn, self_refresh: false });
  }));

Deno.test("flags: concurrent updates of different features all land", () =>
  withKv(async (kv) => {
    await Promise.all(FEATURES.map((f) => setFlag(kv, G, f, false)));
    assert.deepEqual(await getFlags(kv, G), Object.fromEntries(FEATURES.map((f) => [f, false])));
  }));

Deno.test("flags: an update that keeps losing its race gives up with an error", () =>
  withKv(async (kv) => {
    let reads = 0;
    // Every read is followed by another writer's change, so the check always fails.
    const racing = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get") {
          return async (key: Deno.KvKey) => {
            const entry = await target.get(key);
            await target.set(key, { backups: reads++ % 2 === 0 });
            return entry;
          };
        }
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    await assert.rejects(setFlag(racing, G, "role_sync", false), /kept conflicting/);
    assert.equal(reads, 5, "five attempts");
    assert.equal(await isEnabled(kv, G, "role_sync"), true, "the lost update was not written");
  }));
