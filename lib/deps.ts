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
