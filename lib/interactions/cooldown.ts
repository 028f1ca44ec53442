/** Per-user, per-command cooldowns: a sliding window of recent uses, stored with the gate's write. */
import { z } from "zod";
import type { Cooldown } from "../commands/define.ts";

const hitsSchema = z.object({ hits: z.array(z.number()) });

export type CooldownResult =
  | { ok: true; next: { hits: number[] } }
  | { ok: false; retryAfterMs: number };

/** Whether one more use fits the window, given the stored value; `next` is what to store. */
export function evaluateCooldown(stored: unknown, cooldown: Cooldown, now: number): CooldownResult {
  const parsed = hitsSchema.safeParse(stored);
  const recent = (parsed.success ? parsed.data.hits : []).filter((t) => t > now - cooldown.perMs);
  if (recent.length >= cooldown.uses) {
    return {
      ok: false,
      retryAfterMs: recent[recent.length - cooldown.uses] + cooldown.perMs - now,
    };
  }
  return { ok: true, next: { hits: [...recent, now] } };
}
