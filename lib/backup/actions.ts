/**
 * What an operator does to a guild's backups, each with its audit entry: pin or unpin, note,
 * verify, delete, stop a running capture or restore, export (a download or a signed link). The
 * /backup command and the HTTP API (routes/backups.ts) both call these, so one action is
 * recorded the same way whoever asks. Errors are the store's and the service's (not found,
 * pinned, a note too long); nothing is audited when the action throws.
 */
import type { AppDeps } from "../deps.ts";
import { type Actor, tryAppendAudit } from "../audit/mod.ts";
import type { Hmac } from "../hmac.ts";
import type { StopResult } from "../jobs/runner.ts";
import { type JobKind, stopJob } from "./service.ts";
import {
  type BackupMeta,
  deleteBackup,
  requireBackup,
  setNote,
  setPinned,
  verifyBackup,
  type VerifyResult,
} from "./store.ts";
import { createExportLink, exportBackup } from "./views.ts";

function record(
  deps: AppDeps,
  guildId: string,
  actor: Actor,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  return tryAppendAudit(deps, { guildId, actor, action, detail });
}

/** Pins (kept from retention and deletion) or unpins a backup. */
export async function pinBackup(
  deps: AppDeps,
  guildId: string,
  backupId: string,
  pinned: boolean,
  actor: Actor,
): Promise<BackupMeta> {
  const meta = await setPinned(deps.kv, guildId, backupId, pinned);
  await record(deps, guildId, actor, pinned ? "backup.pin" : "backup.unpin", {
    backupId: meta.id,
  });
  return meta;
}

/** Sets a backup's note (an empty one clears it); throws a RangeError past NOTE_MAX. */
export async function noteBackup(
  deps: AppDeps,
  guildId: string,
  backupId: string,
  note: string,
  actor: Actor,
): Promise<BackupMeta> {
  const meta = await setNote(deps.kv, guildId, backupId, note);
  await record(deps, guildId, actor, "backup.note", { backupId: meta.id, note: meta.note });
  return meta;
}

/** Recomputes a backup's checksum; the result, good or bad, is recorded. */
export async function checkBackup(
  deps: AppDeps,
  guildId: string,
  backupId: string,
  actor: Actor,
): Promise<VerifyResult> {
  const r = await verifyBackup(deps.kv, guildId, backupId);
  await record(deps, guildId, actor, "backup.verify", {
    backupId: r.backupId,
    ok: r.ok,
    detail: r.detail,
  });
  return r;
}

/** Deletes a backup; a pinned one is refused (BackupPinnedError). */
export async function removeBackup(
  deps: AppDeps,
  guildId: string,
  backupId: string,
  actor: Actor,
): Promise<BackupMeta> {
  const meta = await deleteBackup(deps.kv, guildId, backupId);
  await record(deps, guildId, actor, "backup.delete", { backupId: meta.id, label: meta.label });
  return meta;
}

/**
 * Asks the running capture or restore to stop after its current write; `by` is who the job's
 * record names ("operator", "user:<id>"). A request with nothing to stop is recorded too.
 */
export async function stopBackupJob(
  deps: AppDeps,
  guildId: string,
  kind: JobKind,
  actor: Actor,
  by: string,
): Promise<StopResult> {
  const r = await stopJob(deps, guildId, kind, by);
  await record(deps, guildId, actor, `backup.${kind}.stop`, { result: r.status });
  return r;
}

/** A backup as its JSON download (see exportBackup), recorded with its size. */
export async function downloadBackup(
  deps: AppDeps,
  guildId: string,
  backupId: string,
  actor: Actor,
): Promise<{ bytes: Uint8Array; filename: string }> {
  // exportBackup reads the index entry first: an unknown id throws before anything is recorded.
  const out = await exportBackup(deps, guildId, backupId);
  await record(deps, guildId, actor, "backup.export", { backupId, bytes: out.bytes.length });
  return out;
}

/** An expiring signed download link of a backup, recorded with its expiry. */
export async function exportLink(
  deps: AppDeps,
  signer: Hmac,
  guildId: string,
  backupId: string,
  actor: Actor,
): Promise<{ meta: BackupMeta; link: { url: string; expiresAt: number } }> {
  const meta = await requireBackup(deps.kv, guildId, backupId);
  const link = await createExportLink(deps, signer, guildId, meta.id);
  await record(deps, guildId, actor, "backup.export.link", {
    backupId: meta.id,
    expiresAt: link.expiresAt,
  });
  return { meta, link };
}
