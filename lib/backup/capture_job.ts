/**
 * Backup capture as a job of lib/jobs (kind "backup_capture", key = guild id).
 *
 * - First chunk: guild settings, roles, channels, emojis, stickers and the bot's settings are
 *   read once (two REST calls) and kept in KV for the run (a blob: 250 roles and 500 channels do
 *   not fit the run record's 64 KiB).
 * - Then members, 1000 a page in user-id order after the checkpoint's cursor; each page's entries
 *   are stored in KV under the page's number *before* the checkpoint that advances the cursor,
 *   so a chunk killed between the two re-reads the same page and overwrites the same entry.
 * - Last: the pages are assembled, normalised and checksummed, and the backup is stored and
 *   indexed (idempotent by backup id, so a crash after indexing does not index twice).
 *
 * A run killed anywhere and resumed therefore stores the same snapshot, with the same checksum,
 * as an uninterrupted one of the same guild.
 */
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import type { ChunkContext, JobDefinition } from "../jobs/runner.ts";
import { keys } from "../kv/keys.ts";
import { deleteBlob, getJsonBlob, putJsonBlob } from "../kv/blob.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import {
  assemble,
  type CaptureBase,
  captureBase,
  captureBaseSchema,
  readMemberPage,
  unrecordedRoles,
} from "./capture.ts";
import { canonicalBytes, countsOf, memberSchema, type SnapMember } from "./model.ts";
import { checkCreateAllowed, type Limits, saveBackup } from "./store.ts";
import { backupPreflight, type BackupsOn } from "./preflight.ts";

export const CAPTURE_KIND = "backup_capture";
export const CAPTURE_CONTINUE_PATH = "/backups/jobs/capture/continue";
/** Members per chunk unless the request says otherwise (ten pages). */
export const CAPTURE_CHUNK_SIZE = 10_000;

export const captureCheckpointSchema = z.object({
  backupId: z.string(),
  label: z.string(),
  authorId: z.string(),
  authorName: z.string(),
  source: z.string(),
  createdAt: z.number(),
  phase: z.enum(["base", "members", "assemble"]),
  /** Highest user id listed so far. */
  cursor: z.string(),
  /** Member pages stored so far (their entries are under work keys 0..pages-1). */
  pages: z.number().int().nonnegative(),
  /** Member entries (non-bot members) stored so far. */
  members: z.number().int().nonnegative(),
});
export type CaptureCheckpoint = z.infer<typeof captureCheckpointSchema>;

export interface CaptureParams {
  backupId: string;
  label: string;
  authorId: string;
  authorName: string;
  source: string;
  /** Manual creates respect BACKUP_COOLDOWN; scheduled ones are spaced by their schedule. */
  respectCooldown: boolean;
}

export interface CaptureResult {
  backupId: string;
  checksum: string;
  sizeRaw: number;
  sizeCompressed: number;
  memberCount: number;
}

const baseKey = (guildId: string, runId: string) => keys.backupWork(guildId, runId, "base");
const pageKey = (guildId: string, runId: string, n: number) =>
  keys.backupWork(guildId, runId, "page", n);
const pageSchema = z.array(memberSchema);

export function limitsOf(deps: AppDeps): Limits {
  const b = deps.config.backup;
  return { maxPerGuild: b.maxPerGuild, cooldownS: b.cooldownS, retentionDays: b.retentionDays };
}

/**
 * The capture job. `params` is given when starting a run (its first checkpoint is built from
 * them); continuations never need it. Every chunk passes the backups preflight (preflight.ts).
 */
export function captureJob(deps: AppDeps, params?: CaptureParams): JobDefinition<BackupsOn> {
  const { kv, clock } = deps;
  return {
    kind: CAPTURE_KIND,
    continuePath: CAPTURE_CONTINUE_PATH,
    preflight: (guildId) => backupPreflight(kv, guildId),
    async newRun(req) {
      if (!params) throw new Error("a backup capture starts from startCapture()");
      await checkCreateAllowed(kv, req.key, limitsOf(deps), clock.now(), {
        cooldown: params.respectCooldown,
      });
      const checkpoint: CaptureCheckpoint = {
        backupId: params.backupId,
        label: params.label,
        authorId: params.authorId,
        authorName: params.authorName,
        source: params.source,
        createdAt: clock.now(),
        phase: "base",
        cursor: "0",
        pages: 0,
        members: 0,
      };
      return { mode: "capture", checkpoint };
    },
    runChunk: (job) => runCaptureChunk(deps, job),
  };
}

async function runCaptureChunk(
  deps: AppDeps,
  job: ChunkContext<BackupsOn>,
): Promise<{ finished: boolean; result?: CaptureResult }> {
  const { kv, rest } = deps;
  const guildId = job.run.key;
  const runId = job.run.runId;
  let cp = captureCheckpointSchema.parse(job.run.checkpoint);

  let base: CaptureBase | null = null;
  if (cp.phase === "base") {
    base = await captureBase(rest, kv, guildId, { signal: job.hard });
    await putJsonBlob(kv, baseKey(guildId, runId), base);
    cp = { ...cp, phase: "members" };
    await job.checkpoint({
      checkpoint: cp,
      total: base.approxMembers,
      counters: { "calls.base": 2 },
    });
  }
  base ??= await getJsonBlob(kv, baseKey(guildId, runId), captureBaseSchema);
  if (!base) throw new Error("the capture's saved guild data is missing; start a new backup");

  const skip = unrecordedRoles(base);
  let listed = 0;
  while (cp.phase === "members") {
    if (job.signal.aborted || listed >= job.limit) return { finished: false };
    const page = await readMemberPage(rest, guildId, cp.cursor, skip, { signal: job.hard });
    // The page's entries first, then the checkpoint that moves past them.
    await putJsonBlob(kv, pageKey(guildId, runId, cp.pages), page.entries);
    cp = {
      ...cp,
      cursor: page.next,
      pages: cp.pages + 1,
      members: cp.members + page.entries.length,
      phase: page.done ? "assemble" : "members",
    };
    listed += page.listed;
    await job.checkpoint({
      processed: page.listed,
      checkpoint: cp,
      cursor: page.next,
      counters: { "calls.members": 1 },
    });
  }

  // Assemble: every page in order, then store and index.
  const members: SnapMember[] = [];
  for (let n = 0; n < cp.pages; n++) {
    const entries = await getJsonBlob(kv, pageKey(guildId, runId, n), pageSchema);
    if (!entries) throw new Error(`the capture's member page ${n} is missing; start a new backup`);
    for (const e of entries) members.push(e);
  }
  const snapshot = assemble(base, members);
  const bytes = canonicalBytes(snapshot);
  const counts = countsOf(snapshot);
  const meta = await saveBackup(
    kv,
    {
      id: cp.backupId,
      guildId,
      label: cp.label,
      authorId: cp.authorId,
      authorName: cp.authorName,
      source: cp.source,
      createdAt: cp.createdAt,
      memberCount: counts.members,
      roleCount: counts.roles,
      channelCount: counts.channels + counts.categories,
      runId,
    },
    bytes,
    limitsOf(deps),
    deps.clock.now(),
  );
  deps.metrics?.backupBytes.inc({ form: "raw" }, meta.sizeRaw);
  deps.metrics?.backupBytes.inc({ form: "compressed" }, meta.sizeCompressed);
  await clearWork(kv, guildId, runId, cp.pages);
  await tryAppendAudit(deps, {
    guildId,
    actor: { id: cp.authorId, name: cp.authorName },
    action: "backup.create",
    detail: {
      backupId: meta.id,
      label: meta.label,
      source: cp.source,
      checksum: meta.checksum,
      members: meta.memberCount,
      sizeRaw: meta.sizeRaw,
      sizeCompressed: meta.sizeCompressed,
    },
  });
  job.log.info("backup: captured", {
    backupId: meta.id,
    members: meta.memberCount,
    sizeRaw: meta.sizeRaw,
    sizeCompressed: meta.sizeCompressed,
  });
  return {
    finished: true,
    result: {
      backupId: meta.id,
      checksum: meta.checksum,
      sizeRaw: meta.sizeRaw,
      sizeCompressed: meta.sizeCompressed,
      memberCount: meta.memberCount,
    },
  };
}

async function clearWork(kv: Deno.Kv, guildId: string, runId: string, pages: number) {
  await deleteBlob(kv, baseKey(guildId, runId));
  for (let n = 0; n < pages; n++) await deleteBlob(kv, pageKey(guildId, runId, n));
}

/**
 * Deletes the work data of capture runs other than `keep` (runs that failed or were replaced
 * leave theirs behind). Returns the run ids swept.
 */
export async function sweepCaptureWork(
  kv: Deno.Kv,
  guildId: string,
  keep: string | null,
): Promise<string[]> {
  const runs = new Map<string, Deno.KvKey[]>();
  const prefix = keys.blob("head", ...keys.backupWork(guildId, ""));
  const headPrefix = prefix.slice(0, -1);
  for await (const e of kv.list({ prefix: headPrefix })) {
    const rel = e.key.slice(2); // drop "blob", "head"
    const runId = rel[3];
    if (typeof runId !== "string" || runId === keep) continue;
    const list = runs.get(runId) ?? [];
    list.push(rel);
    runs.set(runId, list);
  }
  for (const blobKeys of runs.values()) for (const k of blobKeys) await deleteBlob(kv, k);
  return [...runs.keys()];
}
