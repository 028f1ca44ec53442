/**
 * The admission gate every command, component and modal passes: idempotency (except for read-only
 * commands), the role allow-list and the cooldown, in one `getMany` and one atomic write (KV round trips are the cost of the hot
 * path: on Deploy each is a network call). A refusal writes nothing.
 */
import type { APIInteractionResponse } from "discord-api-types/v10";
import { keys } from "../kv/keys.ts";
import { recordEntry } from "../kv/record.ts";
import type { Cooldown } from "./define.ts";
import { IDEMPOTENCY_TTL_MS, PENDING, priorDelivery } from "./idempotency.ts";
import { evaluateCooldown } from "./cooldown.ts";
import { allowListRefusal } from "./permissions.ts";
import { formatNumber, type Language, t } from "../i18n/mod.ts";

export interface GateRequest {
  interactionId: string;
  userId: string;
  now: number;
  /**
   * Claim the interaction id so a duplicate delivery has no side effects. Off for read-only
   * commands: their duplicates are answered again (the cooldown still counts them once).
   */
  claim: boolean;
  /** Present when the command is subject to the guild's role allow-list for this member. */
  allowList?: { guildId: string; command: string; memberRoles: string[] };
  cooldown?: { command: string; userId: string; spec: Cooldown };
  /** The language of a refusal. */
  language: Language;
}

export type GateResult =
  | { kind: "admitted" }
  | { kind: "duplicate"; response?: APIInteractionResponse }
  | { kind: "refused"; message: string };

const ADMITTED: GateResult = { kind: "admitted" };

const absent = (key: Deno.KvKey): Deno.KvEntryMaybe<unknown> => ({
  key,
  value: null,
  versionstamp: null,
});

export async function admit(kv: Deno.Kv, req: GateRequest): Promise<GateResult> {
  // A read-only command without a cooldown or allow-list (/help): nothing to read or write.
  if (!req.claim && !req.allowList && !req.cooldown) return ADMITTED;
  const idemKey = req.claim ? keys.idempotency(req.userId, req.interactionId) : undefined;
  const allowKey = req.allowList && keys.commandRoles(req.allowList.guildId, req.allowList.command);
  const coolKey = req.cooldown && keys.cooldown(req.cooldown.userId, req.cooldown.command);
  const reads = [allowKey, coolKey].filter((k): k is Deno.KvKey => k !== undefined);
  // Optimistic first attempt, when no allow-list must be read: the claim "must not exist" and no
  // recent use of the command (the common case), in one commit and no read. If the commit fails
  // (a duplicate, recent uses, a concurrent use), read what is there and evaluate for real.
  let idemCheck = idemKey && absent(idemKey);
  let entries: Deno.KvEntryMaybe<unknown>[] | null = req.allowList ? null : reads.map(absent);
  for (let attempt = 0; attempt < 5; attempt++) {
    entries ??= reads.length ? await kv.getMany(reads) : [];
    if (req.allowList) {
      const refusal = allowListRefusal(
        entries[0].value,
        req.allowList.memberRoles,
        req.allowList.command,
        req.language,
      );
      if (refusal) return { kind: "refused", message: refusal };
    }
    const op = kv.atomic();
    let writes = 0;
    if (idemKey && idemCheck) {
      op.check(idemCheck).set(idemKey, ...recordEntry(PENDING, IDEMPOTENCY_TTL_MS, req.now));
      writes++;
    }
    if (req.cooldown && coolKey) {
      const entry = entries[entries.length - 1];
      const cd = evaluateCooldown(entry.value, req.cooldown.spec, req.now, req.interactionId);
      if (!cd.ok) {
        const seconds = formatNumber(req.language, cd.retryAfterMs / 1000, {
          minimumFractionDigits: 1,
          maximumFractionDigits: 1,
        });
        return {
          kind: "refused",
          message: t(req.language, "interaction.cooldown", {
            command: req.cooldown.command,
            seconds,
          }),
        };
      }
      if ("next" in cd) {
        op.check(entry).set(coolKey, cd.next, { expireIn: req.cooldown.spec.perMs });
        writes++;
      }
    }
    if (!writes || (await op.commit()).ok) return { kind: "admitted" };
    const fetched = await kv.getMany(idemKey ? [idemKey, ...reads] : reads);
    if (idemKey) {
      const existing = fetched.shift()!;
      const prior = priorDelivery(existing.value, req.now);
      if (prior.seen) return { kind: "duplicate", response: prior.response };
      // An expired record KV has not deleted yet may be replaced; the cooldown entry is evaluated
      // as it really is.
      idemCheck = existing;
    }
    entries = fetched;
  }
  // Constant conflicts on these keys mean a burst of deliveries: treat this one as a duplicate.
  return { kind: "duplicate" };
}
