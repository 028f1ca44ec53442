/**
 * What every phase of a backup restore chunk shares (restore_job.ts): the run's checkpoint, the
 * report made from its counters, and the chunk's state with its two ways of recording work (a
 * checkpoint, and one entity's write whose failure is counted and described, not thrown).
 */
import { isAbort } from "../abort.ts";
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import type { ChunkContext } from "../jobs/runner.ts";
import { LeaseLostError } from "../jobs/job.ts";
import { DiscordApiError, RestClosedError } from "../discord/errors.ts";
import type { SnapMember, Snapshot } from "./model.ts";
import { RESTORE_PARTS, type RestorePart } from "./restore_plan.ts";

export const restoreCheckpointSchema = z.object({
  backupId: z.string(),
  parts: z.array(z.enum(RESTORE_PARTS)),
  rewind: z.boolean(),
  actorId: z.string(),
  actorName: z.string(),
  phase: z.enum(["structure", "members"]),
  /** Live ids of roles this run created (their positions are set once, after creation). */
  createdRoles: z.array(z.string()),
  positionsDone: z.boolean(),
  /** Entities that failed once ("role:<id>", "channel:<id>", "settings"): not retried. */
  failed: z.array(z.string()),
  /** Highest member id done. */
  cursor: z.string(),
});
export type RestoreCheckpoint = z.infer<typeof restoreCheckpointSchema>;

export interface RestoreReport {
  backupId: string;
  parts: RestorePart[];
  rewind: boolean;
  created: Record<string, number>;
  skipped: Record<string, number>;
  failed: Record<string, number>;
  members: Record<string, number>;
  problems: string[];
}

/** The report of a run whose checkpoint is not parsed yet: none if it has another shape. */
export function restoreReport(
  checkpoint: unknown,
  counters: Record<string, number>,
  warnings: string[],
): RestoreReport | null {
  const cp = restoreCheckpointSchema.safeParse(checkpoint);
  return cp.success ? reportOf(cp.data, counters, warnings) : null;
}

/** The report of a run, from its counters and warnings (the one shape every view shows). */
export function reportOf(
  cp: RestoreCheckpoint,
  counters: Record<string, number>,
  warnings: string[],
): RestoreReport {
  const pick = (prefix: string) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(counters)) {
      if (k.startsWith(prefix + ".") && v) out[k.slice(prefix.length + 1)] = v;
    }
    return out;
  };
  return {
    backupId: cp.backupId,
    parts: cp.parts,
    rewind: cp.rewind,
    created: pick("created"),
    skipped: pick("skipped"),
    failed: pick("failed"),
    members: pick("members"),
    problems: warnings,
  };
}

/** Stopping (abort, lost lease, closed client) is not a failure of the entity being written. */
export function isStopping(e: unknown): boolean {
  return isAbort(e) || e instanceof LeaseLostError || e instanceof RestClosedError;
}

/** A failure as the report's problems list shows it. */
export function describe(e: unknown): string {
  if (e instanceof DiscordApiError) return `${e.status} ${e.code} ${e.discordMessage}`;
  return e instanceof Error ? e.message : String(e);
}

/** One chunk of a restore run. */
export class RestoreRun {
  cp: RestoreCheckpoint;
  readonly guildId: string;
  /** Audit-log reason of every write. */
  readonly reason: string;
  snapshot!: Snapshot;
  /** The backed-up members by id. */
  backedUp!: Map<string, SnapMember>;

  constructor(readonly deps: AppDeps, readonly job: ChunkContext) {
    this.cp = restoreCheckpointSchema.parse(job.run.checkpoint);
    this.guildId = job.run.key;
    this.reason = `Backup restore ${this.cp.backupId} (run ${job.run.runId})`;
  }

  get parts(): Set<RestorePart> {
    return new Set(this.cp.parts);
  }

  async save(counters: Record<string, number> = {}, warnings: string[] = [], extra = {}) {
    await this.job.checkpoint({ checkpoint: this.cp, counters, warnings, ...extra });
  }

  /** Runs one write; failures are counted and described, aborts propagate. */
  async attempt(
    failKey: string,
    counter: string,
    label: string,
    work: () => Promise<void>,
  ): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (e) {
      if (isStopping(e)) throw e;
      this.cp.failed.push(failKey);
      await this.save({ [`failed.${counter}`]: 1 }, [`${label}: ${describe(e)}`]);
      return false;
    }
  }
}
