/**
 * lib/jobs/fresh_backlog.ts: the per-guild backlog of changed scores, read oldest update first,
 * and emptied one member at a time without dropping an update queued meanwhile.
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import {
  backlogTimes,
  completeQueued,
  freshKeys,
  hasBacklog,
  LINKED_QUEUE,
  readBacklog,
} from "../../lib/jobs/fresh_backlog.ts";

const G = "200000000000000001";
const OTHER = "200000000000000002";

const queue = (kv: Deno.Kv, guildId: string, userId: string, updatedAt: number) =>
  kv.set(freshKeys.backlog(guildId, userId), { updatedAt, queuedAt: updatedAt + 5 });

Deno.test("fresh keys: the linked queue's name is no guild id; keys nest under the guild", () => {
  assert.ok(!/^\d+$/.test(LINKED_QUEUE));
  assert.deepStrictEqual(freshKeys.backlog(G, "u1").slice(0, 3), freshKeys.backlogOf(G));
  assert.notDeepStrictEqual(freshKeys.backlogOf(G), freshKeys.backlogOf(LINKED_QUEUE));
});

Deno.test("readBacklog: oldest update first, up to the limit, only this guild's", () =>
  withKv(async (kv) => {
    await queue(kv, G, "u1", 300);
    await queue(kv, G, "u2", 100);
    await queue(kv, G, "u3", 200);
    await queue(kv, OTHER, "u9", 1);
    const read = await readBacklog(kv, G, 2);
    assert.deepStrictEqual(read.map((q) => [q.userId, q.entry]), [
      ["u2", { updatedAt: 100, queuedAt: 105 }],
      ["u3", { updatedAt: 200, queuedAt: 205 }],
    ]);
    assert.ok(read.every((q) => typeof q.versionstamp === "string"));
    assert.deepStrictEqual(await readBacklog(kv, "200000000000000003", 10), []);
  }));

Deno.test("readBacklog: an entry of another shape is dropped rather than stalling the queue", () =>
  withKv(async (kv) => {
    await kv.set(freshKeys.backlog(G, "bad"), { updatedAt: "soon" });
    await queue(kv, G, "u1", 10);
    assert.deepStrictEqual((await readBacklog(kv, G, 10)).map((q) => q.userId), ["u1"]);
    assert.equal((await kv.get(freshKeys.backlog(G, "bad"))).versionstamp, null);
  }));

Deno.test("hasBacklog and backlogTimes: what is queued for a guild", () =>
  withKv(async (kv) => {
    assert.equal(await hasBacklog(kv, G), false);
    assert.deepStrictEqual(await backlogTimes(kv, G), []);
    await queue(kv, G, "u1", 30);
    await queue(kv, G, "u2", 10);
    await kv.set(freshKeys.backlog(G, "bad"), "x");
    await queue(kv, OTHER, "u3", 99);
    assert.equal(await hasBacklog(kv, G), true);
    assert.deepStrictEqual((await backlogTimes(kv, G)).sort((a, b) => a - b), [10, 30]);
  }));

Deno.test("completeQueued: removes the entry read; one queued again since stays for the next pass", () =>
  withKv(async (kv) => {
    await queue(kv, G, "u1", 10);
    await queue(kv, G, "u2", 20);
    const [first, second] = await readBacklog(kv, G, 10);
    assert.equal(await completeQueued(kv, G, first), "done");
    assert.equal((await kv.get(freshKeys.backlog(G, "u1"))).versionstamp, null);

    await queue(kv, G, "u2", 25); // a newer update while u2 was being applied
    assert.equal(await completeQueued(kv, G, second), "newer");
    assert.deepStrictEqual((await kv.get(freshKeys.backlog(G, "u2"))).value, {
      updatedAt: 25,
      queuedAt: 30,
    });
    // Already gone: nothing to remove, and it says so.
    assert.equal(await completeQueued(kv, G, first), "newer");
  }));
