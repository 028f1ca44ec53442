/**
 * The admission gate every side-effecting interaction passes: idempotency, the role allow-list
 * and the cooldown, in one `getMany` and one atomic write (KV round trips are the cost of the hot
 * path: on Deploy each is a network call). A refusal writes nothing.
 */
import type { APIInteractionResponse } from "discord-api-types/v10";
import { keys } from "../kv/keys.ts";
import { recordEntry } from "../kv/record.ts";
import type { Cooldown } from "../commands/define.ts";
import { IDEMPOTENCY_TTL_MS, PENDING, priorDelivery } from "./idempotency.ts";
import { evaluateCooldown } from "./cooldown.ts";
import { allowListRefusal } from "./permissions.ts";

export interface GateRequest {
  interactionId: string;
  now: number;
  /** Present when the command is subject to the guild's role allow-list for this member. */
  allowList?: { guildId: string; command: string; memberRoles: string[] };
  cooldown?: { command: string; userId: string; spec: Cooldown };
}

export type GateResult =
  | { kind: "admitted" }
  | { kind: "duplicate"; response?: APIInteractionResponse }
  | { kind: "refused"; message: string };

export async function admit(kv: Deno.Kv, req: GateRequest): Promise<GateResult> {
  const idemKey = keys.idempotency(req.interactionId);
  const allowKey = req.allowList && keys.commandRoles(req.allowList.guildId, req.allowList.command);
  const coolKey = req.cooldown && keys.cooldown(req.cooldown.userId, req.cooldown.command);
  const reads = [allowKey, coolKey].filter((k): k is Deno.KvKey => k !== undefined);
  // "Must not exist" first: no read on the common path.
  let idemCheck: Deno.AtomicCheck = { key: idemKey, versionstamp: null };
  for (let attempt = 0; attempt < 5; attempt++) {
    const entries = reads.length ? await kv.getMany(reads) : [];
    if (req.allowList) {
      const refusal = allowListRefusal(
        entries[0].value,
        req.allowList.memberRoles,
        req.allowList.command,
      );
      if (refusal) return { kind: "refused", message: refusal };
    }
    const op = kv.atomic()
      .check(idemCheck)
      .set(idemKey, ...recordEntry(PENDING, IDEMPOTENCY_TTL_MS, req.now));
    if (req.cooldown && coolKey) {
      const entry = entries[entries.length - 1];
      const cd = evaluateCooldown(entry.value, req.cooldown.spec, req.now);
      if (!cd.ok) {
        return {
          kind: "refused",
          message: `Slow down: you can use \`/${req.cooldown.command}\` again in ${
            (cd.retryAfterMs / 1000).toFixed(1)
          } s.`,
        };
      }
      op.check(entry).set(coolKey, cd.next, { expireIn: req.cooldown.spec.perMs });
    }
    if ((await op.commit()).ok) return { kind: "admitted" };
    const existing = await kv.get(idemKey);
    const prior = priorDelivery(existing.value, req.now);
    if (prior.seen) return { kind: "duplicate", response: prior.response };
    // An expired record KV has not deleted yet may be replaced; otherwise the cooldown entry
    // changed under us (another use by the same member): evaluate again.
    idemCheck = existing;
  }
  // Constant conflicts on these keys mean a burst of deliveries: treat this one as a duplicate.
  return { kind: "duplicate" };
}
