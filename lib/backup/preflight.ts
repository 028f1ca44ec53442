/**
 * The check every backup chunk passes before it works, capture or restore: the guild's backups
 * flag. It is the jobs' `preflight` hook (lib/jobs/job.ts), so it runs once per chunk whoever
 * starts it: the starter (service.ts) runs it itself so that a refusal reaches its caller, and a
 * chunk nobody checked (a continuation, the watchdog's) runs it as it begins. A caller that checks
 * the flag for its own reply (the /backup command) runs it too and hands the result to the start.
 */
import { type Feature, getFlags } from "../ops/flags.ts";
import { reason, ReasonError } from "../i18n/reason.ts";

export class BackupDisabledError extends ReasonError {
  constructor(guildId: string) {
    super(reason("reason.backup_disabled", { guild: guildId }));
    this.name = "BackupDisabledError";
  }
}

declare const checked: unique symbol;

/**
 * What a backup chunk's preflight found: backups on (the chunk needs nothing more from it).
 * Branded so that only these checks make one: a start given one trusts it and skips its own.
 */
export type BackupsOn = true & { readonly [checked]: true };

/** Throws BackupDisabledError when backups are turned off for the guild. */
export async function backupPreflight(kv: Deno.Kv, guildId: string): Promise<BackupsOn> {
  return backupsOn(guildId, await getFlags(kv, guildId));
}

/** The preflight over flags the caller has read already (the schedule reads them to skip). */
export function backupsOn(guildId: string, flags: Record<Feature, boolean>): BackupsOn {
  if (!flags.backups) throw new BackupDisabledError(guildId);
  return true as BackupsOn;
}
