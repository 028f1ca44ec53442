/**
 * Linked users in KV: one record per Discord user who connected (`["linked_roles", "user", id]`),
 * holding the refresh and access tokens sealed (token_box.ts), when the access token expires, and
 * what was last pushed to Discord. Written only once a connection has been pushed, so a flow that
 * fails leaves nothing behind. Connect states (`["linked_roles", "state", s]`) live 10 minutes and
 * are deleted on use, so a state is good once.
 */
import { z } from "zod";
import { base64url } from "../hmac.ts";
import { liveValue, recordEntry } from "../kv/record.ts";

export const linkedKeys = {
  user: (userId: string): Deno.KvKey => ["linked_roles", "user", userId],
  users: (): Deno.KvKey => ["linked_roles", "user"],
  state: (state: string): Deno.KvKey => ["linked_roles", "state", state],
};

export const STATE_TTL_MS = 10 * 60_000;

export const linkedUserSchema = z.object({
  refresh: z.string(),
  access: z.string(),
  /** Epoch ms. */
  expiresAt: z.number(),
  linkedAt: z.number(),
  pushedAt: z.number(),
  /** The metadata as last pushed. */
  metadata: z.record(z.string(), z.string()),
  platformUsername: z.string().nullable(),
});
export type LinkedUser = z.infer<typeof linkedUserSchema>;

export async function getLinked(
  kv: Deno.Kv,
  userId: string,
): Promise<{ value: LinkedUser; versionstamp: string } | null> {
  const e = await kv.get(linkedKeys.user(userId));
  const parsed = linkedUserSchema.safeParse(e.value);
  return parsed.success && e.versionstamp
    ? { value: parsed.data, versionstamp: e.versionstamp }
    : null;
}

/**
 * A state's record lives while `now < expiresAt`; one millisecond more than the TTL keeps a state
 * good at exactly ten minutes, as the cookie's max-age is.
 */
const STATE_RECORD_TTL_MS = STATE_TTL_MS + 1;
const stateValue = z.literal(true);

/** A connect state, good once for STATE_TTL_MS. */
export async function createState(kv: Deno.Kv, now: number): Promise<string> {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const state = base64url(bytes);
  await kv.set(linkedKeys.state(state), ...recordEntry(true, STATE_RECORD_TTL_MS, now));
  return state;
}

/** Takes a state (deletes it, live or expired); false when it is unknown, used or expired. */
export async function takeState(kv: Deno.Kv, state: string, now: number): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(state)) return false;
  const e = await kv.get(linkedKeys.state(state));
  if (e.versionstamp === null) return false;
  const ok = await kv.atomic().check(e).delete(linkedKeys.state(state)).commit();
  return ok.ok && liveValue(e.value, stateValue, now) !== null;
}

const ADDED: Deno.KvKey = ["linked_roles", "count", "added"];
const REMOVED: Deno.KvKey = ["linked_roles", "count", "removed"];

/** Stores a user's record; a first connection adds one to the linked count. */
export async function saveLinked(kv: Deno.Kv, userId: string, record: LinkedUser): Promise<void> {
  const key = linkedKeys.user(userId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await kv.get(key);
    const op = kv.atomic().check(cur).set(key, record);
    if (cur.versionstamp === null) op.sum(ADDED, 1n);
    if ((await op.commit()).ok) return;
  }
  throw new Error("linked roles: the user's record kept changing while saving");
}

/** Deletes a user's record (one less linked); false when there was none. */
export async function deleteLinked(kv: Deno.Kv, userId: string): Promise<boolean> {
  const key = linkedKeys.user(userId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await kv.get(key);
    if (cur.versionstamp === null) return false;
    if ((await kv.atomic().check(cur).delete(key).sum(REMOVED, 1n).commit()).ok) return true;
  }
  return false;
}

/** How many users are linked (two counters: no scan however many there are). */
export async function countLinked(kv: Deno.Kv): Promise<number> {
  const [added, removed] = await kv.getMany<[Deno.KvU64, Deno.KvU64]>([ADDED, REMOVED]);
  return Number((added.value?.value ?? 0n) - (removed.value?.value ?? 0n));
}
