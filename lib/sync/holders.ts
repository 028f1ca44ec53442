/**
 * Who in a guild holds a validator or human role (or a tier variant of them), kept in KV by every
 * sync page. Validator NFTs and human verification change without a score change, so the feed of
 * score updates never names those members: the hourly incremental run re-checks the holders
 * listed here with fresh flags. An entry is one small key per holder; a stale entry (a member who
 * no longer holds the role) costs one re-check and is removed by it.
 */
import type { SyncRules } from "./rule.ts";

const PREFIX = "sync_holders";
const MUTATIONS_PER_COMMIT = 500;

export const holderKey = (guildId: string, userId: string): Deno.KvKey => [
  PREFIX,
  guildId,
  userId,
];
export const holdersOf = (guildId: string): Deno.KvKey => [PREFIX, guildId];

/** The roles that make a member a holder: validator, human, and the tiers' variants. */
export function flagRoles(rules: SyncRules): Set<string> {
  const out = new Set<string>();
  for (const r of [rules.validatorRoleId, rules.humanRoleId]) if (r) out.add(r);
  for (const t of rules.tiers) {
    for (const r of [t.validatorRoleId, t.humanRoleId, t.humanValidatorRoleId]) if (r) out.add(r);
  }
  return out;
}

export interface HolderChange {
  userId: string;
  holds: boolean;
}

/** Records which members hold (or no longer hold) a flag role after this page. */
export async function recordHolders(
  kv: Deno.Kv,
  guildId: string,
  changes: readonly HolderChange[],
): Promise<void> {
  for (let i = 0; i < changes.length; i += MUTATIONS_PER_COMMIT) {
    const op = kv.atomic();
    for (const c of changes.slice(i, i + MUTATIONS_PER_COMMIT)) {
      if (c.holds) op.set(holderKey(guildId, c.userId), 1);
      else op.delete(holderKey(guildId, c.userId));
    }
    await op.commit();
  }
}

/** Up to `limit` holders after `afterUserId` (exclusive), in key order. */
export async function listHolders(
  kv: Deno.Kv,
  guildId: string,
  afterUserId: string | null,
  limit: number,
): Promise<string[]> {
  const prefix = [PREFIX, guildId];
  const selector: Deno.KvListSelector = afterUserId === null
    ? { prefix }
    : { start: [...prefix, afterUserId, ""], end: [...prefix, "\uffff"] };
  const out: string[] = [];
  for await (const e of kv.list(selector, { limit })) {
    const id = e.key[2];
    if (typeof id === "string") out.push(id);
  }
  return out;
}
