/** lib/jobs/lease_commit.ts: a job's writes commit only while its lease is held, renewed with them. */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { ManualClock } from "../_clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import { acquireLease, readLease } from "../../lib/kv/lease.ts";
import { commitWithLease } from "../../lib/jobs/lease_commit.ts";

const NAME = "job:count:g1";
const DATA: Deno.KvKey = ["test", "data"];

Deno.test("commitWithLease: writes and renews the lease in one commit, keeping its owner and start", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    const lease = (await acquireLease(kv, NAME, "me", 30_000, clock))!;
    clock.advance(10_000);
    const renewed = await commitWithLease(kv, lease, 30_000, clock, (op) => op.set(DATA, 1));
    assert.ok(renewed);
    assert.equal((await kv.get(DATA)).value, 1);
    assert.deepStrictEqual(
      { owner: renewed.owner, takenAt: renewed.takenAt, expiresAt: renewed.expiresAt },
      { owner: "me", takenAt: 1_000_000, expiresAt: 1_040_000 },
    );
    const stored = await kv.get(keys.lease(NAME));
    assert.equal(renewed.versionstamp, stored.versionstamp);
    assert.deepStrictEqual(stored.value, { owner: "me", expiresAt: 1_040_000, takenAt: 1_000_000 });

    // The renewed lease is the one to commit with next; the old one is stale.
    assert.ok(await commitWithLease(kv, renewed, 30_000, clock, (op) => op.set(DATA, 2)));
    assert.equal(await commitWithLease(kv, lease, 30_000, clock, (op) => op.set(DATA, 3)), null);
    assert.equal((await kv.get(DATA)).value, 2);
  }));

Deno.test("commitWithLease: a lease taken over makes the commit fail and write nothing", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const mine = (await acquireLease(kv, NAME, "me", 30_000, clock))!;
    clock.advance(31_000);
    assert.ok(await acquireLease(kv, NAME, "other", 30_000, clock));
    const built: string[] = [];
    const res = await commitWithLease(kv, mine, 30_000, clock, (op) => {
      built.push("built");
      op.set(DATA, "stale");
    });
    assert.equal(res, null);
    assert.deepStrictEqual(built, ["built"]);
    assert.equal((await kv.get(DATA)).versionstamp, null);
    assert.equal((await readLease(kv, NAME, clock))?.owner, "other");
  }));

Deno.test("commitWithLease: release deletes the lease in the same commit", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const lease = (await acquireLease(kv, NAME, "me", 30_000, clock))!;
    const res = await commitWithLease(kv, lease, 30_000, clock, (op) => op.set(DATA, 1), true);
    assert.ok(res);
    assert.equal((await kv.get(keys.lease(NAME))).versionstamp, null);
    assert.equal((await kv.get(DATA)).value, 1);
    // Released: the returned lease no longer commits.
    assert.equal(await commitWithLease(kv, res, 30_000, clock, () => {}), null);
  }));
