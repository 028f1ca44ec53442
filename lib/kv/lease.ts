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
export async function renewLease(
  kv: Deno.Kv,
  lease: Lease,
  ttlMs: number,
  clock: Clock,
): Promise<Lease | null> {
  const value: LeaseValue = {
    owner: lease.owner,
    expiresAt: clock.now() + ttlMs,
    takenAt: lease.takenAt,
  };
  const res = await kv.atomic()
    .check({ key: keys.lease(lease.name), versionstamp: lease.versionstamp })
    .set(keys.lease(lease.name), value)
    .commit();
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
