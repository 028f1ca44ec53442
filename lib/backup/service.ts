/**
 * What routes, commands and crons call for backups: start a capture or a restore (jobs on
 * lib/jobs), continue them, read their status, the scheduled run, retention and the watchdog.
 * Everything takes AppDeps; the job environment is built once per deps object.
 */
import { type AppDeps, jobEnvOf } from "../deps.ts";
import type { JobProgress } from "../jobs/progress.ts";
import {
  type JobDefinition,
  type JobEnv,
  requestStop,
  startChunk,
  type StartResult,
  type StopResult,
  watchdog,
} from "../jobs/runner.ts";
import { listRuns, readProgress, readSnapshot, toProgress } from "../jobs/store.ts";
import { getFlags } from "../ops/flags.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import {
  CAPTURE_CHUNK_SIZE,
  CAPTURE_KIND,
  captureCheckpointSchema,
  captureJob,
  limitsOf,
  sweepCaptureWork,
} from "./capture_job.ts";
import { RESTORE_CHUNK_SIZE, RESTORE_KIND, restoreJob } from "./restore_job.ts";
import { reportOf, restoreCheckpointSchema, type RestoreReport } from "./restore_run.ts";
import { BackupDisabledError, backupPreflight, type BackupsOn, backupsOn } from "./preflight.ts";
import { RESTORE_PARTS, type RestorePart } from "./restore_plan.ts";
import {
  BackupCorruptError,
  backupGuilds,
  newBackupId,
  requireBackup,
  verifyBackup,
} from "./store.ts";
import { makeRoomForScheduled, pruneExpired } from "./retention.ts";
import { claimDue, listSchedules, recordResult } from "./schedule.ts";
import { type Reason, reason, ReasonError } from "../i18n/reason.ts";

export { BackupDisabledError };
export type JobKind = "capture" | "restore";

const KIND: Record<JobKind, string> = { capture: CAPTURE_KIND, restore: RESTORE_KIND };
const ACTIVE = new Set(["running", "waiting", "stopping"]);

const envs = new WeakMap<AppDeps, JobEnv>();

/** The job environment for these deps (built once). Backups always chain their chunks. */
function backupJobEnv(deps: AppDeps): JobEnv {
  let env = envs.get(deps);
  if (env) return env;
  env = jobEnvOf(deps, {
    component: "backup-jobs",
    autoContinue: true,
    defaultChunkSize: CAPTURE_CHUNK_SIZE,
  });
  envs.set(deps, env);
  return env;
}

export class BackupBusyError extends ReasonError {
  constructor(readonly kind: JobKind, readonly progress: JobProgress) {
    super(reason(kind === "capture" ? "reason.backup_capturing" : "reason.backup_restoring"));
    this.name = "BackupBusyError";
  }
}

export interface CaptureRequest {
  label?: string;
  authorId: string;
  authorName: string;
  /** "command", "http", "schedule". */
  source: string;
  chunkSize?: number;
  /** Overrides the time box of each chunk (tests). */
  maxChunkMs?: number;
  /** The backups preflight the caller ran already (its result): the start does not run it again. */
  preflight?: BackupsOn;
}

/** A refusal's `reason` is its `why` in English (the logs and the HTTP API keep the sentence). */
export type Started =
  | {
    status: "started";
    runId: string;
    backupId?: string;
    start: StartResult & { status: "started" };
  }
  | { status: "conflict" | "noop"; reason: string; why: Reason; progress: JobProgress };

function started(r: StartResult, backupId?: string): Started {
  if (r.status !== "started") {
    return { status: r.status, reason: r.reason, why: r.why, progress: r.progress };
  }
  return { status: "started", runId: r.run.runId, backupId, start: r };
}

/**
 * Starts capturing a new backup. Throws BackupDisabledError (feature off), BackupBusyError (a
 * capture is running) and BackupLimitError (cooldown, cap). The first chunk reuses the preflight's
 * result (the request's, else the one run here) rather than running it again.
 */
export async function startCapture(
  deps: AppDeps,
  guildId: string,
  req: CaptureRequest,
): Promise<Started> {
  const preflight = req.preflight ?? await backupPreflight(deps.kv, guildId);
  const env = backupJobEnv(deps);
  const progress = await readProgress(env, CAPTURE_KIND, guildId);
  if (ACTIVE.has(progress.state)) throw new BackupBusyError("capture", progress);
  const backupId = newBackupId(deps.clock.now());
  const label = (req.label?.trim() || defaultLabel(deps.clock.now(), req.source)).slice(0, 100);
  const def = captureJob(deps, {
    backupId,
    label,
    authorId: req.authorId,
    authorName: req.authorName,
    source: req.source,
    respectCooldown: req.source !== "schedule",
  });
  const r = await startChunk(env, def, {
    key: guildId,
    startIndex: 0,
    chunkSize: req.chunkSize ?? CAPTURE_CHUNK_SIZE,
    autoContinue: true,
    source: req.source,
    maxChunkMs: req.maxChunkMs,
    preflight,
  });
  return started(r, backupId);
}

function defaultLabel(now: number, source: string): string {
  const when = new Date(now).toISOString().slice(0, 16).replace("T", " ");
  return `${source === "schedule" ? "Scheduled" : "Backup"} ${when} UTC`;
}

export interface RestoreRequest {
  backupId: string;
  parts?: RestorePart[];
  rewind?: boolean;
  actorId: string;
  actorName: string;
  source: string;
  chunkSize?: number;
  maxChunkMs?: number;
  /** As CaptureRequest.preflight. */
  preflight?: BackupsOn;
}

/**
 * Starts a restore. Verifies the backup first (a corrupt one is refused before anything is
 * written). Throws BackupDisabledError, BackupNotFoundError, BackupCorruptError and
 * BackupBusyError (one restore per guild at a time).
 */
export async function startRestore(
  deps: AppDeps,
  guildId: string,
  req: RestoreRequest,
): Promise<Started> {
  const preflight = req.preflight ?? await backupPreflight(deps.kv, guildId);
  await requireBackup(deps.kv, guildId, req.backupId);
  const env = backupJobEnv(deps);
  const progress = await readProgress(env, RESTORE_KIND, guildId);
  if (ACTIVE.has(progress.state)) throw new BackupBusyError("restore", progress);
  const check = await verifyBackup(deps.kv, guildId, req.backupId);
  if (!check.ok) throw new BackupCorruptError(req.backupId, check.detail);
  const parts = req.parts?.length ? [...new Set(req.parts)] : [...RESTORE_PARTS];
  const rewind = req.rewind ?? false;
  const def = restoreJob(deps, {
    backupId: req.backupId,
    parts,
    rewind,
    actorId: req.actorId,
    actorName: req.actorName,
  });
  const r = await startChunk(env, def, {
    key: guildId,
    startIndex: 0,
    chunkSize: req.chunkSize ?? RESTORE_CHUNK_SIZE,
    autoContinue: true,
    source: req.source,
    maxChunkMs: req.maxChunkMs,
    preflight,
  });
  if (r.status === "started") {
    await tryAppendAudit(deps, {
      guildId,
      actor: { id: req.actorId, name: req.actorName },
      action: "backup.restore.start",
      detail: { backupId: req.backupId, runId: r.run.runId, parts, rewind, source: req.source },
    });
  }
  return started(r);
}

/**
 * The base job definition of a kind (continuations and the watchdog never start new runs). Their
 * chunks run the preflight themselves.
 */
function baseJob(deps: AppDeps, kind: JobKind): JobDefinition<BackupsOn> {
  return kind === "capture" ? captureJob(deps) : restoreJob(deps);
}

/**
 * Continues a run by its id (the runner's self-chained `POST {continuePath}` carries `{runId,
 * chunk}` but not the key, so the guild is found from the run records).
 */
export async function continueJob(
  deps: AppDeps,
  kind: JobKind,
  body: { runId: string; chunk?: number },
): Promise<StartResult | null> {
  const rec = (await listRuns(deps.kv, KIND[kind])).find((r) => r.runId === body.runId);
  if (!rec) return null;
  return await startChunk(backupJobEnv(deps), baseJob(deps, kind), {
    key: rec.key,
    runId: body.runId,
    chunk: body.chunk,
    source: "continue",
  });
}

export interface JobStatus {
  guildId: string;
  job: JobKind;
  progress: JobProgress;
  /** Capture: the backup being made; restore: the one being restored. */
  backupId: string | null;
  label: string | null;
  phase: string | null;
  /** Restore runs: created, skipped, failed, members. */
  report: RestoreReport | null;
}

export async function jobStatus(deps: AppDeps, guildId: string, kind: JobKind): Promise<JobStatus> {
  const env = backupJobEnv(deps);
  const snap = await readSnapshot(env.kv, KIND[kind], guildId);
  const progress = toProgress(KIND[kind], guildId, snap, env.clock.now());
  const rec = snap.run?.value;
  let backupId: string | null = null;
  let label: string | null = null;
  let phase: string | null = null;
  let report: RestoreReport | null = null;
  if (rec && kind === "capture") {
    const cp = captureCheckpointSchema.safeParse(rec.checkpoint);
    if (cp.success) ({ backupId, label, phase } = cp.data);
  } else if (rec) {
    const cp = restoreCheckpointSchema.safeParse(rec.checkpoint);
    if (cp.success) {
      ({ backupId, phase } = cp.data);
      report = reportOf(cp.data, rec.counters, rec.warnings);
    }
  }
  return { guildId, job: kind, progress, backupId, label, phase, report };
}

/** Asks a running capture or restore to stop after its current write (a run can be resumed). */
export async function stopJob(
  deps: AppDeps,
  guildId: string,
  kind: JobKind,
  by: string,
): Promise<StopResult> {
  return await requestStop(backupJobEnv(deps), { kind: KIND[kind] }, guildId, by);
}

/** Resumes backup runs whose chunk died or whose continuation got lost. */
export async function backupWatchdog(deps: AppDeps): Promise<string[]> {
  const env = backupJobEnv(deps);
  return [
    ...await watchdog(env, baseJob(deps, "capture")),
    ...await watchdog(env, baseJob(deps, "restore")),
  ];
}

/**
 * The scheduled backups (cron): claims every due schedule and starts its capture. At the cap,
 * the oldest unpinned scheduled backup makes room; with none, the run is skipped. Returns what
 * happened per guild.
 */
export async function runScheduledBackups(deps: AppDeps): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const now = deps.clock.now();
  const waits: Promise<unknown>[] = [];
  for (const { guildId, schedule } of await listSchedules(deps.kv)) {
    if (!schedule.enabled || schedule.nextAt > now) continue;
    // One read of the flags: the schedule's own, and the capture's preflight (passed on below).
    const flags = await getFlags(deps.kv, guildId);
    if (!flags.backups || !flags.scheduled_backups) {
      out[guildId] = "skipped: feature off";
      continue;
    }
    if (!(await claimDue(deps.kv, guildId, now))) continue;
    let result: string;
    try {
      const freed = await makeRoomForScheduled(deps.kv, guildId, deps.config.backup.maxPerGuild);
      if (freed) {
        await tryAppendAudit(deps, {
          guildId,
          actor: "schedule",
          action: "backup.delete",
          detail: { backupId: freed, reason: "cap reached: oldest scheduled backup rotated out" },
        });
      }
      const r = await startCapture(deps, guildId, {
        authorId: "schedule",
        authorName: "schedule",
        source: "schedule",
        preflight: backupsOn(guildId, flags),
      });
      if (r.status === "started") {
        result = `started ${r.backupId}`;
        waits.push(r.start.done.catch(() => {}));
      } else result = `skipped: ${r.reason}`;
    } catch (error) {
      result = `skipped: ${error instanceof Error ? error.message : String(error)}`;
    }
    out[guildId] = result;
    await recordResult(deps.kv, guildId, result);
    deps.log.info("backup: scheduled run", { guild: guildId, result });
  }
  // Keep the cron invocation alive for the first chunks; later ones chain themselves.
  await Promise.all(waits);
  return out;
}

/**
 * Retention (cron): deletes unpinned backups older than BACKUP_RETENTION_DAYS in every guild,
 * and the work data that failed or replaced captures left behind. Returns deleted ids by guild.
 */
export async function backupRetention(deps: AppDeps): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const days = deps.config.backup.retentionDays;
  for (const guildId of await backupGuilds(deps.kv)) {
    const deleted = await pruneExpired(deps.kv, guildId, days, deps.clock.now());
    if (deleted.length) {
      out[guildId] = deleted;
      await tryAppendAudit(deps, {
        guildId,
        actor: "retention",
        action: "backup.prune",
        detail: { deleted, retentionDays: days },
      });
    }
    const snap = await readSnapshot(deps.kv, CAPTURE_KIND, guildId);
    const rec = snap.run?.value;
    // The current run keeps its work (a failed one may still be continued); older runs do not.
    const keep = rec && rec.state !== "completed" ? rec.runId : null;
    await sweepCaptureWork(deps.kv, guildId, keep);
  }
  return out;
}

export { limitsOf };
