/**
 * The audit log: an append-only, tamper-evident hash chain per guild in KV ("global" for actions
 * without a guild).
 *
 * Each entry carries its sequence number, the SHA-256 of the previous entry (`prev`) and its own
 * hash over the canonical JSON of everything else. An append commits the entry and the new head
 * in one atomic operation that checks the head's versionstamp and that the entry's key is free,
 * so two concurrent appends cannot both extend the same head: the loser re-reads and retries,
 * and the chain never forks.
 *
 * `verifyAudit` walks the chain from its anchor (the start, or where retention cut it) and
 * reports the first entry whose hash, link or number does not fit, and a head that does not
 * match the last entry: an edited, deleted, inserted or re-ordered entry is caught.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import { keys } from "../kv/keys.ts";
import { canonicalJson, sha256Hex } from "../canonical.ts";

/** The chain of actions that concern no guild (operator HTTP actions without one). */
export const GLOBAL = "global";
export const GENESIS = "0".repeat(64);

const actorSchema = z.object({ id: z.string(), name: z.string().optional() });
export type Actor = z.infer<typeof actorSchema>;

const auditEntrySchema = z.object({
  seq: z.number().int().positive(),
  at: z.number(),
  guildId: z.string(),
  actor: actorSchema,
  action: z.string(),
  detail: z.record(z.string(), z.unknown()),
  prev: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const headSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string() });
const anchorSchema = z.object({ seq: z.number().int().nonnegative(), hash: z.string() });

export interface AuditInput {
  guildId?: string | null;
  /** A user ({id, name}) or a system actor: "cron", "http", "schedule". */
  actor: Actor | string;
  /** Dotted, e.g. "backup.create", "config.feature". */
  action: string;
  detail?: Record<string, unknown>;
}

interface AuditDeps {
  kv: Deno.Kv;
  clock: Clock;
  log?: Logger;
}

/** The hash of an entry: SHA-256 of the canonical JSON of every field but `hash`. */
export async function entryHash(e: Omit<AuditEntry, "hash">): Promise<string> {
  const { seq, at, guildId, actor, action, detail, prev } = e;
  return await sha256Hex(
    new TextEncoder().encode(canonicalJson({ seq, at, guildId, actor, action, detail, prev })),
  );
}

const MAX_DETAIL = 8_000;

function cleanDetail(detail: Record<string, unknown> = {}): Record<string, unknown> {
  // Round-trip through JSON: what is hashed is exactly what is stored.
  const json = JSON.stringify(detail, (_k, v) => typeof v === "bigint" ? v.toString() : v);
  if (json.length > MAX_DETAIL) return { truncated: true, size: json.length };
  return JSON.parse(json);
}

/** Appends an entry to the guild's chain; retries on concurrent appends. */
export async function appendAudit(deps: AuditDeps, input: AuditInput): Promise<AuditEntry> {
  const guildId = input.guildId ?? GLOBAL;
  const actor: Actor = typeof input.actor === "string" ? { id: input.actor } : input.actor;
  const detail = cleanDetail(input.detail);
  for (let attempt = 0; attempt < 60; attempt++) {
    const head = await deps.kv.get(keys.auditHead(guildId));
    const parsed = headSchema.safeParse(head.value);
    const prev = parsed.success ? parsed.data : { seq: 0, hash: GENESIS };
    const body = {
      seq: prev.seq + 1,
      at: deps.clock.now(),
      guildId,
      actor,
      action: input.action,
      detail,
      prev: prev.hash,
    };
    const entry: AuditEntry = { ...body, hash: await entryHash(body) };
    const entryKey = keys.auditEntry(guildId, entry.seq);
    const res = await deps.kv.atomic()
      .check(head)
      .check({ key: entryKey, versionstamp: null })
      .set(entryKey, entry)
      .set(keys.auditHead(guildId), { seq: entry.seq, hash: entry.hash })
      .commit();
    if (res.ok) return entry;
    // Lost to a concurrent append: re-read the head after a short, jittered pause.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * (attempt + 1))));
  }
  throw new Error("audit append kept conflicting");
}

/**
 * Appends without failing the caller: an action that already happened is logged even when the
 * audit write fails (the failure goes to the log).
 */
export async function tryAppendAudit(deps: AuditDeps, input: AuditInput): Promise<void> {
  try {
    await appendAudit(deps, input);
  } catch (error) {
    deps.log?.error("audit append failed", { action: input.action, error });
  }
}

export interface AuditPage {
  entries: AuditEntry[];
  /** The newest sequence number (the head), 0 when empty. */
  head: number;
  /** The oldest kept entry's number (1 unless retention cut the chain). */
  first: number;
}

/** Entries newest first, `limit` of them, starting below `beforeSeq` (default: the head). */
export async function readAudit(
  kv: Deno.Kv,
  guildId: string,
  opts: { beforeSeq?: number; limit?: number } = {},
): Promise<AuditPage> {
  const head = headSchema.safeParse((await kv.get(keys.auditHead(guildId))).value);
  const anchor = anchorSchema.safeParse((await kv.get(keys.auditAnchor(guildId))).value);
  const top = head.success ? head.data.seq : 0;
  const entries: AuditEntry[] = [];
  const end = Math.min(opts.beforeSeq ?? top + 1, top + 1);
  const iter = kv.list({
    start: keys.auditEntries(guildId),
    end: keys.auditEntry(guildId, end),
  }, { reverse: true, limit: opts.limit ?? 10 });
  for await (const e of iter) {
    const parsed = auditEntrySchema.safeParse(e.value);
    if (parsed.success) entries.push(parsed.data);
  }
  return { entries, head: top, first: anchor.success ? anchor.data.seq + 1 : 1 };
}

export interface AuditVerification {
  ok: boolean;
  /** Entries checked. */
  count: number;
  head: number;
  /** The first entry that does not fit, when not ok. */
  brokenAt: number | null;
  reason: string | null;
}

/** Walks the whole chain (see the module comment). */
export async function verifyAudit(kv: Deno.Kv, guildId: string): Promise<AuditVerification> {
  const headEntry = headSchema.safeParse((await kv.get(keys.auditHead(guildId))).value);
  const anchor = anchorSchema.safeParse((await kv.get(keys.auditAnchor(guildId))).value);
  let expectSeq = anchor.success ? anchor.data.seq + 1 : 1;
  let prev = anchor.success ? anchor.data.hash : GENESIS;
  let count = 0;
  const fail = (at: number, reason: string): AuditVerification => ({
    ok: false,
    count,
    head: headEntry.success ? headEntry.data.seq : 0,
    brokenAt: at,
    reason,
  });
  for await (const e of kv.list({ prefix: keys.auditEntries(guildId) })) {
    const keySeq = e.key[e.key.length - 1];
    const parsed = auditEntrySchema.safeParse(e.value);
    if (!parsed.success) return fail(Number(keySeq), "entry is not readable");
    const entry = parsed.data;
    if (entry.seq !== keySeq) return fail(Number(keySeq), "entry stored under another number");
    if (entry.seq !== expectSeq) {
      return fail(expectSeq, `entry ${expectSeq} is missing (next is ${entry.seq})`);
    }
    if (entry.guildId !== guildId) return fail(entry.seq, "entry belongs to another chain");
    if (entry.prev !== prev) return fail(entry.seq, "link to the previous entry does not match");
    const { hash, ...body } = entry;
    if (await entryHash(body) !== hash) {
      return fail(entry.seq, "entry was modified (hash mismatch)");
    }
    prev = hash;
    expectSeq++;
    count++;
  }
  const head = headEntry.success ? headEntry.data : { seq: 0, hash: GENESIS };
  const last = expectSeq - 1;
  if (head.seq !== last || (count > 0 && head.hash !== prev)) {
    return fail(
      Math.min(head.seq, last) + 1,
      `the head (${head.seq}) does not match the chain (${last})`,
    );
  }
  return { ok: true, count, head: head.seq, brokenAt: null, reason: null };
}

/**
 * Retention: drops entries older than `days` from the start of the chain, keeping an anchor
 * (the last dropped entry's number and hash) so the rest still verifies. 0 keeps everything.
 */
export async function pruneAudit(
  kv: Deno.Kv,
  guildId: string,
  days: number,
  now: number,
): Promise<number> {
  if (days <= 0) return 0;
  const cutoff = now - days * 86_400_000;
  let dropped = 0;
  for (;;) {
    const batch: AuditEntry[] = [];
    for await (const e of kv.list({ prefix: keys.auditEntries(guildId) }, { limit: 100 })) {
      const parsed = auditEntrySchema.safeParse(e.value);
      if (!parsed.success || parsed.data.at >= cutoff) break;
      batch.push(parsed.data);
    }
    // Never drop the newest entry: the head must keep pointing at a stored entry.
    const head = headSchema.safeParse((await kv.get(keys.auditHead(guildId))).value);
    const drop = batch.filter((e) => head.success && e.seq < head.data.seq);
    if (drop.length === 0) return dropped;
    const last = drop[drop.length - 1];
    const op = kv.atomic();
    for (const e of drop) op.delete(keys.auditEntry(guildId, e.seq));
    op.set(keys.auditAnchor(guildId), { seq: last.seq, hash: last.hash });
    await op.commit();
    dropped += drop.length;
    if (drop.length < 100) return dropped;
  }
}

/** Chains that exist (guild ids and "global"). */
export async function auditChains(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.auditHeads() })) {
    const id = e.key[e.key.length - 1];
    if (typeof id === "string") out.push(id);
  }
  return out;
}

/** Retention of every chain (cron): AUDIT_RETENTION_DAYS, 0 keeps everything. */
export async function auditRetention(
  deps: AuditDeps & { config: { ops: { auditRetentionDays: number } } },
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const days = deps.config.ops.auditRetentionDays;
  if (days <= 0) return out;
  for (const chain of await auditChains(deps.kv)) {
    const n = await pruneAudit(deps.kv, chain, days, deps.clock.now());
    if (n) out[chain] = n;
  }
  return out;
}
