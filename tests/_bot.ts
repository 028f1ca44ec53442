/**
 * The bot built in-process against the Discord emulator, shared by the end-to-end fixture
 * (`e2e/sync_helpers.ts`) and the backup fixture (`backup/_fixture.ts`): a real RestClient and
 * real routes over an in-memory (or given) KV, optionally served on a free loopback port (for the
 * CLI and SELF_URL continuations), with signed interaction posts and background work that tests
 * can wait for. Each fixture adds its own env defaults and helper methods on top.
 */
import type { Metrics } from "../lib/ops/metrics.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "./emulator/server.ts";
import { botEnvFor } from "./emulator/bot_env.ts";
import { signingKeys } from "./_harness.ts";
import { parseConfig } from "../lib/config.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { createLogger, type Logger } from "../lib/log/log.ts";
import { memoryLogger } from "./_log.ts";
import { RestClient } from "../lib/discord/rest.ts";
import { type App, createApp } from "../lib/app.ts";
import type { AppDeps } from "../lib/deps.ts";
import { createHandler } from "../routes/mod.ts";

export interface InProcessBotOptions {
  guildId: string;
  /** SYNC_AUTH_TOKEN, and the bearer token `request` sends by default. */
  token: string;
  /** Serve over HTTP on a free loopback port; otherwise the URL is `http://bot.invalid`. */
  serve: boolean;
  /** Set SELF_URL to the served URL (needs `serve`). */
  selfUrl: boolean;
  /** Extra bot env, applied last. */
  env?: Record<string, string>;
  kv?: Deno.Kv;
  /** The REST client shares its bucket state (and learned limits) through the KV, as deployed. */
  restKv?: boolean;
  clock?: Clock;
  /** Replaces both the RestClient's log and the app's log (the bot's `log` then stays empty). */
  log?: Logger;
  /** How a failed background task's error is logged. Default: as is. */
  logError?: (error: unknown) => unknown;
  /** Prometheus metrics for the app (interactions counted by type and outcome). */
  metrics?: Metrics;
}

/** What both fixtures' `TestBot` share. */
export interface InProcessBot {
  app: App;
  deps: AppDeps;
  url: string;
  kv: Deno.Kv;
  rest: RestClient;
  log: ReturnType<typeof memoryLogger>;
  request(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
  /** The bot's HTTP handler, for requests built by the test. */
  handle(req: Request): Promise<Response>;
  /** Signs a raw body as Discord would (timestamped by the clock) and posts it to /interactions. */
  postRaw(body: string): Promise<Response>;
  /** Waits for background work (chunks, continuations) to settle. */
  settle(): Promise<void>;
  /** Aborts the shutdown signal (SIGINT), waits for background work, closes. */
  close(): Promise<void>;
}

export interface InProcessBotParts {
  bot: InProcessBot;
  clock: Clock;
  /** Signs `payload` with the bot's public key (timestamped by the clock) and posts it. */
  postInteraction(payload: unknown): Promise<Response>;
}

export async function startInProcessBot(
  emu: Emulator,
  o: InProcessBotOptions,
): Promise<InProcessBotParts> {
  const keys = await signingKeys();
  const kv = o.kv ?? await Deno.openKv(":memory:");
  let handler: ((req: Request) => Promise<Response>) | null = null;
  let server: Deno.HttpServer | null = null;
  let url = "http://bot.invalid";
  if (o.serve) {
    const ready = Promise.withResolvers<Deno.NetAddr>();
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: (a) => ready.resolve(a as Deno.NetAddr),
    }, (req) => handler ? handler(req) : new Response("starting", { status: 503 }));
    url = `http://127.0.0.1:${(await ready.promise).port}`;
  }
  const config = parseConfig(botEnvFor(emu, keys.publicKeyHex, o.guildId, {
    SYNC_AUTH_TOKEN: o.token,
    ...(o.selfUrl ? { SELF_URL: url } : {}),
    DISCORD_GLOBAL_RATE_LIMIT: String(emu.limits.global),
    ...o.env,
  }));
  const clock = o.clock ?? systemClock;
  const log = memoryLogger("info");
  const quiet = o.log ??
    createLogger({ level: "warn", sink: (line) => log.lines.push(JSON.parse(line)) });
  const logError = o.logError ?? ((error: unknown) => error);
  const rest = new RestClient({
    token: config.discord.token,
    apiBase: config.discord.apiBase,
    clock,
    log: quiet,
    globalLimit: config.discord.globalRateLimit,
    retryBaseMs: 20,
    retryMaxMs: 200,
    ...(o.restKv ? { kv } : {}),
  });
  const background = new Set<Promise<unknown>>();
  const deps: AppDeps = {
    config,
    kv,
    rest,
    clock,
    log: o.log ?? log,
    fetch: globalThis.fetch.bind(globalThis),
    waitUntil(work) {
      const p = work.catch((error) =>
        log.error("background work failed", { error: logError(error) })
      );
      background.add(p);
      p.finally(() => background.delete(p));
    },
    startedAt: clock.now(),
    metrics: o.metrics,
  };
  const app = await createApp(deps);
  handler = createHandler(app);
  const handle = handler;
  const request = (method: string, path: string, body?: unknown, token: string | null = o.token) =>
    handle(
      new Request(url + path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
  const postRaw = async (body: string) => {
    const timestamp = String(Math.floor(clock.now() / 1000));
    const signature = await keys.sign(new TextEncoder().encode(timestamp + body));
    return await handle(
      new Request(url + "/interactions", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-signature-timestamp": timestamp,
          "x-signature-ed25519": signature,
        },
        body,
      }),
    );
  };
  const settle = async () => {
    for (let i = 0; i < 1000 && background.size; i++) await Promise.allSettled([...background]);
  };
  return {
    bot: {
      app,
      deps: app.deps,
      url,
      kv,
      rest,
      log,
      request,
      handle,
      postRaw,
      settle,
      async close() {
        app.shutdown.abort(new Error("test over"));
        await settle();
        await rest.close();
        await server?.shutdown();
        if (!o.kv) kv.close();
      },
    },
    clock,
    postInteraction: (payload) => postRaw(JSON.stringify(payload)),
  };
}

/** Posts Discord's interaction callback to the emulator, so edits and follow-ups land there. */
export async function emulatorCallback(
  emu: Emulator,
  interaction: { id: string; token: string },
  response: unknown,
): Promise<void> {
  const res = await fetch(
    `${emu.discordBase}/interactions/${interaction.id}/${interaction.token}/callback`,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(response),
    },
  );
  await res.body?.cancel();
}

export interface BotFixture<B> {
  emu: Emulator;
  bot: B;
  close(): Promise<void>;
}

/**
 * A fixture's `startFixture`: starts the emulator (`defaults`, then the caller's options), then
 * the bot against it; closes the emulator if the bot fails to start.
 */
export function fixtureStarter<O, B extends { close(): Promise<void> }>(
  defaults: EmulatorOptions,
  startBot: (emu: Emulator, botOptions?: O) => Promise<B>,
): (emuOptions?: EmulatorOptions, botOptions?: O) => Promise<BotFixture<B>> {
  return async (emuOptions = {}, botOptions) => {
    const emu = await startEmulator({ ...defaults, ...emuOptions });
    try {
      const bot = await startBot(emu, botOptions);
      return {
        emu,
        bot,
        async close() {
          await bot.close();
          await emu.close();
        },
      };
    } catch (e) {
      await emu.close();
      throw e;
    }
  };
}

/** Polls `read` every `intervalMs` until `done` holds; throws `timeoutError(last)` at the end. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs: number,
  timeoutError: (last: T | null) => Error,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | null = null;
  while (Date.now() < end) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw timeoutError(last);
}
