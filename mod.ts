/**
 * Entry point and composition root: parses the config once, opens KV, builds the REST client,
 * clock and logger, registers the crons, then serves. Nothing else constructs these.
 */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { systemClock } from "./lib/clock.ts";
import { createLogger } from "./lib/ops/log.ts";
import { RestClient } from "./lib/discord/rest.ts";
import { createApp } from "./lib/app.ts";
import type { AppDeps } from "./lib/deps.ts";
import { createHandler } from "./routes/mod.ts";
import { registerCrons } from "./cron.ts";

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
const kv = await Deno.openKv(config.kvPath);
const pending = new Set<Promise<unknown>>();
const rest = new RestClient({
  token: config.discord.token,
  apiBase: config.discord.apiBase,
  kv,
  log: log.child({ component: "rest" }),
  clock: systemClock,
  globalLimit: config.discord.globalRateLimit,
  invalidRequestLimit: config.discord.invalidRequestLimit,
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
};
const app = await createApp(deps);

// Deno Deploy discovers crons while the module's top level runs: register before serving.
registerCrons(app);

const server = Deno.serve({
  port: config.port,
  onListen: ({ hostname, port }) =>
    log.info("listening", { url: `http://${hostname}:${port}`, version: config.version }),
}, createHandler(app));

// Deploy evicts with SIGINT and kills 5 s later: stop taking work, let running work checkpoint.
const shutdown = async (signal: string) => {
  log.info("shutting down", { signal, pending: pending.size });
  app.shutdown.abort(new Error(signal));
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
