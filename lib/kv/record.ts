/**
 * Records with an expiry. KV's `expireIn` is only the earliest deletion time, so the expiry is
 * stored in the value and checked on read.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";

const envelope = z.object({ expiresAt: z.number(), value: z.unknown() });

/**
 * KV's expireIn must be a non-negative integer; TTLs often are not (a Retry-After of 1.5 s, a
 * deadline already past). Rounded up so KV never deletes before the stored expiry.
 */
function kvExpiry(ttlMs: number): { expireIn: number } | undefined {
  return Number.isFinite(ttlMs) ? { expireIn: Math.max(0, Math.ceil(ttlMs)) } : undefined;
}

/** The value of a raw record entry if it is live and fits `schema`, else null. */
export function liveValue<S extends z.ZodType>(
  raw: unknown,
  schema: S,
  now: number,
): z.infer<S> | null {
  const env = envelope.safeParse(raw);
  if (!env.success || env.data.expiresAt <= now) return null;
  const parsed = schema.safeParse(env.data.value);
  return parsed.success ? parsed.data : null;
}

/** A record's stored form and set options, for callers composing their own atomic operation. */
export function recordEntry(
  value: unknown,
  ttlMs: number,
  now: number,
): [{ expiresAt: number; value: unknown }, { expireIn: number } | undefined] {
  return [{ expiresAt: now + ttlMs, value }, kvExpiry(ttlMs)];
}

export async function setRecord(
  kv: Deno.Kv,
  key: Deno.KvKey,
  value: unknown,
  ttlMs: number,
  clock: Clock,
): Promise<void> {
  await kv.set(key, { expiresAt: clock.now() + ttlMs, value }, kvExpiry(ttlMs));
}

/** The value, or null when absent or expired. */
export async function getRecord<S extends z.ZodType>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  schema: S,
  clock: Clock,
): Promise<z.infer<S> | null> {
  const entry = await kv.get(key);
  if (entry.versionstamp === null) return null;
  const env = envelope.safeParse(entry.value);
  if (!env.success || env.data.expiresAt <= clock.now()) return null;
  const parsed = schema.safeParse(env.data.value);
  return parsed.success ? parsed.data : null;
}

/**
 * Sets the record only if no live record exists. Returns true when this call created it: the
 * building block for "do this once" (idempotency) across isolates.
 */
export async function claimRecord(
  kv: Deno.Kv,
  key: Deno.KvKey,
  value: unknown,
  ttlMs: number,
  clock: Clock,
): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(key);
    if (entry.versionstamp !== null) {
      const env = envelope.safeParse(entry.value);
      if (env.success && env.data.expiresAt > clock.now()) return false;
    }
    const res = await kv.atomic().check(entry)
      .set(key, { expiresAt: clock.now() + ttlMs, value }, kvExpiry(ttlMs))
      .commit();
    if (res.ok) return true;
  }
  return false;
}
