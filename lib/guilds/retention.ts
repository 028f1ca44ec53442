/**
 * What the bot keeps for a guild it has left. A guild marked inactive (the bot was removed, or
 * lost access) keeps everything for `GUILD_RETENTION_DAYS` (default 30; 0 keeps forever), so a
 * re-invite resumes where it stopped. After that its sync data goes: the holders index, run
 * records, history and progress series, caches, feature flags, command allow-lists and the
 * freshness backlog and member index. The setup stays (a re-invite finds its roles again; it names no member
 * beyond who changed it last), as do the audit log and backups, which have their own retention.
 */
import type { AppDeps } from "../deps.ts";
import { keys } from "../kv/keys.ts";
import { listSetups, updateSetup } from "./setup.ts";
import { holdersOf } from "../sync/holders.ts";
import { SYNC_KIND } from "../sync/service.ts";
import { freshKeys } from "../jobs/fresh_backlog.ts";
import { indexKeys } from "../sync/member_index.ts";

const DAY_MS = 86_400_000;

/** The prefixes and keys of a guild's removable data. */
export function guildDataKeys(guildId: string): { prefixes: Deno.KvKey[]; keys: Deno.KvKey[] } {
  return {
    prefixes: [
      holdersOf(guildId),
      keys.jobHistoryPrefix(SYNC_KIND, guildId),
      keys.jobSeriesOf(SYNC_KIND, guildId),
      keys.commandRolesOf(guildId),
      freshKeys.backlogOf(guildId),
      indexKeys.of(guildId),
    ],
    keys: [
      keys.jobRun(SYNC_KIND, guildId),
      keys.jobStop(SYNC_KIND, guildId),
      keys.syncStatus(guildId),
      keys.syncWatermark(guildId),
      keys.syncContext(guildId),
      keys.guildRolesCache(guildId),
      keys.flags(guildId),
      indexKeys.meta(guildId),
    ],
  };
}

export interface GuildRetentionResult {
  /** Guilds whose data was removed now, with how many entries. */
  removed: { guildId: string; entries: number }[];
}

/** Daily: removes the sync data of guilds inactive for longer than the retention. */
export async function guildRetention(deps: AppDeps): Promise<GuildRetentionResult> {
  const days = deps.config.ops.guildRetentionDays;
  const result: GuildRetentionResult = { removed: [] };
  if (days <= 0) return result;
  const cutoff = deps.clock.now() - days * DAY_MS;
  for (const [guildId, setup] of await listSetups(deps.kv)) {
    if (setup.active || setup.updatedAt > cutoff || setup.dataRemovedAt !== undefined) continue;
    const entries = await removeGuildData(deps.kv, guildId);
    // Noted on the setup (versioned and audited), so the removal runs once per departure.
    await updateSetup(
      deps,
      guildId,
      { id: "system", name: "retention" },
      "data_removed",
      (s) => ({ ...s, dataRemovedAt: deps.clock.now() }),
      { entries, inactiveSince: new Date(setup.updatedAt).toISOString(), days },
    );
    deps.log.info("guild retention: removed the sync data of a guild the bot left", {
      guildId,
      entries,
    });
    result.removed.push({ guildId, entries });
  }
  return result;
}

async function removeGuildData(kv: Deno.Kv, guildId: string): Promise<number> {
  const { prefixes, keys: single } = guildDataKeys(guildId);
  let n = 0;
  for (const prefix of prefixes) {
    let op = kv.atomic();
    let inOp = 0;
    for await (const e of kv.list({ prefix })) {
      op.delete(e.key);
      n++;
      if (++inOp === 500) {
        await op.commit();
        op = kv.atomic();
        inOp = 0;
      }
    }
    if (inOp) await op.commit();
  }
  const existing = await kv.getMany(single);
  const op = kv.atomic();
  for (const e of existing) {
    if (e.versionstamp !== null) {
      op.delete(e.key);
      n++;
    }
  }
  await op.commit();
  return n;
}
