/**
 * What the manifest sync keeps in KV, per scope: the fingerprint last synced, a 429 cooldown, the
 * last drift check; per guild, whether the per-guild fallback left a copy of the commands there;
 * and one capped sync log of every attempt. Values are validated on read.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";
import { getTyped } from "../kv/codec.ts";
import { getRecord, setRecord } from "../kv/record.ts";
import type { ScopeKey, SyncLogEntry } from "./types.ts";

const summarySchema = z.object({
  added: z.number(),
  removed: z.number(),
  changed: z.number(),
  unchanged: z.number(),
  names: z.object({
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
  }),
});

const syncedSchema = z.object({
  fingerprint: z.string(),
  at: z.number(),
  commands: z.number(),
  /** How the scope was found to match: written by us, or already matching on Discord. */
  via: z.enum(["synced", "in_sync"]),
});
export type SyncedRecord = z.infer<typeof syncedSchema>;

const cooldownSchema = z.object({
  until: z.number(),
  retryAfterMs: z.number(),
  setAt: z.number(),
  error: z.string(),
});
export type CooldownRecord = z.infer<typeof cooldownSchema>;

const driftSchema = z.object({
  at: z.number(),
  inSync: z.boolean(),
  fingerprint: z.string(),
  discordFingerprint: z.string(),
  summary: summarySchema,
});
export type DriftRecord = z.infer<typeof driftSchema>;

const scopeKey = z.custom<ScopeKey>((v) =>
  typeof v === "string" && (v === "global" || /^guild:\d{17,20}$/.test(v))
);

const fallbackSchema = z.object({
  /** When the fallback last synced the guild, and the fingerprint it sent. */
  at: z.number(),
  fingerprint: z.string(),
});
export type FallbackRecord = z.infer<typeof fallbackSchema>;

const logEntrySchema = z.object({
  scope: scopeKey,
  outcome: z.enum([
    "synced",
    "in_sync",
    "unchanged",
    "cooldown",
    "busy",
    "rate_limited",
    "failed",
    "invalid",
    "cleared",
  ]),
  fingerprint: z.string(),
  calls: z.number(),
  at: z.number(),
  durationMs: z.number(),
  diff: summarySchema.optional(),
  cooldownUntil: z.number().optional(),
  error: z.string().optional(),
  status: z.number().optional(),
  trigger: z.enum(["operator", "start", "cron", "drift", "bench", "test"]),
  forced: z.boolean(),
});

export const LOG_CAP = 200;
let logSeq = 0;
const LOG_TTL_MS = 90 * 86_400_000;

export async function getSynced(kv: Deno.Kv, scope: ScopeKey): Promise<SyncedRecord | null> {
  return (await getTyped(kv, keys.commandsSynced(scope), syncedSchema))?.value ?? null;
}

export async function setSynced(kv: Deno.Kv, scope: ScopeKey, record: SyncedRecord): Promise<void> {
  await kv.set(keys.commandsSynced(scope), syncedSchema.parse(record));
}

/** The cooldown in force for the scope, or null. */
export function getCooldown(
  kv: Deno.Kv,
  scope: ScopeKey,
  clock: Clock,
): Promise<CooldownRecord | null> {
  return getRecord(kv, keys.commandsCooldown(scope), cooldownSchema, clock);
}

export async function setCooldown(
  kv: Deno.Kv,
  scope: ScopeKey,
  record: CooldownRecord,
  clock: Clock,
): Promise<void> {
  await setRecord(
    kv,
    keys.commandsCooldown(scope),
    cooldownSchema.parse(record),
    Math.max(1, record.until - clock.now()),
    clock,
  );
}

export async function getDrift(kv: Deno.Kv, scope: ScopeKey): Promise<DriftRecord | null> {
  return (await getTyped(kv, keys.commandsDrift(scope), driftSchema))?.value ?? null;
}

export async function setDrift(kv: Deno.Kv, scope: ScopeKey, record: DriftRecord): Promise<void> {
  await kv.set(keys.commandsDrift(scope), driftSchema.parse(record));
}

/** Notes that the per-guild fallback left a copy of the commands in the guild. */
export async function setFallbackCopy(
  kv: Deno.Kv,
  guildId: string,
  record: FallbackRecord,
): Promise<void> {
  await kv.set(keys.commandsFallback(guildId), fallbackSchema.parse(record));
}

/** The guilds holding a fallback copy, oldest id first; records that no longer parse are skipped. */
export async function listFallbackCopies(
  kv: Deno.Kv,
): Promise<{ guildId: string; record: FallbackRecord }[]> {
  const out: { guildId: string; record: FallbackRecord }[] = [];
  for await (const e of kv.list({ prefix: keys.commandsFallbackPrefix() })) {
    const guildId = e.key[e.key.length - 1];
    const parsed = fallbackSchema.safeParse(e.value);
    if (typeof guildId === "string" && parsed.success) out.push({ guildId, record: parsed.data });
  }
  return out;
}

/**
 * Forgets a guild's fallback copy once it was removed, with the fingerprint synced to its scope
 * (the scope no longer holds it: a later fallback must write the guild again).
 */
export async function clearFallbackCopy(kv: Deno.Kv, guildId: string): Promise<void> {
  await kv.atomic()
    .delete(keys.commandsFallback(guildId))
    .delete(keys.commandsSynced(`guild:${guildId}`))
    .commit();
}

/** Appends an attempt to the sync log, then trims it to the newest `cap` entries. */
export async function appendLog(
  kv: Deno.Kv,
  entry: SyncLogEntry,
  cap = LOG_CAP,
): Promise<void> {
  // Same-millisecond entries keep their order within an isolate; the suffix keeps keys unique.
  const id = `${String(++logSeq).padStart(10, "0")}-${crypto.randomUUID().slice(0, 8)}`;
  await kv.set(keys.commandsLog(entry.at, id), logEntrySchema.parse(entry), {
    expireIn: LOG_TTL_MS,
  });
  const stale: Deno.KvKey[] = [];
  let seen = 0;
  for await (const e of kv.list({ prefix: keys.commandsLogPrefix() }, { reverse: true })) {
    if (++seen > cap) stale.push(e.key);
  }
  for (let i = 0; i < stale.length; i += 100) {
    const op = kv.atomic();
    for (const key of stale.slice(i, i + 100)) op.delete(key);
    await op.commit();
  }
}

/** The newest `limit` attempts, newest first; entries that no longer parse are skipped. */
export async function readLog(kv: Deno.Kv, limit = 50): Promise<SyncLogEntry[]> {
  const out: SyncLogEntry[] = [];
  const iter = kv.list({ prefix: keys.commandsLogPrefix() }, { reverse: true, limit });
  for await (const e of iter) {
    const parsed = logEntrySchema.safeParse(e.value);
    if (parsed.success) out.push(parsed.data as SyncLogEntry);
  }
  return out;
}
