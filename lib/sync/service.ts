/**
 * The role sync as a job of lib/jobs, and the operations routes, commands and crons call:
 * trigger, status, stop, the daily full run, the hourly incremental run and the watchdog.
 * Everything takes AppDeps; the Ethos client and score cache are built once per deps object.
 */
import { isGuildGone, markGuildGone } from "../guilds/gone.ts";
import { configuredGuilds, effectiveSetup, getSetup, type Schedule } from "../guilds/setup.ts";
import { runSummary } from "./summary.ts";
import { createMessage } from "../discord/api.ts";
import { listRuns, readProgress } from "../jobs/store.ts";
import { ethosClientFor } from "../ethos/service.ts";
import { type AppDeps, jobEnvOf } from "../deps.ts";
import { isEnabled } from "../ops/flags.ts";
import { reason, ReasonError } from "../i18n/reason.ts";
import { keys } from "../kv/keys.ts";
import type { JobProgress } from "../jobs/progress.ts";
import {
  type ChunkResult,
  type JobDefinition,
  type JobEnv,
  requestStop,
  startChunk,
  type StartRequest,
  type StartResult,
  type StopResult,
  watchdog,
} from "../jobs/runner.ts";
import { EthosClient } from "../ethos/client.ts";
import { ScoreCache } from "./score_cache.ts";
import { CONTEXT_TTL_MS, loadGuildContext, rulesFor, SyncConfigError } from "./context.ts";
import type { SyncRules } from "./rule.ts";
import { SyncChunk } from "./engine.ts";
import { type ChunkStats, type PlannedChange, syncCheckpointSchema } from "./chunk_model.ts";

export const SYNC_KIND = "sync";
const SYNC_CONTINUE_PATH = "/trigger-sync";
/** Scheduled runs chain chunks of at least this many members (nobody drives them by hand). */
const SCHEDULED_CHUNK_SIZE = 1000;
/** An incremental run looks this far before the last watermark (late writes at Ethos). */
const WATERMARK_OVERLAP_MS = 5 * 60_000;

export { SyncConfigError };

/** The guild turned role sync off (its role_sync flag). */
export class SyncDisabledError extends ReasonError {
  constructor(guildId: string) {
    super(reason("reason.sync_disabled", { guild: guildId }));
    this.name = "SyncDisabledError";
  }
}

export interface SyncServices {
  ethos: EthosClient;
  cache: ScoreCache;
  env: JobEnv;
  job: JobDefinition<SyncRules>;
}

const services = new WeakMap<AppDeps, SyncServices>();

/** The Ethos client, cache, job env and job definition for these deps (built once). */
export function syncServices(deps: AppDeps): SyncServices {
  let s = services.get(deps);
  if (s) return s;
  const { config } = deps;
  const ethos = ethosClientFor(deps);
  const cache = new ScoreCache(deps.kv, deps.clock, {
    ttlMs: config.ethos.scoreTtlMs,
    noScoreTtlMs: config.ethos.noScoreTtlMs,
  });
  const env = jobEnvOf(deps, {
    component: "jobs",
    autoContinue: config.sync.autoContinue,
    defaultChunkSize: config.sync.chunkSize,
    onChunkEnd: deps.metrics?.syncChunk,
  });
  const job = syncJobDefinition(deps, ethos, cache);
  s = { ethos, cache, env, job };
  services.set(deps, s);
  return s;
}

export interface SyncChunkOutput {
  stats: ChunkStats;
  planned?: PlannedChange[];
}

/**
 * What every sync chunk checks before it works: the guild's rules (SyncConfigError when the sync
 * is not configured) and its role_sync flag (SyncDisabledError). Returns the rules.
 */
async function syncPreflight(deps: AppDeps, guildId: string): Promise<SyncRules> {
  const rules = await rulesFor(deps, guildId);
  if (!(await isEnabled(deps.kv, guildId, "role_sync"))) throw new SyncDisabledError(guildId);
  return rules;
}

function syncJobDefinition(
  deps: AppDeps,
  ethos: EthosClient,
  cache: ScoreCache,
): JobDefinition<SyncRules> {
  const { config, kv, clock } = deps;
  return {
    kind: SYNC_KIND,
    continuePath: SYNC_CONTINUE_PATH,
    preflight: (guildId) => syncPreflight(deps, guildId),
    async newRun(req, skip) {
      const mode = req.mode === "incremental" ? "incremental" : "full";
      let inc = null;
      if (mode === "incremental") {
        const mark = await kv.get<number>(keys.syncWatermark(req.key));
        const from = typeof mark.value === "number" ? mark.value : clock.now() - 3_600_000;
        inc = {
          after: new Date(from - WATERMARK_OVERLAP_MS).toISOString(),
          until: clock.now(),
        };
      }
      return { mode, checkpoint: { mode, cursor: "0", skip, ctx: null, inc } };
    },
    async runChunk(job) {
      const guildId = job.run.key;
      let cp = syncCheckpointSchema.parse(job.run.checkpoint);
      const rules = job.preflight;
      let gctx = cp.ctx;
      if (!gctx || clock.now() - gctx.at > CONTEXT_TTL_MS) {
        try {
          gctx = await loadGuildContext(deps, config, guildId, rules, job.hard);
        } catch (error) {
          if (!isGuildGone(error)) throw error;
          await markGuildGone(deps, guildId, error);
          throw new SyncConfigError(reason("reason.sync_bot_gone"));
        }
        cp = { ...cp, ctx: gctx };
        await job.checkpoint({
          checkpoint: cp,
          total: cp.mode === "full" ? gctx.memberCount : undefined,
          warnings: gctx.warnings,
          counters: { "calls.setup": 3 },
        });
      }
      if (!gctx.canManageRoles) {
        throw new SyncConfigError(reason("reason.sync_no_manage_roles"));
      }
      const chunk = new SyncChunk(job, { ...deps, ethos, cache }, {
        rules,
        ctx: gctx,
        guildId,
        dryRun: job.run.dryRun,
        reason: `Ethos role sync (run ${job.run.runId})`,
      }, cp);
      const { finished } = await chunk.run();
      if (finished && !job.run.dryRun) {
        const mark = cp.mode === "incremental" ? cp.inc!.until : job.run.startedAt;
        const cur = await kv.get<number>(keys.syncWatermark(guildId));
        if (typeof cur.value !== "number" || cur.value < mark) {
          await kv.set(keys.syncWatermark(guildId), mark);
        }
      }
      if (finished && !job.run.dryRun) await postSummary(deps, guildId, job.run.runId);
      job.log.info("sync: chunk figures", { ...chunk.stats });
      const result: SyncChunkOutput = {
        stats: chunk.stats,
        ...(job.run.dryRun ? { planned: chunk.planned } : {}),
      };
      return { finished, result };
    },
  };
}

export type TriggerInput = Omit<StartRequest, "key" | "source" | "preflight"> & { source?: string };

/**
 * Starts (or continues) a chunk for the guild: what the route, the command and the crons call.
 * Throws SyncConfigError when the sync is not configured and SyncDisabledError when the guild
 * turned it off: the preflight runs here, before the chunk, so its refusal reaches the caller, and
 * the chunk reuses its result rather than running it again.
 */
export async function triggerSync(
  deps: AppDeps,
  guildId: string,
  input: TriggerInput,
): Promise<StartResult> {
  const preflight = await syncPreflight(deps, guildId);
  const s = syncServices(deps);
  return await startChunk(s.env, s.job, {
    ...input,
    key: guildId,
    source: input.source ?? "http",
    preflight,
  });
}

export async function syncStatus(deps: AppDeps, guildId: string): Promise<JobProgress> {
  return await readProgress(syncServices(deps).env, SYNC_KIND, guildId);
}

export async function stopSync(deps: AppDeps, guildId: string, by: string): Promise<StopResult> {
  const s = syncServices(deps);
  return await requestStop(s.env, s.job, guildId, by);
}

/** Starts a chunk and waits for it (cron, tests); null when it did not start. */
async function runScheduled(
  deps: AppDeps,
  guildId: string,
  req: TriggerInput,
): Promise<ChunkResult | StartResult | null> {
  try {
    const r = await triggerSync(deps, guildId, req);
    if (r.status !== "started") {
      deps.log.info("sync: scheduled run not started", {
        guild: guildId,
        reason: r.reason,
        mode: req.mode,
      });
      return r;
    }
    return await r.done;
  } catch (error) {
    if (error instanceof SyncConfigError || error instanceof SyncDisabledError) {
      deps.log.info("sync: scheduled run skipped", { guild: guildId, reason: error.message });
      return null;
    }
    throw error;
  }
}

/** Runs `run` for every configured guild whose schedule is one of `schedules`, side by side. */
async function forGuilds(
  deps: AppDeps,
  schedules: Schedule[],
  run: (guildId: string) => Promise<unknown>,
): Promise<Record<string, unknown>> {
  const guilds = (await configuredGuilds(deps.config, deps.kv))
    .filter((g) => g.configured && schedules.includes(g.schedule));
  const results = await Promise.allSettled(guilds.map((g) => run(g.guildId)));
  const out: Record<string, unknown> = {};
  results.forEach((r, i) => {
    const guild = guilds[i].guildId;
    if (r.status === "fulfilled") out[guild] = r.value;
    else {
      deps.log.error("sync: scheduled run failed", { guild, error: r.reason });
      out[guild] = { error: String(r.reason) };
    }
  });
  return out;
}

function fullRun(deps: AppDeps, current: JobProgress | null): TriggerInput {
  // Continue an unfinished full run; an unfinished incremental or dry one is superseded.
  const replace = current?.mode === "incremental" || current?.dryRun === true;
  return {
    source: "cron",
    mode: "full",
    dryRun: false,
    ...(replace ? { startIndex: 0 } : {}),
    chunkSize: Math.max(deps.config.sync.chunkSize, SCHEDULED_CHUNK_SIZE),
    autoContinue: true,
  };
}

/** The daily full run (02:00 UTC) of every guild on the daily schedule, chained chunk after chunk. */
export async function dailySync(deps: AppDeps): Promise<unknown> {
  if (deps.config.sync.disableDaily) return null;
  return await forGuilds(
    deps,
    ["daily"],
    async (guildId) =>
      await runScheduled(deps, guildId, fullRun(deps, await syncStatus(deps, guildId))),
  );
}

/**
 * Hourly: a full run for guilds on the hourly schedule; for guilds on the daily one, an
 * incremental run of the members whose Ethos score changed and the validator and human holders.
 */
export async function incrementalSync(deps: AppDeps): Promise<unknown> {
  const hourly = forGuilds(
    deps,
    ["hourly"],
    async (guildId) =>
      await runScheduled(deps, guildId, fullRun(deps, await syncStatus(deps, guildId))),
  );
  const daily = forGuilds(deps, ["daily"], (guildId) =>
    runScheduled(deps, guildId, {
      source: "cron",
      mode: "incremental",
      onlyIfIdle: true,
      startIndex: 0,
      chunkSize: Math.max(deps.config.sync.chunkSize, SCHEDULED_CHUNK_SIZE),
      autoContinue: true,
    }));
  const [full, incremental] = await Promise.all([hourly, daily]);
  return { ...incremental, ...full };
}

/**
 * The run's summary in the guild's log channel, if it has one. Never fatal: a deleted channel or a
 * missing permission is logged and the run still completes.
 */
async function postSummary(deps: AppDeps, guildId: string, runId: string): Promise<void> {
  try {
    const setup = effectiveSetup(deps.config, guildId, await getSetup(deps.kv, guildId));
    if (!setup.logChannelId) return;
    const progress = await syncStatus(deps, guildId);
    if (progress.runId !== runId) return;
    await createMessage(deps.rest, setup.logChannelId, {
      content: runSummary(progress, deps.clock.now()),
      allowed_mentions: { parse: [] },
    });
  } catch (error) {
    deps.log.warn("sync: could not post the run summary to the log channel", {
      guild: guildId,
      error,
    });
  }
}

/** The guild of a sync run, found by its id (continuations carry the run id only). */
export async function syncRunGuild(deps: AppDeps, runId: string): Promise<string | undefined> {
  return (await listRuns(deps.kv, SYNC_KIND)).find((r) => r.runId === runId)?.key;
}

/** Resumes runs whose chunk died (or whose continuation got lost). */
export async function syncWatchdog(deps: AppDeps): Promise<string[]> {
  const s = syncServices(deps);
  return await watchdog(s.env, s.job);
}
