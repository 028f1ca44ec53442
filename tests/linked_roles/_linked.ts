/**
 * A linked user as the connect flow leaves one: its stored record alone (for the store, status and
 * metrics tests), or linked for real at the fake OAuth server (for the keeper and freshness tests).
 */
import assert from "node:assert/strict";
import { loadSigningKeys } from "../../lib/signing_keys.ts";
import { getLinked, type LinkedUser, saveLinked } from "../../lib/linked_roles/store.ts";
import { open, seal, type TokenKeys } from "../../lib/linked_roles/token_box.ts";
import type { MemoryDeps } from "../_deps.ts";
import type { FakeOAuth } from "./_fake_oauth.ts";

export const DAY = 86_400_000;

/** A user's record linked at `now` for a day, its tokens stand-ins that nothing opens; then `over`. */
export function linkedRecord(now: number, over: Partial<LinkedUser> = {}): LinkedUser {
  return {
    refresh: "sealed-refresh",
    access: "sealed-access",
    expiresAt: now + DAY,
    linkedAt: now,
    pushedAt: now,
    metadata: { score: "1400" },
    platformUsername: null,
    ...over,
  };
}

export function tokenKeys(deps: MemoryDeps): Promise<TokenKeys> {
  return loadSigningKeys(deps.config, deps.kv).then((k) => k.tokenBox);
}

/**
 * Links `userId`: a live grant at the fake, its tokens sealed in a record that expires in
 * `expiresInMs` and says Discord has `metadata`. Returns the grant's tokens.
 */
export async function link(
  deps: MemoryDeps,
  keys: TokenKeys,
  fake: FakeOAuth,
  userId: string,
  o: { expiresInMs?: number; metadata?: Record<string, string>; name?: string | null } = {},
): Promise<{ access: string; refresh: string }> {
  const g = fake.grant(userId);
  const now = deps.clock.now();
  const record: LinkedUser = {
    refresh: await seal(keys, userId, g.refresh),
    access: await seal(keys, userId, g.access),
    expiresAt: now + (o.expiresInMs ?? 7 * DAY),
    linkedAt: now,
    pushedAt: now,
    metadata: o.metadata ?? { score: "1400", level: "3", validator: "0", human: "0" },
    platformUsername: o.name === undefined ? "Ann" : o.name,
  };
  await saveLinked(deps.kv, userId, record);
  return g;
}

/** The user's stored tokens, opened. */
export async function storedTokens(deps: MemoryDeps, keys: TokenKeys, userId: string) {
  const rec = await getLinked(deps.kv, userId);
  if (!rec) return null;
  return {
    access: await open(keys, userId, rec.value.access),
    refresh: await open(keys, userId, rec.value.refresh),
    record: rec.value,
  };
}

/** Asserts `userId` is disconnected: Discord's connection cleared, `grant` revoked, no record. */
export async function assertDisconnected(
  kv: Deno.Kv,
  fake: FakeOAuth,
  userId: string,
  grant: { refresh: string },
): Promise<void> {
  assert.deepEqual(fake.connections.get(userId), {
    platform_name: "Ethos",
    platform_username: null,
    metadata: {},
  });
  assert.deepEqual(fake.revoked, [grant.refresh]);
  assert.equal(await getLinked(kv, userId), null);
}
