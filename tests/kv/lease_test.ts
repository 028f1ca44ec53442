import { systemClock } from "../../lib/clock.ts";
import { ManualClock } from "../_clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  acquireLease,
  acquireOrAsk,
  commitWithLease,
  type Lease,
  leaseCheck,
  readLease,
  releaseLease,
  renewLease,
  YieldingLease,
} from "../../lib/kv/lease.ts";
import assert from "node:assert/strict";
import { withKv } from "./_kv.ts";

const NAME = "daily-sync";
const TTL = 30_000;
/** A job runner's lease, and data committed under it. */
const JOB = "job:count:g1";
const DATA: Deno.KvKey = ["test", "data"];

Deno.test("lease: acquire a free lease", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    const lease = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(lease != null);
    assert.deepStrictEqual(lease.name, NAME);
    assert.deepStrictEqual(lease.owner, "a");
    assert.deepStrictEqual(lease.takenAt, 1_000_000);
    assert.deepStrictEqual(lease.expiresAt, 1_000_000 + TTL);
    const stored = await kv.get(keys.lease(NAME));
    assert.deepStrictEqual(lease.versionstamp, stored.versionstamp);
    assert.deepStrictEqual(stored.value, {
      owner: "a",
      expiresAt: 1_000_000 + TTL,
      takenAt: 1_000_000,
    });
  }));

Deno.test("lease: readLease reports the holder and whether it is live", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assert.deepStrictEqual(await readLease(kv, NAME, clock), null);
    await acquireLease(kv, NAME, "a", TTL, clock);
    assert.deepStrictEqual(await readLease(kv, NAME, clock), {
      owner: "a",
      expiresAt: TTL,
      takenAt: 0,
      live: true,
    });
    clock.advance(TTL);
    assert.deepStrictEqual((await readLease(kv, NAME, clock))?.live, false);
    await kv.set(keys.lease(NAME), { owner: 1 });
    assert.deepStrictEqual(
      await readLease(kv, NAME, clock),
      null,
      "a malformed value reads as no lease",
    );
  }));

Deno.test("lease: a second owner is refused while the lease is live", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assert.ok((await acquireLease(kv, NAME, "a", TTL, clock)) != null);
    assert.deepStrictEqual(await acquireLease(kv, NAME, "b", TTL, clock), null);
    clock.advance(TTL - 1);
    assert.deepStrictEqual(await acquireLease(kv, NAME, "b", TTL, clock), null);
    assert.deepStrictEqual((await readLease(kv, NAME, clock))?.owner, "a");
  }));

Deno.test("lease: another owner takes it once it has expired", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(a != null);
    clock.advance(TTL);
    const b = await acquireLease(kv, NAME, "b", TTL, clock);
    assert.ok(b != null);
    assert.deepStrictEqual(b.owner, "b");
    assert.deepStrictEqual(b.takenAt, TTL);
    assert.deepStrictEqual(b.expiresAt, 2 * TTL);
    assert.notDeepStrictEqual(b.versionstamp, a.versionstamp);
    assert.deepStrictEqual(await acquireLease(kv, NAME, "a", TTL, clock), null, "a lost it");
  }));

Deno.test("lease: the holder acquiring again extends it and keeps takenAt", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const first = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(first != null);
    clock.advance(10_000);
    const again = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(again != null);
    assert.deepStrictEqual(again.takenAt, 0);
    assert.deepStrictEqual(again.expiresAt, 10_000 + TTL);
    assert.notDeepStrictEqual(again.versionstamp, first.versionstamp);
  }));

Deno.test("lease: a malformed stored value does not block acquiring", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    await kv.set(keys.lease(NAME), "garbage");
    assert.deepStrictEqual((await acquireLease(kv, NAME, "a", TTL, clock))?.owner, "a");
  }));

Deno.test("lease: renew extends the expiry", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const lease = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(lease != null);
    clock.advance(20_000);
    const renewed = await renewLease(kv, lease, TTL, clock);
    assert.ok(renewed != null);
    assert.deepStrictEqual(renewed.expiresAt, 20_000 + TTL);
    assert.deepStrictEqual(renewed.takenAt, 0);
    assert.deepStrictEqual(renewed.owner, "a");
    assert.notDeepStrictEqual(renewed.versionstamp, lease.versionstamp);
    clock.advance(TTL - 1); // past the first expiry, within the renewed one
    assert.deepStrictEqual(await acquireLease(kv, NAME, "b", TTL, clock), null);
    assert.deepStrictEqual((await readLease(kv, NAME, clock))?.expiresAt, 20_000 + TTL);
  }));

Deno.test("lease: renew fails after a takeover, and with a stale lease object", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(a != null);
    const renewed = await renewLease(kv, a, TTL, clock);
    assert.ok(renewed != null);
    assert.deepStrictEqual(
      await renewLease(kv, a, TTL, clock),
      null,
      "the superseded object is stale",
    );

    clock.advance(TTL);
    assert.ok((await acquireLease(kv, NAME, "b", TTL, clock)) != null);
    assert.deepStrictEqual(await renewLease(kv, renewed, TTL, clock), null);
    assert.deepStrictEqual((await readLease(kv, NAME, clock))?.owner, "b", "b keeps it");
  }));

Deno.test("lease: release frees it for others; releasing twice is false", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(a != null);
    assert.deepStrictEqual(await releaseLease(kv, a), true);
    assert.deepStrictEqual(await readLease(kv, NAME, clock), null);
    assert.deepStrictEqual(await releaseLease(kv, a), false);
    assert.deepStrictEqual(
      await renewLease(kv, a, TTL, clock),
      null,
      "a released lease cannot be renewed",
    );
    assert.deepStrictEqual((await acquireLease(kv, NAME, "b", TTL, clock))?.owner, "b");
  }));

Deno.test("lease: releasing a lost lease does not delete the new holder's", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(a != null);
    clock.advance(TTL + 1);
    const b = await acquireLease(kv, NAME, "b", TTL, clock);
    assert.ok(b != null);
    assert.deepStrictEqual(await releaseLease(kv, a), false);
    assert.deepStrictEqual((await readLease(kv, NAME, clock))?.owner, "b");
  }));

/** An atomic write guarded by the lease; true when it committed. */
async function guardedWrite(kv: Deno.Kv, lease: Lease, value: string): Promise<boolean> {
  const res = await kv.atomic().check(leaseCheck(lease)).set(["guarded"], value).commit();
  return res.ok;
}

Deno.test("lease: leaseCheck lets a write commit only while the lease is held", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(a != null);
    assert.deepStrictEqual(leaseCheck(a), { key: keys.lease(NAME), versionstamp: a.versionstamp });
    assert.deepStrictEqual(await guardedWrite(kv, a, "one"), true);

    clock.advance(TTL);
    const b = await acquireLease(kv, NAME, "b", TTL, clock);
    assert.ok(b != null);
    assert.deepStrictEqual(await guardedWrite(kv, a, "from a after losing it"), false);
    assert.deepStrictEqual(
      (await kv.get(["guarded"])).value,
      "one",
      "the failed write did not land",
    );
    assert.deepStrictEqual(await guardedWrite(kv, b, "two"), true);
  }));

Deno.test("lease: leaseCheck follows renewals and fails after release", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assert.ok(a != null);
    const renewed = await renewLease(kv, a, TTL, clock);
    assert.ok(renewed != null);
    assert.deepStrictEqual(
      await guardedWrite(kv, a, "stale"),
      false,
      "the pre-renewal object is stale",
    );
    assert.deepStrictEqual(await guardedWrite(kv, renewed, "fresh"), true);
    assert.deepStrictEqual(await releaseLease(kv, renewed), true);
    assert.deepStrictEqual(await guardedWrite(kv, renewed, "released"), false);
    assert.deepStrictEqual((await kv.get(["guarded"])).value, "fresh");
  }));

Deno.test("lease: of 10 owners acquiring at once exactly one wins", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => acquireLease(kv, NAME, `owner-${i}`, TTL, clock)),
    );
    const winners = results.filter((l): l is Lease => l !== null);
    assert.deepStrictEqual(winners.length, 1, `winners: ${winners.map((w) => w.owner)}`);
    assert.deepStrictEqual((await readLease(kv, NAME, clock))?.owner, winners[0].owner);
    assert.deepStrictEqual(await guardedWrite(kv, winners[0], "ok"), true);
  }));

Deno.test("lease: of 10 owners racing for an expired lease exactly one wins", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assert.ok((await acquireLease(kv, NAME, "old", TTL, clock)) != null);
    clock.advance(TTL);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => acquireLease(kv, NAME, `owner-${i}`, TTL, clock)),
    );
    assert.deepStrictEqual(results.filter((l) => l !== null).length, 1);
  }));

Deno.test("lease: different names are independent", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assert.ok((await acquireLease(kv, "one", "a", TTL, clock)) != null);
    assert.ok((await acquireLease(kv, "two", "b", TTL, clock)) != null);
    assert.ok((await readLease(kv, "one", clock))?.owner === "a");
    assert.ok((await readLease(kv, "two", clock))?.owner === "b");
  }));

Deno.test("lease: a yielding holder gives the lease back when a long holder asks", () =>
  withKv(async (kv) => {
    const clock = systemClock;
    const held = await YieldingLease.take(kv, NAME, TTL, clock);
    assert.ok(held != null);
    // Its commits go through while nobody asks.
    assert.ok((await held.commit((op) => op.set(["work", 1], 1))).ok);
    const asking = acquireOrAsk(kv, NAME, "chunk", TTL, clock, 5_000);
    // The holder's next commit fails: someone asked. It stops and releases.
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 10));
      refused = !(await held.commit((op) => op.set(["work", 2], 2))).ok;
    }
    assert.ok(refused && held.lost, "the holder noticed the request");
    assert.deepStrictEqual((await kv.get(["work", 2])).value, null);
    await held.release();
    const got = await asking;
    assert.ok(got != null);
    assert.deepStrictEqual(got.owner, "chunk");
    // The request is withdrawn once served; a new yielding holder waits for the chunk.
    assert.deepStrictEqual((await kv.get(keys.leaseYield(NAME))).versionstamp, null);
    assert.deepStrictEqual(await YieldingLease.take(kv, NAME, TTL, clock), null);
  }));

Deno.test("lease: asking a holder that does not yield gives up at once", () =>
  withKv(async (kv) => {
    const clock = systemClock;
    assert.ok((await acquireLease(kv, NAME, "chunk-a", TTL, clock)) != null);
    const t = Date.now();
    assert.deepStrictEqual(await acquireOrAsk(kv, NAME, "chunk-b", TTL, clock, 5_000), null);
    assert.ok(Date.now() - t < 1_000, "no wait for a chunk's lease");
    assert.deepStrictEqual((await kv.get(keys.leaseYield(NAME))).versionstamp, null);
    // A yielding holder never takes a lease a chunk holds.
    assert.deepStrictEqual(await YieldingLease.take(kv, NAME, TTL, clock), null);
  }));

Deno.test("lease: a yielding holder that stops renewing loses the lease to its expiry", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    const held = await YieldingLease.take(kv, NAME, 1_000, clock);
    assert.ok(held != null);
    assert.ok(await held.renew());
    clock.advance(2_000);
    assert.ok((await acquireLease(kv, NAME, "chunk", TTL, clock)) != null);
    assert.deepStrictEqual(await held.renew(), false);
    assert.ok(held.lost);
  }));

Deno.test("commitWithLease: writes and renews the lease in one commit, keeping its owner and start", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    const lease = (await acquireLease(kv, JOB, "me", 30_000, clock))!;
    clock.advance(10_000);
    const renewed = await commitWithLease(kv, lease, 30_000, clock, (op) => op.set(DATA, 1));
    assert.ok(renewed);
    assert.equal((await kv.get(DATA)).value, 1);
    assert.deepStrictEqual(
      { owner: renewed.owner, takenAt: renewed.takenAt, expiresAt: renewed.expiresAt },
      { owner: "me", takenAt: 1_000_000, expiresAt: 1_040_000 },
    );
    const stored = await kv.get(keys.lease(JOB));
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
    const mine = (await acquireLease(kv, JOB, "me", 30_000, clock))!;
    clock.advance(31_000);
    assert.ok(await acquireLease(kv, JOB, "other", 30_000, clock));
    const built: string[] = [];
    const res = await commitWithLease(kv, mine, 30_000, clock, (op) => {
      built.push("built");
      op.set(DATA, "stale");
    });
    assert.equal(res, null);
    assert.deepStrictEqual(built, ["built"]);
    assert.equal((await kv.get(DATA)).versionstamp, null);
    assert.equal((await readLease(kv, JOB, clock))?.owner, "other");
  }));

Deno.test("commitWithLease: release deletes the lease in the same commit", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const lease = (await acquireLease(kv, JOB, "me", 30_000, clock))!;
    const res = await commitWithLease(kv, lease, 30_000, clock, (op) => op.set(DATA, 1), true);
    assert.ok(res);
    assert.equal((await kv.get(keys.lease(JOB))).versionstamp, null);
    assert.equal((await kv.get(DATA)).value, 1);
    // Released: the returned lease no longer commits.
    assert.equal(await commitWithLease(kv, res, 30_000, clock, () => {}), null);
  }));
