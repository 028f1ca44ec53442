/**
 * What the composition root (mod.ts) builds once and hands to everything else. Tests build the
 * same shape in memory (tests/_harness.ts).
 */
import type { Config } from "./config.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./log/log.ts";
import type { RestClient } from "./discord/rest.ts";
import type { EthosClient } from "./ethos/client.ts";
import type { Metrics } from "./ops/metrics.ts";
import type { JobEnv } from "./jobs/runner.ts";

export interface AppDeps {
  config: Config;
  kv: Deno.Kv;
  rest: RestClient;
  clock: Clock;
  log: Logger;
  fetch: typeof fetch;
  /** Keeps work alive after the response is sent (deferred replies, chained chunks). */
  waitUntil(work: Promise<unknown>): void;
  /** Epoch ms the process started. */
  startedAt: number;
  /** The Ethos API client; built from the config (and `fetch`) when absent. */
  ethos?: EthosClient;
  /** Prometheus metrics of this isolate; absent in tests that do not look at them. */
  metrics?: Metrics;
  /** Aborted on SIGINT (set by createApp from App.shutdown): long work checkpoints and stops. */
  shutdown?: AbortSignal;
}

/**
 * The job runner's environment for a service's jobs (lib/jobs/runner.ts): the deps' KV, clock,
 * fetch, shutdown signal and self URL, with what differs per service.
 */
export function jobEnvOf(
  deps: AppDeps,
  o: Pick<JobEnv, "autoContinue" | "defaultChunkSize" | "onChunkEnd"> & { component: string },
): JobEnv {
  return {
    kv: deps.kv,
    clock: deps.clock,
    log: deps.log.child({ component: o.component }),
    fetch: deps.fetch,
    waitUntil: (p) => deps.waitUntil(p),
    shutdown: deps.shutdown,
    selfUrl: deps.config.selfUrl,
    authToken: deps.config.syncAuthToken,
    autoContinue: o.autoContinue,
    maxChunkMs: deps.config.sync.maxChunkMs,
    defaultChunkSize: o.defaultChunkSize,
    onChunkEnd: o.onChunkEnd,
  };
}

/** The guild a request is about: the one it names, else the environment's (DISCORD_GUILD_ID). */
export function requestedGuild(deps: AppDeps, requested?: string | null): string | undefined {
  return requested ?? deps.config.discord.guildId;
}
