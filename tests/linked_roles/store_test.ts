/**
 * lib/linked_roles/store.ts: connect states good once for ten minutes, user records that only
 * read back when whole, and the linked count kept by two counters.
 */
import assert from "node:assert/strict";
import {
  countLinked,
  createState,
  deleteLinked,
  getLinked,
  linkedKeys,
  type LinkedUser,
  saveLinked,
  STATE_TTL_MS,
  takeState,
} from "../../lib/linked_roles/store.ts";
import { withKv } from "../kv/_kv.ts";
import { linkedRecord } from "./_linked.ts";

const U = "300000000000000001";
const NOW = Date.UTC(2026, 10, 22, 12);
/** A record with a platform name, so a read-back shows every field kept. */
const record = (over: Partial<LinkedUser> = {}): LinkedUser =>
  linkedRecord(NOW, { platformUsername: "Ann", ...over });

Deno.test("states: random, url-safe, and taken once", () =>
  withKv(async (kv) => {
    const a = await createState(kv, NOW);
    const b = await createState(kv, NOW);
    assert.match(a, /^[A-Za-z0-9_-]{32}$/);
    assert.notEqual(a, b);
    assert.equal(await takeState(kv, a, NOW + 1_000), true);
    assert.equal(await takeState(kv, a, NOW + 1_000), false, "used");
    assert.equal((await kv.get(linkedKeys.state(a))).versionstamp, null);
    assert.equal(await takeState(kv, b, NOW), true);
  }));

Deno.test("states: past ten minutes a state is refused (and used up)", () =>
  withKv(async (kv) => {
    const s = await createState(kv, NOW);
    assert.equal(await takeState(kv, s, NOW + STATE_TTL_MS + 1), false);
    assert.equal(await takeState(kv, s, NOW), false);
    const edge = await createState(kv, NOW);
    assert.equal(
      await takeState(kv, edge, NOW + STATE_TTL_MS),
      true,
      "exactly ten minutes is fine",
    );
  }));

Deno.test("states: unknown, malformed or odd values are refused without a write", () =>
  withKv(async (kv) => {
    assert.equal(await takeState(kv, "A".repeat(32), NOW), false);
    assert.equal(await takeState(kv, "short", NOW), false);
    assert.equal(await takeState(kv, "has spaces and more than sixteen", NOW), false);
    assert.equal(await takeState(kv, "x".repeat(65), NOW), false);
    // Far past KV's key size limit: refused, not thrown.
    assert.equal(await takeState(kv, "x".repeat(5000), NOW), false);
    await kv.set(linkedKeys.state("B".repeat(32)), { at: "yesterday" });
    assert.equal(await takeState(kv, "B".repeat(32), NOW), false);
  }));

Deno.test("records: saved and read back with a versionstamp; a broken record reads as none", () =>
  withKv(async (kv) => {
    assert.equal(await getLinked(kv, U), null);
    await saveLinked(kv, U, record());
    const got = await getLinked(kv, U);
    assert.deepEqual(got?.value, record());
    assert.equal(typeof got?.versionstamp, "string");
    await kv.set(linkedKeys.user(U), { ...record(), expiresAt: "soon" });
    assert.equal(await getLinked(kv, U), null);
  }));

Deno.test("count: a first save adds one, a re-save does not, a delete takes one off", () =>
  withKv(async (kv) => {
    assert.equal(await countLinked(kv), 0);
    await saveLinked(kv, U, record());
    await saveLinked(kv, U, record({ pushedAt: NOW + 1 }));
    await saveLinked(kv, "300000000000000002", record());
    assert.equal(await countLinked(kv), 2);
    assert.equal(await deleteLinked(kv, U), true);
    assert.equal(await deleteLinked(kv, U), false, "nothing left to delete");
    assert.equal(await countLinked(kv), 1);
    assert.equal(await getLinked(kv, U), null);
    // Connecting again after a delete counts again.
    await saveLinked(kv, U, record());
    assert.equal(await countLinked(kv), 2);
  }));

Deno.test("count: concurrent first saves of one user count once", () =>
  withKv(async (kv) => {
    await Promise.all([1, 2, 3].map((n) => saveLinked(kv, U, record({ pushedAt: NOW + n }))));
    assert.equal(await countLinked(kv), 1);
  }));

Deno.test("saveLinked: a record that keeps changing underneath gives up with an error", () =>
  withKv(async (kv) => {
    let n = 0;
    const racing = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get") {
          return async (key: Deno.KvKey) => {
            const e = await target.get(key);
            await target.set(key, record({ pushedAt: ++n }));
            return e;
          };
        }
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    await assert.rejects(saveLinked(racing, U, record()), /kept changing/);
    assert.equal(n, 5);
    assert.equal(await countLinked(kv), 0);
  }));
