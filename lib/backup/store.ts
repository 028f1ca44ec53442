/**
 * Backup storage in KV.
 *
 * - The snapshot's canonical bytes, gzip-compressed (the built-in CompressionStream), stored with
 *   lib/kv/blob.ts: split under the 64 KiB value limit, read back whole or not at all, with the
 *   blob's own SHA-256 of the compressed bytes.
 * - The index: one entry per backup (id, label, author, time, sizes, counts, checksum of the
 *   canonical bytes, pinned, note), listed by guild.
 * - A per-guild state entry that every create and delete commits against (an atomic check on its
 *   versionstamp), so the cap and cooldown hold under concurrent requests.
 *
 * Verify recomputes the SHA-256 of the decompressed canonical bytes against the index's checksum
 * (and the blob layer checks the compressed bytes first), so a flipped byte anywhere is caught.
 * The errors carry their Reason (lib/i18n/reason.ts), so each edge says them in its reader's
 * language. Retention (what is deleted on its own) is lib/backup/retention.ts, over these
 * functions. Kept whole past 400 lines: every write commits against the same guild state entry,
 * and splitting it would spread that one invariant over several files.
 */
import { z } from "zod";
import { keys } from "../kv/keys.ts";
import { BlobCorruptError, deleteBlob, getBlob, getBlobHead, putBlob } from "../kv/blob.ts";
import { listTyped } from "../kv/codec.ts";
import { type Snapshot, snapshotSchema } from "./model.ts";
import { sha256Hex } from "../canonical.ts";
import { gunzip, gzip } from "./compression.ts";
import { type Reason, reason, ReasonError, ReasonRangeError } from "../i18n/reason.ts";

export const NOTE_MAX = 500;
const LABEL_MAX = 100;

const backupMetaSchema = z.object({
  id: z.string(),
  guildId: z.string(),
  label: z.string(),
  authorId: z.string(),
  authorName: z.string(),
  /** "command", "http", "schedule". */
  source: z.string(),
  /** When the capture started (the snapshot's point in time). */
  createdAt: z.number(),
  completedAt: z.number(),
  /** SHA-256 of the canonical (uncompressed) bytes. */
  checksum: z.string(),
  sizeRaw: z.number().int().nonnegative(),
  sizeCompressed: z.number().int().nonnegative(),
  memberCount: z.number().int().nonnegative(),
  roleCount: z.number().int().nonnegative(),
  channelCount: z.number().int().nonnegative(),
  pinned: z.boolean(),
  note: z.string().max(NOTE_MAX).nullable(),
  runId: z.string().nullable(),
});
export type BackupMeta = z.infer<typeof backupMetaSchema>;

const guildStateSchema = z.object({ seq: z.number().int(), lastCreatedAt: z.number().nullable() });
type GuildState = z.infer<typeof guildStateSchema>;

export const BACKUP_ID = /^[a-z0-9]{6,24}$/;

/** A short, URL- and custom-id-safe id that sorts by time: base36 ms + 4 random base36 chars. */
export function newBackupId(now: number): string {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => (b % 36).toString(36))
    .join("");
  return `${now.toString(36)}${rand}`;
}

/** A new backup refused by the guild's cooldown or cap. */
export class BackupLimitError extends ReasonError {
  constructor(readonly kind: "cooldown" | "cap", why: Reason, readonly retryAfterMs?: number) {
    super(why);
    this.name = "BackupLimitError";
  }
}

export class BackupNotFoundError extends ReasonError {
  constructor(readonly backupId: string) {
    super(reason("reason.backup_not_found", { id: backupId }));
    this.name = "BackupNotFoundError";
  }
}

export class BackupPinnedError extends ReasonError {
  constructor(readonly backupId: string) {
    super(reason("reason.backup_pinned", { id: backupId }));
    this.name = "BackupPinnedError";
  }
}

export class BackupCorruptError extends ReasonError {
  constructor(readonly backupId: string, detail: string) {
    super(reason("reason.backup_corrupt", { id: backupId, detail }));
    this.name = "BackupCorruptError";
  }
}

// --- limits ---------------------------------------------------------------------------------

export interface Limits {
  maxPerGuild: number;
  cooldownS: number;
  retentionDays: number;
}

async function readState(kv: Deno.Kv, guildId: string) {
  const entry = await kv.get(keys.backupGuild(guildId));
  const parsed = guildStateSchema.safeParse(entry.value);
  const value: GuildState = parsed.success ? parsed.data : { seq: 0, lastCreatedAt: null };
  return { entry, value };
}

/**
 * Throws BackupLimitError when a new backup may not start: the guild is at its cap, or (for
 * requests that respect it) the cooldown since the last backup has not passed.
 */
export async function checkCreateAllowed(
  kv: Deno.Kv,
  guildId: string,
  limits: Limits,
  now: number,
  opts: { cooldown: boolean },
): Promise<void> {
  const { value } = await readState(kv, guildId);
  if (opts.cooldown && value.lastCreatedAt !== null && limits.cooldownS > 0) {
    const wait = value.lastCreatedAt + limits.cooldownS * 1000 - now;
    if (wait > 0) {
      const why = reason("reason.backup_cooldown", {
        cooldown: limits.cooldownS,
        wait: Math.ceil(wait / 1000),
      });
      throw new BackupLimitError("cooldown", why, wait);
    }
  }
  const count = (await listBackups(kv, guildId)).length;
  if (count >= limits.maxPerGuild) {
    const why = reason("reason.backup_cap", { count, max: limits.maxPerGuild });
    throw new BackupLimitError("cap", why);
  }
}

// --- save, load, verify -----------------------------------------------------------------------

export type NewBackup = Omit<
  BackupMeta,
  "checksum" | "sizeRaw" | "sizeCompressed" | "pinned" | "note" | "completedAt"
>;

/**
 * Stores a snapshot's canonical bytes and adds its index entry, atomically with the guild state
 * (cap re-checked there). Idempotent by backup id: a second call for an id already indexed
 * returns the existing entry.
 */
export async function saveBackup(
  kv: Deno.Kv,
  meta: NewBackup,
  canonical: Uint8Array,
  limits: Limits,
  now: number,
): Promise<BackupMeta> {
  const existing = await getBackup(kv, meta.guildId, meta.id);
  if (existing) return existing;
  const compressed = await gzip(canonical);
  const snapKey = keys.backupSnapshot(meta.guildId, meta.id);
  await putBlob(kv, snapKey, compressed, { backupId: meta.id });
  const full: BackupMeta = {
    ...meta,
    label: meta.label.slice(0, LABEL_MAX),
    checksum: await sha256Hex(canonical),
    sizeRaw: canonical.length,
    sizeCompressed: compressed.length,
    pinned: false,
    note: null,
    completedAt: now,
  };
  for (let attempt = 0; attempt < 10; attempt++) {
    const state = await readState(kv, meta.guildId);
    const count = (await listBackups(kv, meta.guildId)).length;
    if (count >= limits.maxPerGuild) {
      await deleteBlob(kv, snapKey);
      const why = reason("reason.backup_cap_capturing", { max: limits.maxPerGuild });
      throw new BackupLimitError("cap", why);
    }
    const metaKey = keys.backupMeta(meta.guildId, meta.id);
    const res = await kv.atomic()
      .check(state.entry)
      .check({ key: metaKey, versionstamp: null })
      .set(keys.backupGuild(meta.guildId), {
        seq: state.value.seq + 1,
        lastCreatedAt: Math.max(state.value.lastCreatedAt ?? 0, meta.createdAt),
      })
      .set(metaKey, full)
      .commit();
    if (res.ok) return full;
    const again = await getBackup(kv, meta.guildId, meta.id);
    if (again) return again;
  }
  throw new Error("backup index kept conflicting; try again");
}

export async function getBackup(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
): Promise<BackupMeta | null> {
  if (!BACKUP_ID.test(backupId)) return null;
  const entry = await kv.get(keys.backupMeta(guildId, backupId));
  const parsed = backupMetaSchema.safeParse(entry.value);
  return parsed.success ? parsed.data : null;
}

export async function requireBackup(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
): Promise<BackupMeta> {
  const meta = await getBackup(kv, guildId, backupId);
  if (!meta) throw new BackupNotFoundError(backupId);
  return meta;
}

/** The guild's backups, newest first. */
export async function listBackups(kv: Deno.Kv, guildId: string): Promise<BackupMeta[]> {
  const out: BackupMeta[] = [];
  for await (const e of listTyped(kv, { prefix: keys.backupIndex(guildId) }, backupMetaSchema)) {
    out.push(e.value);
  }
  return out.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
}

/** Guilds that have (or had) backups. */
export async function backupGuilds(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.backupGuilds() })) {
    const id = e.key[e.key.length - 1];
    if (typeof id === "string") out.push(id);
  }
  return out;
}

export interface VerifyResult {
  ok: boolean;
  backupId: string;
  expected: string;
  actual: string | null;
  sizeRaw: number | null;
  detail: string;
}

/** Reads, decompresses and checks a backup's bytes against its recorded checksum. */
export async function verifyBackup(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
): Promise<VerifyResult> {
  const meta = await requireBackup(kv, guildId, backupId);
  const base = { backupId, expected: meta.checksum };
  let raw: Uint8Array;
  try {
    raw = await readRaw(kv, meta);
  } catch (error) {
    return {
      ...base,
      ok: false,
      actual: null,
      sizeRaw: null,
      detail: error instanceof Error ? error.message : String(error),
    };
  }
  const actual = await sha256Hex(raw);
  if (actual !== meta.checksum) {
    return { ...base, ok: false, actual, sizeRaw: raw.length, detail: "checksum mismatch" };
  }
  try {
    snapshotSchema.parse(JSON.parse(new TextDecoder().decode(raw)));
  } catch {
    return { ...base, ok: false, actual, sizeRaw: raw.length, detail: "not a valid snapshot" };
  }
  return { ...base, ok: true, actual, sizeRaw: raw.length, detail: "checksum matches" };
}

async function readRaw(kv: Deno.Kv, meta: BackupMeta): Promise<Uint8Array> {
  let blob;
  try {
    blob = await getBlob(kv, keys.backupSnapshot(meta.guildId, meta.id));
  } catch (error) {
    if (error instanceof BlobCorruptError) throw new BackupCorruptError(meta.id, error.message);
    throw error;
  }
  if (!blob) throw new BackupCorruptError(meta.id, "the snapshot data is missing");
  try {
    return await gunzip(blob.bytes);
  } catch {
    throw new BackupCorruptError(meta.id, "the snapshot does not decompress");
  }
}

/** The canonical bytes of a backup, verified against its checksum. */
export async function loadCanonical(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
): Promise<{ meta: BackupMeta; bytes: Uint8Array }> {
  const meta = await requireBackup(kv, guildId, backupId);
  const bytes = await readRaw(kv, meta);
  if (await sha256Hex(bytes) !== meta.checksum) {
    throw new BackupCorruptError(backupId, "checksum mismatch");
  }
  return { meta, bytes };
}

/** The snapshot of a backup, verified against its checksum. Throws BackupCorruptError. */
export async function loadSnapshot(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
): Promise<{ meta: BackupMeta; snapshot: Snapshot }> {
  const { meta, bytes } = await loadCanonical(kv, guildId, backupId);
  const parsed = snapshotSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw new BackupCorruptError(backupId, "not a valid snapshot");
  return { meta, snapshot: parsed.data };
}

/** KV bytes a backup occupies (compressed parts) and its raw size, from the blob head. */
export async function storedSize(
  kv: Deno.Kv,
  meta: BackupMeta,
): Promise<{ compressed: number; parts: number } | null> {
  const head = await getBlobHead(kv, keys.backupSnapshot(meta.guildId, meta.id));
  return head ? { compressed: head.size, parts: head.parts } : null;
}

// --- edits ------------------------------------------------------------------------------------

async function updateMeta(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
  change: (m: BackupMeta) => BackupMeta,
): Promise<BackupMeta> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const key = keys.backupMeta(guildId, backupId);
    const entry = await kv.get(key);
    const parsed = backupMetaSchema.safeParse(entry.value);
    if (!parsed.success || entry.versionstamp === null) throw new BackupNotFoundError(backupId);
    const next = change(parsed.data);
    if ((await kv.atomic().check(entry).set(key, next).commit()).ok) return next;
  }
  throw new Error("backup update kept conflicting; try again");
}

export function setPinned(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
  pinned: boolean,
): Promise<BackupMeta> {
  return updateMeta(kv, guildId, backupId, (m) => ({ ...m, pinned }));
}

/**
 * Sets (or with an empty text clears) the note; at most 500 characters (past that, a RangeError
 * with its Reason).
 */
export async function setNote(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
  note: string,
): Promise<BackupMeta> {
  const text = note.trim();
  if (text.length > NOTE_MAX) {
    throw new ReasonRangeError(reason("reason.note_too_long", { max: NOTE_MAX }));
  }
  return await updateMeta(kv, guildId, backupId, (m) => ({ ...m, note: text || null }));
}

/** Deletes a backup (index entry first, then its data). Pinned backups are refused. */
export async function deleteBackup(
  kv: Deno.Kv,
  guildId: string,
  backupId: string,
  opts: { force?: boolean } = {},
): Promise<BackupMeta> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const key = keys.backupMeta(guildId, backupId);
    const entry = await kv.get(key);
    const parsed = backupMetaSchema.safeParse(entry.value);
    if (!parsed.success || entry.versionstamp === null) throw new BackupNotFoundError(backupId);
    if (parsed.data.pinned && !opts.force) throw new BackupPinnedError(backupId);
    const state = await readState(kv, guildId);
    const res = await kv.atomic()
      .check(entry)
      .check(state.entry)
      .delete(key)
      .set(keys.backupGuild(guildId), { ...state.value, seq: state.value.seq + 1 })
      .commit();
    if (res.ok) {
      await deleteBlob(kv, keys.backupSnapshot(guildId, backupId));
      return parsed.data;
    }
  }
  throw new Error("backup delete kept conflicting; try again");
}
