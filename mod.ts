/**
 * Entry point and composition root: parses the config once, opens KV, builds the REST client,
 * clock and logger, registers the crons, then serves. Nothing else constructs these.
 */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { systemClock } from "./lib/clock.ts";
import { createLogger } from "./lib/ops/log.ts";
import { RestClient } from "./lib/discord/rest.ts";
import { createApp } from "./lib/app.ts";
import { countingKv, FLUSH_INTERVAL_MS, Metrics } from "./lib/ops/metrics.ts";
import { raiseAlert } from "./lib/ops/alerts.ts";
import type { AppDeps } from "./lib/deps.ts";
import { createHandler } from "./routes/mod.ts";
import { registerCrons } from "./cron.ts";
import { commandsOnStart } from "./lib/manifest/mod.ts";

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    Deno.exit(1);
  }
  throw error;
}

const log = createLogger({ level: config.logLevel });
const metrics = new Metrics();
const kv = countingKv(await Deno.openKv(config.kvPath), metrics);
const pending = new Set<Promise<unknown>>();
const rest = new RestClient({
  token: config.discord.token,
  apiBase: config.discord.apiBase,
  kv,
  log: log.child({ component: "rest" }),
  clock: systemClock,
  globalLimit: config.discord.globalRateLimit,
  invalidRequestLimit: config.discord.invalidRequestLimit,
  onEvent: (event) => {
    metrics.rest(event);
    if (event.type === "paused" && event.reason === "invalid_requests") {
      deps.waitUntil(raiseAlert(deps, {
        cause: "invalid_request_guard",
        title: "Discord REST paused: invalid-request budget nearly spent",
        detail: `401/403/429 responses reached the guard's limit; requests wait until ${
          new Date(event.until).toISOString()
        }. Discord bans an IP at 10,000 in 10 minutes. See docs/runbooks/rate-limits.md.`,
        severity: "critical",
      }));
    }
  },
});
const deps: AppDeps = {
  config,
  kv,
  rest,
  clock: systemClock,
  log,
  fetch: globalThis.fetch.bind(globalThis),
  waitUntil(work) {
    const tracked = work.catch((error) => log.error("background work failed", { error }))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  },
  startedAt: Date.now(),
  metrics,
};
const app = await createApp(deps);

// Deno Deploy discovers crons while the module's top level runs: register before serving.
registerCrons(app);
// SYNC_COMMANDS_ON_START: at most one command sync across a burst of new isolates (KV claim + lease).
deps.waitUntil(commandsOnStart(app));

// Metrics snapshots go to KV off the hot path, so /metrics on any isolate sees them all.
const flushMetrics = () =>
  metrics.flush(kv).catch((error) => log.warn("metrics flush failed", { error }));
const flushTimer = setInterval(flushMetrics, FLUSH_INTERVAL_MS);

const server = Deno.serve({
  port: config.port,
  onListen: ({ hostname, port }) =>
    log.info("listening", { url: `http://${hostname}:${port}`, version: config.version }),
}, createHandler(app));

// Deploy evicts with SIGINT and kills 5 s later: stop taking work, let running work checkpoint.
const shutdown = async (signal: string) => {
  log.info("shutting down", { signal, pending: pending.size });
  app.shutdown.abort(new Error(signal));
  clearInterval(flushTimer);
  await flushMetrics();
  await Promise.race([Promise.allSettled([...pending]), new Promise((r) => setTimeout(r, 4_000))]);
  await server.shutdown();
  kv.close();
  Deno.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, () => void shutdown(signal));
  } catch {
    // Signals are not available on every platform; eviction then simply ends the process.
  }
}
