/**
 * Backup restore as a job of lib/jobs (kind "backup_restore", key = guild id: one restore per
 * guild at a time, by the job's lease and the in-progress check in service.ts).
 *
 * Phases, each idempotent so a chunk can die anywhere and the next one picks up:
 *
 * 1. structure (restore_structure.ts): roles, categories and channels, overwrites, guild
 *    settings, the bot's own settings, each created or put back at most once.
 * 2. members (restore_members.ts): each live member's missing roles (and with rewind, the roles
 *    gained since), one call a member, checkpointed over the contiguous run of finished members.
 *
 * Writes are paced by the REST client. Nothing is ever deleted. Failures are counted and
 * described (at most 20) and the run goes on; the final report is kept in KV.
 */
import type { AppDeps } from "../deps.ts";
import type { JobDefinition } from "../jobs/runner.ts";
import { keys } from "../kv/keys.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import { type SnapMember, type Snapshot, snapshotSchema } from "./model.ts";
import { BackupCorruptError, loadCanonical } from "./store.ts";
import type { RestorePart } from "./restore_plan.ts";
import { backupPreflight, type BackupsOn } from "./preflight.ts";
import { reportOf, type RestoreCheckpoint, type RestoreReport, RestoreRun } from "./restore_run.ts";
import { readLiveGuild } from "./restore_live.ts";
import { restoreStructure } from "./restore_structure.ts";
import { restoreMembers } from "./restore_members.ts";

export const RESTORE_KIND = "backup_restore";
export const RESTORE_CONTINUE_PATH = "/backups/jobs/restore/continue";
/** Members per chunk unless the request says otherwise. */
export const RESTORE_CHUNK_SIZE = 5_000;

export interface RestoreParams {
  backupId: string;
  parts: RestorePart[];
  rewind: boolean;
  actorId: string;
  actorName: string;
}

/**
 * The restore job. `params` is given when starting a run (its first checkpoint is built from
 * them); continuations never need it. Every chunk passes the backups preflight (preflight.ts).
 */
export function restoreJob(deps: AppDeps, params?: RestoreParams): JobDefinition<BackupsOn> {
  return {
    kind: RESTORE_KIND,
    continuePath: RESTORE_CONTINUE_PATH,
    preflight: (guildId) => backupPreflight(deps.kv, guildId),
    newRun() {
      if (!params) throw new Error("a restore starts from startRestore()");
      const checkpoint: RestoreCheckpoint = {
        backupId: params.backupId,
        parts: params.parts,
        rewind: params.rewind,
        actorId: params.actorId,
        actorName: params.actorName,
        phase: "structure",
        createdRoles: [],
        positionsDone: false,
        failed: [],
        cursor: "0",
      };
      return { mode: params.rewind ? "restore-rewind" : "restore", checkpoint };
    },
    runChunk: (job) => runRestoreChunk(new RestoreRun(deps, job)),
  };
}

/**
 * The parsed snapshot of the run, kept between chunks that run in this isolate (a large one is
 * tens of MB of JSON). Its bytes are read and checked against the checksum every chunk; only the
 * parse is saved.
 */
let snapshotCache: Loaded & { key: string } | null = null;

interface Loaded {
  snapshot: Snapshot;
  /** The backed-up members by id. */
  members: Map<string, SnapMember>;
}

async function cachedSnapshot(kv: Deno.Kv, guildId: string, backupId: string): Promise<Loaded> {
  const { meta, bytes } = await loadCanonical(kv, guildId, backupId);
  const key = `${guildId}:${backupId}:${meta.checksum}`;
  if (snapshotCache?.key === key) return snapshotCache;
  snapshotCache = null;
  const parsed = snapshotSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw new BackupCorruptError(backupId, "not a valid snapshot");
  const members = new Map<string, SnapMember>();
  for (const m of parsed.data.members) members.set(m.id, m);
  snapshotCache = { key, snapshot: parsed.data, members };
  return snapshotCache;
}

async function runRestoreChunk(
  run: RestoreRun,
): Promise<{ finished: boolean; result?: RestoreReport }> {
  const { deps, job, guildId } = run;
  const loaded = await cachedSnapshot(deps.kv, guildId, run.cp.backupId);
  run.snapshot = loaded.snapshot;
  run.backedUp = loaded.members;
  const live = await readLiveGuild(deps, guildId, job.hard);
  if (run.cp.phase === "structure") {
    if (!(await restoreStructure(run, live))) return { finished: false };
    run.cp.phase = "members";
    await run.save({}, [], { total: live.approxMembers });
  }
  if (run.parts.has("members")) {
    // The live view is kept current through the structure phase (created roles included).
    const done = await restoreMembers(run, live);
    if (!done) return { finished: false };
  }
  return { finished: true, result: await finish(run) };
}

async function finish(run: RestoreRun): Promise<RestoreReport> {
  const { deps, job, guildId } = run;
  // The counters of this last chunk are committed; read them back for the report.
  const rec = await deps.kv.get<{ counters: Record<string, number>; warnings: string[] }>(
    keys.jobRun(RESTORE_KIND, guildId),
  );
  const report = reportOf(run.cp, rec.value?.counters ?? {}, rec.value?.warnings ?? []);
  snapshotCache = null;
  await deps.kv.set(keys.backupRestoreReport(guildId), {
    ...report,
    runId: job.run.runId,
    at: deps.clock.now(),
  });
  await tryAppendAudit(deps, {
    guildId,
    actor: { id: run.cp.actorId, name: run.cp.actorName },
    action: "backup.restore.completed",
    detail: {
      backupId: run.cp.backupId,
      runId: job.run.runId,
      created: report.created,
      failed: report.failed,
      members: report.members,
    },
  });
  return report;
}
