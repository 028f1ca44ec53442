/**
 * Linked users in KV: one record per Discord user who connected (`["linked_roles", "user", id]`),
 * holding the refresh and access tokens sealed (token_box.ts), when the access token expires, and
 * what was last pushed to Discord. Written only once a connection has been pushed, so a flow that
 * fails leaves nothing behind. Connect states (`["linked_roles", "state", s]`) live 10 minutes and
 * are deleted on use, so a state is good once.
 */
import { z } from "zod";

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

/** A connect state, good once for STATE_TTL_MS. */
export async function createState(kv: Deno.Kv, now: number): Promise<string> {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const state = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
  await kv.set(linkedKeys.state(state), { at: now }, { expireIn: STATE_TTL_MS });
  return state;
}

/** Takes a state (deletes it); false when it is unknown, used or expired. */
export async function takeState(kv: Deno.Kv, state: string, now: number): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(state)) return false;
  const e = await kv.get<{ at: number }>(linkedKeys.state(state));
  if (e.versionstamp === null || typeof e.value?.at !== "number") return false;
  const ok = await kv.atomic().check(e).delete(linkedKeys.state(state)).commit();
  // KV's expiry is not exact: the time in the value is.
  return ok.ok && now - e.value.at <= STATE_TTL_MS;
}

/** How many users are linked (one key read each: an operator's view, not a hot path). */
export async function countLinked(kv: Deno.Kv): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix: linkedKeys.users() })) n++;
  return n;
}
