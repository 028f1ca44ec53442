/**
 * What the composition root (mod.ts) builds once and hands to everything else. Tests build the
 * same shape in memory (tests/_harness.ts).
 */
import type { Config } from "./config.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./ops/log.ts";
import type { RestClient } from "./discord/rest.ts";

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
}
