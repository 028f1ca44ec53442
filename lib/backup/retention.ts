/**
 * What deletes backups on its own: retention by age (the daily cron) and the room a scheduled
 * backup makes at the guild's cap. Pinned backups are never touched; both go through the store's
 * delete, so the cap and the index stay consistent.
 */
import { BackupNotFoundError, BackupPinnedError, deleteBackup, listBackups } from "./store.ts";

const DAY = 86_400_000;

/**
 * Retention: deletes unpinned backups older than `retentionDays` (0 keeps everything). Returns
 * the deleted ids.
 */
export async function pruneExpired(
  kv: Deno.Kv,
  guildId: string,
  retentionDays: number,
  now: number,
): Promise<string[]> {
  if (retentionDays <= 0) return [];
  const cutoff = now - retentionDays * DAY;
  const deleted: string[] = [];
  for (const m of await listBackups(kv, guildId)) {
    if (m.pinned || m.createdAt >= cutoff) continue;
    try {
      await deleteBackup(kv, guildId, m.id);
      deleted.push(m.id);
    } catch (error) {
      if (!(error instanceof BackupPinnedError || error instanceof BackupNotFoundError)) {
        throw error;
      }
    }
  }
  return deleted;
}

/**
 * Makes room for a scheduled backup at the cap: deletes the oldest unpinned backup the schedule
 * made. Returns its id, or null when there is none (the scheduled run is then skipped).
 */
export async function makeRoomForScheduled(
  kv: Deno.Kv,
  guildId: string,
  maxPerGuild: number,
): Promise<string | null> {
  const all = await listBackups(kv, guildId);
  if (all.length < maxPerGuild) return null;
  const oldest = all.filter((m) => !m.pinned && m.source === "schedule").at(-1);
  if (!oldest) return null;
  await deleteBackup(kv, guildId, oldest.id);
  return oldest.id;
}
