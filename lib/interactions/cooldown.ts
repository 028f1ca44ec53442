/**
 * Per-user, per-command cooldowns: a sliding window of recent uses, stored with the gate's write.
 * Each use keeps its interaction id, so a duplicate delivery is recognised and never counted twice
 * (read-only commands have no other idempotency record).
 */
import { z } from "zod";
import type { Cooldown } from "./define.ts";

const usesSchema = z.object({ at: z.array(z.number()), ids: z.array(z.string()) })
  .refine((u) => u.at.length === u.ids.length);

export type CooldownUses = z.infer<typeof usesSchema>;

export type CooldownResult =
  /** One more use fits; `next` is what to store. */
  | { ok: true; next: CooldownUses }
  /** This interaction is already counted in the window: nothing to store. */
  | { ok: true; repeat: true }
  | { ok: false; retryAfterMs: number };

/** Whether use `id` fits the window, given the stored value. */
export function evaluateCooldown(
  stored: unknown,
  cooldown: Cooldown,
  now: number,
  id: string,
): CooldownResult {
  const parsed = usesSchema.safeParse(stored);
  const at: number[] = [];
  const ids: string[] = [];
  if (parsed.success) {
    for (let i = 0; i < parsed.data.at.length; i++) {
      if (parsed.data.at[i] <= now - cooldown.perMs) continue;
      if (parsed.data.ids[i] === id) return { ok: true, repeat: true };
      at.push(parsed.data.at[i]);
      ids.push(parsed.data.ids[i]);
    }
  }
  if (at.length >= cooldown.uses) {
    return { ok: false, retryAfterMs: at[at.length - cooldown.uses] + cooldown.perMs - now };
  }
  at.push(now);
  ids.push(id);
  return { ok: true, next: { at, ids } };
}
