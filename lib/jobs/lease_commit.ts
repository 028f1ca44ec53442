/**
 * The one way the runner writes a job's state: an atomic commit that checks the chunk still holds
 * its lease and renews (or releases) it in the same commit, so a chunk that lost its lease can
 * never overwrite the progress of the one that took over.
 */
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";
import { type Lease, leaseCheck, type LeaseValue } from "../kv/lease.ts";

/**
 * Commits `build`'s mutations only while `lease` is held, renewing it for `leaseMs` (or releasing
 * it) in the same commit. Returns the renewed lease, or null when the lease was lost.
 */
export async function commitWithLease(
  kv: Deno.Kv,
  lease: Lease,
  leaseMs: number,
  clock: Clock,
  build: (op: Deno.AtomicOperation) => void,
  release = false,
): Promise<Lease | null> {
  const op = kv.atomic().check(leaseCheck(lease));
  const value: LeaseValue = {
    owner: lease.owner,
    expiresAt: clock.now() + leaseMs,
    takenAt: lease.takenAt,
  };
  if (release) op.delete(keys.lease(lease.name));
  else op.set(keys.lease(lease.name), value);
  build(op);
  const res = await op.commit();
  if (!res.ok) return null;
  return { ...lease, ...value, versionstamp: res.versionstamp };
}
