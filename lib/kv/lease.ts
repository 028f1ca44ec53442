/**
 * Leases: "only one runner at a time" across isolates. A lease has an owner and an expiry kept in
 * the value (KV's expireIn is not exact); taking, renewing and releasing are atomic checks on the
 * entry's versionstamp, so two isolates can never both believe they hold it.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { keys } from "./keys.ts";

const leaseValue = z.object({ owner: z.string(), expiresAt: z.number(), takenAt: z.number() });
export type LeaseValue = z.infer<typeof leaseValue>;

export interface Lease extends LeaseValue {
  name: string;
  versionstamp: string;
}

export interface LeaseInfo extends LeaseValue {
  live: boolean;
}

export async function readLease(
  kv: Deno.Kv,
  name: string,
  clock: Clock,
): Promise<LeaseInfo | null> {
  const entry = await kv.get(keys.lease(name));
  const parsed = leaseValue.safeParse(entry.value);
  if (entry.versionstamp === null || !parsed.success) return null;
  return { ...parsed.data, live: parsed.data.expiresAt > clock.now() };
}

/** Takes the lease if it is free, expired, or already ours. Null when someone else holds it. */
export async function acquireLease(
  kv: Deno.Kv,
  name: string,
  owner: string,
  ttlMs: number,
  clock: Clock,
): Promise<Lease | null> {
  const key = keys.lease(name);
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(key);
    const current = leaseValue.safeParse(entry.value);
    const now = clock.now();
    if (
      entry.versionstamp !== null && current.success && current.data.expiresAt > now &&
      current.data.owner !== owner
    ) return null;
    const value: LeaseValue = {
      owner,
      expiresAt: now + ttlMs,
      takenAt: current.success && current.data.owner === owner ? current.data.takenAt : now,
    };
    const res = await kv.atomic().check(entry).set(key, value).commit();
    if (res.ok) return { name, ...value, versionstamp: res.versionstamp };
  }
  return null;
}

/** Extends a lease we hold. Null when it was lost (taken over after expiry, or released). */
export function renewLease(
  kv: Deno.Kv,
  lease: Lease,
  ttlMs: number,
  clock: Clock,
): Promise<Lease | null> {
  return commitWithLease(kv, lease, ttlMs, clock, () => {});
}

/**
 * Commits `build`'s mutations only while `lease` is held, renewing it for `ttlMs` (or releasing
 * it) in the same commit, so a holder that lost its lease never overwrites its successor's
 * writes. Returns the renewed lease, or null when the lease was lost.
 */
export async function commitWithLease(
  kv: Deno.Kv,
  lease: Lease,
  ttlMs: number,
  clock: Clock,
  build: (op: Deno.AtomicOperation) => void,
  release = false,
): Promise<Lease | null> {
  const op = kv.atomic().check(leaseCheck(lease));
  const value: LeaseValue = {
    owner: lease.owner,
    expiresAt: clock.now() + ttlMs,
    takenAt: lease.takenAt,
  };
  if (release) op.delete(keys.lease(lease.name));
  else op.set(keys.lease(lease.name), value);
  build(op);
  const res = await op.commit();
  return res.ok ? { ...lease, ...value, versionstamp: res.versionstamp } : null;
}

/** Releases a lease we hold; false if it was no longer ours. */
export async function releaseLease(kv: Deno.Kv, lease: Lease): Promise<boolean> {
  const res = await kv.atomic()
    .check({ key: keys.lease(lease.name), versionstamp: lease.versionstamp })
    .delete(keys.lease(lease.name))
    .commit();
  return res.ok;
}

/** The check to add to an atomic operation that must only commit while the lease is held. */
export function leaseCheck(lease: Lease): Deno.AtomicCheck {
  return { key: keys.lease(lease.name), versionstamp: lease.versionstamp };
}

/**
 * Yielding holders: short work that may hold a lease between the long holder's turns (the
 * freshness pass writing a guild's roles between sync chunks) and gives it back when asked. Its
 * owner starts with `YIELDING`; a long holder that finds it asks (`acquireOrAsk`) and waits.
 */
export const YIELDING = "yield:";

/** The check a yielding holder adds to its commits: fails once someone asked for the lease. */
function yieldCheck(name: string): Deno.AtomicCheck {
  return { key: keys.leaseYield(name), versionstamp: null };
}

/**
 * Takes the lease; when a yielding holder has it, asks it to give way and waits up to `waitMs`
 * for it (a yielding holder finishes its in-flight work and releases within seconds).
 */
export async function acquireOrAsk(
  kv: Deno.Kv,
  name: string,
  owner: string,
  ttlMs: number,
  clock: Clock,
  waitMs: number,
): Promise<Lease | null> {
  const deadline = clock.now() + waitMs;
  let asked = false;
  try {
    for (;;) {
      const lease = await acquireLease(kv, name, owner, ttlMs, clock);
      if (lease) return lease;
      const holder = await readLease(kv, name, clock);
      if (!holder?.owner.startsWith(YIELDING) || clock.now() >= deadline) return null;
      if (!asked) {
        await kv.set(keys.leaseYield(name), owner, { expireIn: waitMs + 60_000 });
        asked = true;
      }
      await clock.sleep(Math.min(200, Math.max(1, deadline - clock.now())));
    }
  } finally {
    if (asked) await kv.delete(keys.leaseYield(name));
  }
}

/**
 * A yielding holder's lease: commits go one at a time (each checks the lease and that nobody
 * asked for it), `renew` heartbeats, and `lost` says the work must stop.
 */
export class YieldingLease {
  #lease: Lease;
  #chain: Promise<unknown> = Promise.resolve();
  /** Someone asked for the lease, or it lapsed: stop taking work. */
  lost = false;

  private constructor(
    private readonly kv: Deno.Kv,
    lease: Lease,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {
    this.#lease = lease;
  }

  static async take(
    kv: Deno.Kv,
    name: string,
    ttlMs: number,
    clock: Clock,
  ): Promise<YieldingLease | null> {
    // Someone waiting for it goes first.
    if ((await kv.get(keys.leaseYield(name))).versionstamp !== null) return null;
    const lease = await acquireLease(kv, name, `${YIELDING}${crypto.randomUUID()}`, ttlMs, clock);
    return lease ? new YieldingLease(kv, lease, ttlMs, clock) : null;
  }

  /** Commits `build`'s mutations while the lease is held and nobody asked for it. */
  commit(
    build: (op: Deno.AtomicOperation) => void,
  ): Promise<Deno.KvCommitResult | Deno.KvCommitError> {
    const run = async () => {
      if (this.lost) return { ok: false } as Deno.KvCommitError;
      const op = this.kv.atomic().check(leaseCheck(this.#lease)).check(
        yieldCheck(this.#lease.name),
      );
      build(op);
      const res = await op.commit();
      if (!res.ok) await this.#check();
      return res;
    };
    return this.#serial(run);
  }

  /** Extends the lease (a heartbeat); false once it is lost. */
  renew(): Promise<boolean> {
    const run = async () => {
      if (this.lost) return false;
      const value: LeaseValue = {
        owner: this.#lease.owner,
        expiresAt: this.clock.now() + this.ttlMs,
        takenAt: this.#lease.takenAt,
      };
      const res = await this.kv.atomic().check(leaseCheck(this.#lease))
        .check(yieldCheck(this.#lease.name)).set(keys.lease(this.#lease.name), value).commit();
      if (res.ok) this.#lease = { ...this.#lease, ...value, versionstamp: res.versionstamp };
      else this.lost = true;
      return res.ok;
    };
    return this.#serial(run);
  }

  /** Runs `fn` after every commit and renewal before it (they check one lease versionstamp). */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch(() => {});
    return p;
  }

  /** A commit failed: the lease is lost when it changed hands or someone asked for it. */
  async #check(): Promise<void> {
    const [lease, asked] = await this.kv.getMany([
      keys.lease(this.#lease.name),
      keys.leaseYield(this.#lease.name),
    ]);
    if (lease.versionstamp !== this.#lease.versionstamp || asked.versionstamp !== null) {
      this.lost = true;
    }
  }

  async release(): Promise<void> {
    await this.#chain;
    this.lost = true;
    await releaseLease(this.kv, this.#lease).catch(() => false);
  }
}
