/**
 * Entry point: parses the config once, opens KV, composes the bot (lib/bot.ts: metrics, REST
 * client, app), registers the crons, then serves. Nothing else constructs these.
 */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { composeBot } from "./lib/bot.ts";
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

const kv = await Deno.openKv(config.kvPath);
const bot = await composeBot({ config, kv });
const { log } = bot.deps;

// Deno Deploy discovers crons while the module's top level runs: register before serving.
registerCrons(bot.app);

const server = Deno.serve({
  port: config.port,
  onListen: ({ hostname, port }) =>
    log.info("listening", { url: `http://${hostname}:${port}`, version: config.version }),
}, createHandler(bot.app));

// Deploy evicts with SIGINT and kills 5 s later: stop taking work, let running work checkpoint.
const shutdown = async (signal: string) => {
  await bot.drain(signal, 4_000);
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
