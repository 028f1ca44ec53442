/**
 * What the unit tests of the backup jobs share: an emulated guild with the bot's deps pointed at
 * it (in-memory KV, manual clock, a real REST client), a chunk context driven by hand (its
 * checkpoints recorded, its limit and stop signal set by the test), a backup captured through the
 * capture job one chunk at a time, a restore chunk over it, and Discord refusing chosen writes.
 */
import { type Emulator, startEmulator } from "../emulator/server.ts";
import type { SeedGuildOptions } from "../emulator/seed.ts";
import { botEnvFor } from "../emulator/bot_env.ts";
import { type MemoryDeps, memoryDeps } from "../_deps.ts";
import { memoryLogger } from "../_log.ts";
import type { CheckpointUpdate, ChunkContext, JobDefinition } from "../../lib/jobs/job.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import {
  captureJob,
  type CaptureParams,
  type CaptureResult,
} from "../../lib/backup/capture_job.ts";
import type { BackupsOn } from "../../lib/backup/preflight.ts";
import { loadSnapshot } from "../../lib/backup/store.ts";
import { RESTORE_PARTS } from "../../lib/backup/restore_plan.ts";
import { type RestoreCheckpoint, RestoreRun } from "../../lib/backup/restore_run.ts";

export const GUILD = "200000000000000001";

export interface GuildEnv {
  emu: Emulator;
  deps: MemoryDeps;
  kv: Deno.Kv;
}

/** Runs `fn` with an emulator seeded with one guild (`seed`) and the bot's deps over it. */
export async function withGuild(
  seed: Omit<SeedGuildOptions, "id">,
  fn: (g: GuildEnv) => Promise<void>,
  o: { env?: Record<string, string>; fetch?: typeof fetch } = {},
): Promise<void> {
  const emu = await startEmulator({ uniformRate: 2000, guilds: [{ ...seed, id: GUILD }] });
  const kv = await Deno.openKv(":memory:");
  const deps = memoryDeps(kv, {
    env: { ...botEnvFor(emu, "0".repeat(64), GUILD), ...o.env },
    fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
  });
  try {
    await fn({ emu, deps, kv });
  } finally {
    // Work handed to waitUntil (a chunk's tail) ends before its KV closes.
    while (deps.background.length) await deps.background.shift()!.catch(() => {});
    kv.close();
    await emu.close();
  }
}

/**
 * A fetch for withGuild: Discord refuses the requests `when` picks with 403 `error` (its message
 * and JSON error code); the rest reach the emulator.
 */
export function refusedBy(
  when: (req: Request) => boolean,
  error: { message: string; code: number },
): typeof fetch {
  return (input, init) => {
    const req = new Request(input, init);
    if (!when(req)) return fetch(req);
    return Promise.resolve(
      new Response(JSON.stringify(error), {
        status: 403,
        headers: { "content-type": "application/json" },
      }),
    );
  };
}

export interface HandChunk<P> {
  ctx: ChunkContext<P>;
  /** Every checkpoint the chunk committed, in order. */
  updates: CheckpointUpdate[];
  /** The job's checkpoint as last committed (the run's as it started, before any). */
  checkpoint(): unknown;
  /** Every counter the chunk added, summed. */
  counters(): Record<string, number>;
}

/**
 * A chunk of run `runId` starting from `checkpoint`: `limit` items, stopped when `signal` is
 * aborted (or when `stopAfter` checkpoints were committed).
 */
export function handChunk<P = BackupsOn>(
  checkpoint: unknown,
  o: { runId?: string; limit?: number; signal?: AbortSignal; stopAfter?: number } = {},
): HandChunk<P> {
  const updates: CheckpointUpdate[] = [];
  let last = checkpoint;
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const run = { key: GUILD, runId: o.runId ?? "run-1", checkpoint } as unknown as RunRecord;
  const ctx: ChunkContext<P> = {
    run,
    preflight: true as P,
    signal,
    hard: new AbortController().signal,
    deadline: Number.MAX_SAFE_INTEGER,
    limit: o.limit ?? 1_000_000,
    log: memoryLogger(),
    checkpoint(update) {
      // What the job hands over is copied, as the runner's commit would store it.
      updates.push(structuredClone(update));
      if (update.checkpoint !== undefined) last = structuredClone(update.checkpoint);
      if (o.stopAfter !== undefined && updates.length >= o.stopAfter) stop.abort();
      return Promise.resolve();
    },
    stopReason: () => (signal.aborted ? "stop" : null),
    pause: () => {},
  };
  return {
    ctx,
    updates,
    checkpoint: () => last,
    counters() {
      const out: Record<string, number> = {};
      for (const u of updates) {
        for (const [k, v] of Object.entries(u.counters ?? {})) out[k] = (out[k] ?? 0) + v;
      }
      return out;
    },
  };
}

/** Runs a job's chunks by hand until it finishes; returns its result and the chunks it took. */
export async function runToEnd<R>(
  def: JobDefinition<BackupsOn>,
  checkpoint: unknown,
  o: { runId?: string; limit?: number } = {},
): Promise<{ result: R; chunks: number }> {
  let cp = checkpoint;
  for (let chunks = 1; chunks <= 100; chunks++) {
    const chunk = handChunk(cp, o);
    const out = await def.runChunk(chunk.ctx);
    if (out.finished) return { result: out.result as R, chunks };
    cp = chunk.checkpoint();
  }
  throw new Error("the job did not finish in 100 chunks");
}

export const WHO: CaptureParams = {
  backupId: "bk000001",
  label: "test",
  authorId: "300000000000000001",
  authorName: "tester",
  source: "test",
  respectCooldown: false,
};

/** Captures the guild through the capture job (chunks by hand) and returns what it stored. */
export async function captureNow(
  deps: MemoryDeps,
  params: Partial<CaptureParams> = {},
  o: { runId?: string; limit?: number } = {},
): Promise<CaptureResult & { chunks: number }> {
  const job = captureJob(deps, { ...WHO, ...params });
  const { checkpoint } = await job.newRun({ key: GUILD, source: "test" }, 0);
  const { result, chunks } = await runToEnd<CaptureResult>(job, checkpoint, o);
  return { ...result, chunks };
}

/** A restore's first checkpoint for the backup captured by captureNow, all parts, no rewind. */
export function restoreCheckpoint(o: Partial<RestoreCheckpoint> = {}): RestoreCheckpoint {
  return {
    backupId: WHO.backupId,
    parts: [...RESTORE_PARTS],
    rewind: false,
    actorId: WHO.authorId,
    actorName: WHO.authorName,
    phase: "structure",
    createdRoles: [],
    positionsDone: false,
    failed: [],
    cursor: "0",
    ...o,
  };
}

/** A restore chunk by hand over a stored backup, its snapshot loaded as the job loads it. */
export async function restoreRunOf(
  deps: MemoryDeps,
  checkpoint: RestoreCheckpoint,
  o: { limit?: number; signal?: AbortSignal } = {},
): Promise<{ run: RestoreRun; chunk: HandChunk<BackupsOn> }> {
  const chunk = handChunk(checkpoint, o);
  const run = new RestoreRun(deps, chunk.ctx);
  const { snapshot } = await loadSnapshot(deps.kv, GUILD, checkpoint.backupId);
  run.snapshot = snapshot;
  run.backedUp = new Map(snapshot.members.map((m) => [m.id, m]));
  return { run, chunk };
}
