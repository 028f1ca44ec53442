/**
 * The one composition of the running bot: metrics, the KV wrapper that counts operations, the REST
 * client with its metrics and alert hook, background-work tracking, and the app. `mod.ts` and
 * `bench/interactions_server.ts` both call `composeBot`, so what is benchmarked is what is deployed.
 * Serving (routes/) and crons stay with the caller: lib/ never imports routes/.
 */
import type { Config } from "./config.ts";
import { type Clock, systemClock } from "./clock.ts";
import { createLogger, type Logger } from "./log/log.ts";
import { RestClient, type RestEvent } from "./discord/rest.ts";
import { type App, createApp } from "./app.ts";
import { countingKv, FLUSH_INTERVAL_MS, Metrics } from "./ops/metrics.ts";
import { raiseAlert } from "./ops/alerts.ts";
import { commandsOnStart } from "./manifest/mod.ts";
import type { AppDeps } from "./deps.ts";

export interface BotOptions {
  config: Config;
  /** An open KV handle; the bot counts its operations but does not own it (the caller closes it). */
  kv: Deno.Kv;
  clock?: Clock;
  /** Outbound HTTP for the REST client and the app (Ethos, webhooks); the global fetch by default. */
  fetch?: typeof fetch;
  /** Defaults to a JSON-lines logger at the config's level. */
  log?: Logger;
  /** How often this isolate's metrics snapshot goes to KV; 0 disables the timer (tests). */
  flushIntervalMs?: number;
}

export interface Bot {
  app: App;
  deps: AppDeps;
  metrics: Metrics;
  /** The counting wrapper around the given KV handle. */
  kv: Deno.Kv;
  /** Background work handed to `waitUntil` that has not settled yet. */
  pending: Set<Promise<unknown>>;
  /** Writes the metrics snapshot to KV; a failure is logged, never thrown. */
  flushMetrics(): Promise<void>;
  /**
   * Stops taking work: aborts the app's shutdown signal (running chunks checkpoint), stops the
   * flush timer, flushes metrics once more and waits for background work, at most `graceMs`.
   */
  drain(reason: string, graceMs?: number): Promise<void>;
}

export async function composeBot(options: BotOptions): Promise<Bot> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ level: config.logLevel });
  const metrics = new Metrics();
  const kv = countingKv(options.kv, metrics);
  const fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const pending = new Set<Promise<unknown>>();
  const waitUntil = (work: Promise<unknown>) => {
    const tracked = work.catch((error) => log.error("background work failed", { error }))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  // REST events only fire once requests are made, after `deps` below is initialised.
  const onEvent = (event: RestEvent) => {
    metrics.rest(event);
    if (event.type === "paused" && event.reason === "invalid_requests") {
      waitUntil(raiseAlert(deps, {
        cause: "invalid_request_guard",
        title: "Discord REST paused: invalid-request budget nearly spent",
        detail: `401/403/429 responses reached the guard's limit; requests wait until ${
          new Date(event.until).toISOString()
        }. Discord bans an IP at 10,000 in 10 minutes. See docs/runbooks/rate-limits.md.`,
        severity: "critical",
      }));
    }
  };
  const rest = new RestClient({
    token: config.discord.token,
    apiBase: config.discord.apiBase,
    fetch,
    kv,
    log: log.child({ component: "rest" }),
    clock,
    globalLimit: config.discord.globalRateLimit,
    invalidRequestLimit: config.discord.invalidRequestLimit,
    onEvent,
  });
  const deps: AppDeps = {
    config,
    kv,
    rest,
    clock,
    log,
    fetch,
    waitUntil,
    startedAt: clock.now(),
    metrics,
  };
  const app = await createApp(deps);
  // SYNC_COMMANDS_ON_START: at most one command sync across a burst of new isolates (KV claim + lease).
  waitUntil(commandsOnStart(app));

  // Metrics snapshots go to KV off the hot path, so /metrics on any isolate sees them all.
  const flushMetrics = () =>
    metrics.flush(kv).catch((error) => log.warn("metrics flush failed", { error }));
  const interval = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
  const flushTimer = interval > 0 ? setInterval(flushMetrics, interval) : undefined;

  return {
    app,
    deps: app.deps,
    metrics,
    kv,
    pending,
    flushMetrics,
    async drain(reason, graceMs = 4_000) {
      log.info("shutting down", { reason, pending: pending.size });
      app.shutdown.abort(new Error(reason));
      clearInterval(flushTimer);
      await flushMetrics();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...pending]),
        new Promise((r) => timer = setTimeout(r, graceMs)),
      ]);
      clearTimeout(timer);
      await rest.close();
    },
  };
}
