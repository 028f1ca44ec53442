import { ManualClock, systemClock } from "../../lib/clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  acquireLease,
  acquireOrAsk,
  type Lease,
  leaseCheck,
  readLease,
  releaseLease,
  renewLease,
  YieldingLease,
} from "../../lib/kv/lease.ts";
import { assert, assertEquals, assertExists, assertNotEquals } from "../_assert.ts";
import { withKv } from "./_kv.ts";

const NAME = "daily-sync";
const TTL = 30_000;

Deno.test("lease: acquire a free lease", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    const lease = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(lease);
    assertEquals(lease.name, NAME);
    assertEquals(lease.owner, "a");
    assertEquals(lease.takenAt, 1_000_000);
    assertEquals(lease.expiresAt, 1_000_000 + TTL);
    const stored = await kv.get(keys.lease(NAME));
    assertEquals(lease.versionstamp, stored.versionstamp);
    assertEquals(stored.value, { owner: "a", expiresAt: 1_000_000 + TTL, takenAt: 1_000_000 });
  }));

Deno.test("lease: readLease reports the holder and whether it is live", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assertEquals(await readLease(kv, NAME, clock), null);
    await acquireLease(kv, NAME, "a", TTL, clock);
    assertEquals(await readLease(kv, NAME, clock), {
      owner: "a",
      expiresAt: TTL,
      takenAt: 0,
      live: true,
    });
    clock.advance(TTL);
    assertEquals((await readLease(kv, NAME, clock))?.live, false);
    await kv.set(keys.lease(NAME), { owner: 1 });
    assertEquals(await readLease(kv, NAME, clock), null, "a malformed value reads as no lease");
  }));

Deno.test("lease: a second owner is refused while the lease is live", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assertExists(await acquireLease(kv, NAME, "a", TTL, clock));
    assertEquals(await acquireLease(kv, NAME, "b", TTL, clock), null);
    clock.advance(TTL - 1);
    assertEquals(await acquireLease(kv, NAME, "b", TTL, clock), null);
    assertEquals((await readLease(kv, NAME, clock))?.owner, "a");
  }));

Deno.test("lease: another owner takes it once it has expired", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(a);
    clock.advance(TTL);
    const b = await acquireLease(kv, NAME, "b", TTL, clock);
    assertExists(b);
    assertEquals(b.owner, "b");
    assertEquals(b.takenAt, TTL);
    assertEquals(b.expiresAt, 2 * TTL);
    assertNotEquals(b.versionstamp, a.versionstamp);
    assertEquals(await acquireLease(kv, NAME, "a", TTL, clock), null, "a lost it");
  }));

Deno.test("lease: the holder acquiring again extends it and keeps takenAt", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const first = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(first);
    clock.advance(10_000);
    const again = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(again);
    assertEquals(again.takenAt, 0);
    assertEquals(again.expiresAt, 10_000 + TTL);
    assertNotEquals(again.versionstamp, first.versionstamp);
  }));

Deno.test("lease: a malformed stored value does not block acquiring", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    await kv.set(keys.lease(NAME), "garbage");
    assertEquals((await acquireLease(kv, NAME, "a", TTL, clock))?.owner, "a");
  }));

Deno.test("lease: renew extends the expiry", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const lease = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(lease);
    clock.advance(20_000);
    const renewed = await renewLease(kv, lease, TTL, clock);
    assertExists(renewed);
    assertEquals(renewed.expiresAt, 20_000 + TTL);
    assertEquals(renewed.takenAt, 0);
    assertEquals(renewed.owner, "a");
    assertNotEquals(renewed.versionstamp, lease.versionstamp);
    clock.advance(TTL - 1); // past the first expiry, within the renewed one
    assertEquals(await acquireLease(kv, NAME, "b", TTL, clock), null);
    assertEquals((await readLease(kv, NAME, clock))?.expiresAt, 20_000 + TTL);
  }));

Deno.test("lease: renew fails after a takeover, and with a stale lease object", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(a);
    const renewed = await renewLease(kv, a, TTL, clock);
    assertExists(renewed);
    assertEquals(await renewLease(kv, a, TTL, clock), null, "the superseded object is stale");

    clock.advance(TTL);
    assertExists(await acquireLease(kv, NAME, "b", TTL, clock));
    assertEquals(await renewLease(kv, renewed, TTL, clock), null);
    assertEquals((await readLease(kv, NAME, clock))?.owner, "b", "b keeps it");
  }));

Deno.test("lease: release frees it for others; releasing twice is false", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(a);
    assertEquals(await releaseLease(kv, a), true);
    assertEquals(await readLease(kv, NAME, clock), null);
    assertEquals(await releaseLease(kv, a), false);
    assertEquals(await renewLease(kv, a, TTL, clock), null, "a released lease cannot be renewed");
    assertEquals((await acquireLease(kv, NAME, "b", TTL, clock))?.owner, "b");
  }));

Deno.test("lease: releasing a lost lease does not delete the new holder's", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(a);
    clock.advance(TTL + 1);
    const b = await acquireLease(kv, NAME, "b", TTL, clock);
    assertExists(b);
    assertEquals(await releaseLease(kv, a), false);
    assertEquals((await readLease(kv, NAME, clock))?.owner, "b");
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
    assertExists(a);
    assertEquals(leaseCheck(a), { key: keys.lease(NAME), versionstamp: a.versionstamp });
    assertEquals(await guardedWrite(kv, a, "one"), true);

    clock.advance(TTL);
    const b = await acquireLease(kv, NAME, "b", TTL, clock);
    assertExists(b);
    assertEquals(await guardedWrite(kv, a, "from a after losing it"), false);
    assertEquals((await kv.get(["guarded"])).value, "one", "the failed write did not land");
    assertEquals(await guardedWrite(kv, b, "two"), true);
  }));

Deno.test("lease: leaseCheck follows renewals and fails after release", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const a = await acquireLease(kv, NAME, "a", TTL, clock);
    assertExists(a);
    const renewed = await renewLease(kv, a, TTL, clock);
    assertExists(renewed);
    assertEquals(await guardedWrite(kv, a, "stale"), false, "the pre-renewal object is stale");
    assertEquals(await guardedWrite(kv, renewed, "fresh"), true);
    assertEquals(await releaseLease(kv, renewed), true);
    assertEquals(await guardedWrite(kv, renewed, "released"), false);
    assertEquals((await kv.get(["guarded"])).value, "fresh");
  }));

Deno.test("lease: of 10 owners acquiring at once exactly one wins", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => acquireLease(kv, NAME, `owner-${i}`, TTL, clock)),
    );
    const winners = results.filter((l): l is Lease => l !== null);
    assertEquals(winners.length, 1, `winners: ${winners.map((w) => w.owner)}`);
    assertEquals((await readLease(kv, NAME, clock))?.owner, winners[0].owner);
    assertEquals(await guardedWrite(kv, winners[0], "ok"), true);
  }));

Deno.test("lease: of 10 owners racing for an expired lease exactly one wins", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assertExists(await acquireLease(kv, NAME, "old", TTL, clock));
    clock.advance(TTL);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => acquireLease(kv, NAME, `owner-${i}`, TTL, clock)),
    );
    assertEquals(results.filter((l) => l !== null).length, 1);
  }));

Deno.test("lease: different names are independent", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(0);
    assertExists(await acquireLease(kv, "one", "a", TTL, clock));
    assertExists(await acquireLease(kv, "two", "b", TTL, clock));
    assert((await readLease(kv, "one", clock))?.owner === "a");
    assert((await readLease(kv, "two", clock))?.owner === "b");
  }));

Deno.test("lease: a yielding holder gives the lease back when a long holder asks", () =>
  withKv(async (kv) => {
    const clock = systemClock;
    const held = await YieldingLease.take(kv, NAME, TTL, clock);
    assertExists(held);
    // Its commits go through while nobody asks.
    assert((await held.commit((op) => op.set(["work", 1], 1))).ok);
    const asking = acquireOrAsk(kv, NAME, "chunk", TTL, clock, 5_000);
    // The holder's next commit fails: someone asked. It stops and releases.
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      await new Promise((r) => setTimeout(r, 10));
      refused = !(await held.commit((op) => op.set(["work", 2], 2))).ok;
    }
    assert(refused && held.lost, "the holder noticed the request");
    assertEquals((await kv.get(["work", 2])).value, null);
    await held.release();
    const got = await asking;
    assertExists(got);
    assertEquals(got.owner, "chunk");
    // The request is withdrawn once served; a new yielding holder waits for the chunk.
    assertEquals((await kv.get(keys.leaseYield(NAME))).versionstamp, null);
    assertEquals(await YieldingLease.take(kv, NAME, TTL, clock), null);
  }));

Deno.test("lease: asking a holder that does not yield gives up at once", () =>
  withKv(async (kv) => {
    const clock = systemClock;
    assertExists(await acquireLease(kv, NAME, "chunk-a", TTL, clock));
    const t = Date.now();
    assertEquals(await acquireOrAsk(kv, NAME, "chunk-b", TTL, clock, 5_000), null);
    assert(Date.now() - t < 1_000, "no wait for a chunk's lease");
    assertEquals((await kv.get(keys.leaseYield(NAME))).versionstamp, null);
    // A yielding holder never takes a lease a chunk holds.
    assertEquals(await YieldingLease.take(kv, NAME, TTL, clock), null);
  }));

Deno.test("lease: a yielding holder that stops renewing loses the lease to its expiry", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(1_000_000);
    const held = await YieldingLease.take(kv, NAME, 1_000, clock);
    assertExists(held);
    assert(await held.renew());
    clock.advance(2_000);
    assertExists(await acquireLease(kv, NAME, "chunk", TTL, clock));
    assertEquals(await held.renew(), false);
    assert(held.lost);
  }));
