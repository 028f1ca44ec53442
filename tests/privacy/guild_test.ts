/**
 * lib/privacy/guild.ts: what the bot keeps of a member per guild: the holder index, their lines in
 * the last sync run's sample, the member index with the score-change queue, and the setup's last
 * author. Each reports and deletes only that member's part, and only in that guild.
 */
import assert from "node:assert/strict";
import {
  holderIndexSource,
  lastRunSource,
  memberIndexSource,
  setupAuthorSource,
} from "../../lib/privacy/guild.ts";
import { holderKey } from "../../lib/sync/holders.ts";
import { SYNC_KIND } from "../../lib/sync/service.ts";
import { keys } from "../../lib/kv/keys.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { updateSetup } from "../../lib/guilds/setup.ts";
import { IndexBuilder, isIndexed } from "../../lib/sync/member_index.ts";
import { freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { runRecord } from "../jobs/_run.ts";

const G = "200000000000000001";
const H = "200000000000000002";
const U = "300000000000000001";
const OTHER = "300000000000000002";

/** The guild's last sync run, started at `startedAt`, with `sample` and counts to keep. */
function lastRun(sample: unknown[], startedAt: number): RunRecord {
  return runRecord({ kind: SYNC_KIND, key: G, counters: { changed: 3 }, startedAt, sample });
}

Deno.test("holderIndexSource: the member's entry in this guild, shown and deleted once", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await kv.set(holderKey(G, U), 1);
    await kv.set(holderKey(G, OTHER), 1);
    await kv.set(holderKey(H, U), 1);
    assert.equal((await holderIndexSource.view(deps, G, U)).items.length, 1);
    assert.deepEqual((await holderIndexSource.view(deps, undefined, U)).items, []);
    assert.equal(await holderIndexSource.delete!(deps, undefined, U), 0);
    assert.equal(await holderIndexSource.delete!(deps, G, U), 1);
    assert.equal(await holderIndexSource.delete!(deps, G, U), 0);
    assert.deepEqual((await holderIndexSource.view(deps, G, U)).items, []);
    assert.notEqual((await kv.get(holderKey(G, OTHER))).versionstamp, null);
    assert.notEqual((await kv.get(holderKey(H, U))).versionstamp, null, "other guilds untouched");
  }));

Deno.test("lastRunSource: the member's lines of the sample go; the run's counts stay", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const at = deps.clock.now();
    assert.deepEqual((await lastRunSource.view(deps, G, U)).items, []);
    assert.equal(await lastRunSource.delete!(deps, G, U), 0, "no run");
    const sample = [
      { userId: U, username: "me", add: ["Known"], remove: [] },
      { userId: OTHER, username: "them", add: [], remove: ["Known"] },
      { userId: U, username: "me", add: [], remove: ["Neutral"] },
      "not a line",
      null,
    ];
    await kv.set(keys.jobRun(SYNC_KIND, G), lastRun(sample, at));
    assert.deepEqual((await lastRunSource.view(deps, G, U)).items, [
      `named among the members the run of ${
        new Date(at).toISOString()
      } changed (user id, name, roles added and removed)`,
    ]);
    assert.deepEqual((await lastRunSource.view(deps, undefined, U)).items, []);
    assert.equal(await lastRunSource.delete!(deps, undefined, U), 0);
    assert.equal(await lastRunSource.delete!(deps, G, U), 2);
    const left = (await kv.get<RunRecord>(keys.jobRun(SYNC_KIND, G))).value!;
    assert.deepEqual(left.sample, [sample[1], "not a line", null]);
    assert.deepEqual(left.counters, { changed: 3 });
    assert.equal(await lastRunSource.delete!(deps, G, U), 0);
    assert.deepEqual((await lastRunSource.view(deps, G, U)).items, []);
  }));

Deno.test("lastRunSource: a record of another shape is left alone", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await kv.set(keys.jobRun(SYNC_KIND, G), { sample: [{ userId: U }] });
    assert.deepEqual((await lastRunSource.view(deps, G, U)).items, []);
    assert.equal(await lastRunSource.delete!(deps, G, U), 0);
    assert.deepEqual((await kv.get(keys.jobRun(SYNC_KIND, G))).value, { sample: [{ userId: U }] });
  }));

Deno.test("lastRunSource: a run that keeps changing underneath makes the delete fail loudly", () =>
  withKv(async (kv) => {
    const key = keys.jobRun(SYNC_KIND, G);
    const record = lastRun([{ userId: U }], 0);
    await kv.set(key, record);
    let n = 0;
    const busy = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get") {
          return async (k: Deno.KvKey) => {
            const e = await target.get(k);
            await target.set(k, { ...record, processed: ++n });
            return e;
          };
        }
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    await assert.rejects(lastRunSource.delete!(memoryDeps(busy), G, U), /changed too often/);
    assert.equal(n, 10);
  }));

Deno.test("memberIndexSource: the index entry, the queued change and the change time", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const role = "210000000000000001";
    const b = new IndexBuilder(kv, G, "r1", new Set([role]), "0");
    b.add(U, [role]);
    b.add(OTHER, [role]);
    await b.end(true, deps.clock.now());
    await kv.set(freshKeys.backlog(G, U), { updatedAt: 1, queuedAt: 2 });
    await kv.set(freshKeys.backlog(H, U), { updatedAt: 1, queuedAt: 2 });
    await kv.set(freshKeys.seen(U), 1);
    assert.equal((await memberIndexSource.view(deps, G, U)).items.length, 3);
    // Outside a guild only the change time (kept per user, not per guild) is the member's.
    assert.deepEqual((await memberIndexSource.view(deps, undefined, U)).items, [
      "the time of your latest Ethos score change (so it is applied once)",
    ]);
    assert.equal(await memberIndexSource.delete!(deps, G, U), 3);
    assert.deepEqual((await memberIndexSource.view(deps, G, U)).items, []);
    assert.equal(await isIndexed(kv, G, U), false);
    assert.equal(await isIndexed(kv, G, OTHER), true);
    assert.notEqual((await kv.get(freshKeys.backlog(H, U))).versionstamp, null);
    assert.equal(await memberIndexSource.delete!(deps, G, U), 0);
  }));

Deno.test("memberIndexSource: an id that is not a snowflake is never looked up in the index", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const b = new IndexBuilder(kv, G, "r1", new Set(), "0");
    b.add(U, []);
    await b.end(true, deps.clock.now());
    assert.deepEqual((await memberIndexSource.view(deps, G, "not-an-id")).items, []);
    assert.equal(await memberIndexSource.delete!(deps, G, "not-an-id"), 0);
  }));

Deno.test("setupAuthorSource: shown when the member made the setup's latest change; kept", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    assert.deepEqual((await setupAuthorSource.view(deps, G, U)).items, []);
    await updateSetup(deps, G, { id: OTHER }, "log", (s) => s);
    await updateSetup(deps, G, { id: U }, "log", (s) => s);
    assert.deepEqual((await setupAuthorSource.view(deps, G, U)).items, [
      "you made its latest change (version 2)",
    ]);
    assert.deepEqual((await setupAuthorSource.view(deps, G, OTHER)).items, []);
    assert.deepEqual((await setupAuthorSource.view(deps, undefined, U)).items, []);
    assert.match((await setupAuthorSource.view(deps, G, U)).keptBecause!, /who changed it last/);
    assert.equal(setupAuthorSource.delete, undefined);
  }));
