/**
 * Backup test fixture: the Discord emulator and the bot built in-process against it (real
 * RestClient, real routes, KV in memory or in a file), optionally served over HTTP (for the CLI
 * and for SELF_URL continuations). `interact` plays Discord's part for slash commands: it signs
 * and posts the interaction, then hands the bot's answer to the emulator's callback endpoint so
 * deferred edits and follow-ups land on a message the emulator knows.
 */
import type { APIInteraction } from "discord-api-types/v10";
import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/server.ts";
import { botEnvFor } from "../emulator/bot_env.ts";
import type { WebhookMessage } from "../emulator/interactions.ts";
import { signingKeys } from "../_harness.ts";
import { parseConfig } from "../../lib/config.ts";
import { type Clock, systemClock } from "../../lib/clock.ts";
import { createLogger, memoryLogger } from "../../lib/ops/log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { type App, createApp } from "../../lib/app.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { createHandler } from "../../routes/mod.ts";
import { type JobStatus, jobStatus } from "../../lib/backup/service.ts";

export const GUILD = "200000000000000001";
export const TOKEN = "backup-test-token-0123456789abcdef";
export const OWNER = "310000000000000001";

export interface BotOptions {
  env?: Record<string, string>;
  /** Serve over HTTP (the CLI, SELF_URL continuations). Default false. */
  serve?: boolean;
  /** Also set SELF_URL to the served URL (chunks continue over HTTP). Default false. */
  selfUrl?: boolean;
  kv?: Deno.Kv;
  clock?: Clock;
}

export interface TestBot {
  app: App;
  deps: AppDeps;
  url: string;
  kv: Deno.Kv;
  rest: RestClient;
  log: ReturnType<typeof memoryLogger>;
  request(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Signs and posts an interaction; forwards the answer to the emulator; waits for deferred work. */
  interact(
    payload: APIInteraction,
  ): Promise<{ response: InteractionAnswer; messages: WebhookMessage[] }>;
  /** Waits until the job is no longer running or waiting. */
  waitJob(kind: "capture" | "restore", timeoutMs?: number): Promise<JobStatus>;
  settle(): Promise<void>;
  /** Aborts the shutdown signal (SIGINT), waits for background work, closes. */
  close(): Promise<void>;
}

export interface InteractionAnswer {
  type: number;
  data?: {
    content?: string;
    flags?: number;
    embeds?: {
      title?: string;
      description?: string;
      fields?: { name: string; value: string }[];
      footer?: { text: string };
    }[];
    components?: {
      components: {
        custom_id?: string;
        label?: string;
        style?: number;
        disabled?: boolean;
        url?: string;
      }[];
    }[];
  };
}

export interface Fixture {
  emu: Emulator;
  bot: TestBot;
  close(): Promise<void>;
}

/** Fast emulator limits (every bucket at `rate`/s) and a small seeded guild by default. */
export async function startFixture(
  emuOptions: EmulatorOptions = {},
  botOptions: BotOptions = {},
): Promise<Fixture> {
  const emu = await startEmulator({ uniformRate: 500, guilds: [{ members: 60 }], ...emuOptions });
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
}

export async function startBot(emu: Emulator, o: BotOptions = {}): Promise<TestBot> {
  const keys = await signingKeys();
  const kv = o.kv ?? await Deno.openKv(":memory:");
  let handler: ((req: Request) => Promise<Response>) | null = null;
  let server: Deno.HttpServer | null = null;
  let url = "http://bot.invalid";
  if (o.serve || o.selfUrl) {
    const ready = Promise.withResolvers<Deno.NetAddr>();
    server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: (a) => ready.resolve(a as Deno.NetAddr),
    }, (req) => handler ? handler(req) : new Response("starting", { status: 503 }));
    url = `http://127.0.0.1:${(await ready.promise).port}`;
  }
  const config = parseConfig(botEnvFor(emu, keys.publicKeyHex, GUILD, {
    SYNC_AUTH_TOKEN: TOKEN,
    ...(o.selfUrl ? { SELF_URL: url } : {}),
    DISCORD_GLOBAL_RATE_LIMIT: String(emu.limits.global),
    BOT_OWNER_ID: OWNER,
    ...o.env,
  }));
  const clock = o.clock ?? systemClock;
  const log = memoryLogger("info");
  const quiet = createLogger({ level: "warn", sink: (line) => log.lines.push(JSON.parse(line)) });
  const rest = new RestClient({
    token: config.discord.token,
    apiBase: config.discord.apiBase,
    clock,
    log: quiet,
    globalLimit: config.discord.globalRateLimit,
    retryBaseMs: 20,
    retryMaxMs: 200,
  });
  const background = new Set<Promise<unknown>>();
  const deps: AppDeps = {
    config,
    kv,
    rest,
    clock,
    log,
    fetch: globalThis.fetch.bind(globalThis),
    waitUntil(work) {
      const p = work.catch((error) =>
        log.error("background work failed", { error: String(error) })
      );
      background.add(p);
      p.finally(() => background.delete(p));
    },
    startedAt: clock.now(),
  };
  const app = await createApp(deps);
  handler = createHandler(app);
  const handle = handler;
  const encoder = new TextEncoder();
  const request = (method: string, path: string, body?: unknown, token: string | null = TOKEN) =>
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
  const settle = async () => {
    for (let i = 0; i < 1000 && background.size; i++) await Promise.allSettled([...background]);
  };
  const bot: TestBot = {
    app,
    deps: app.deps,
    url,
    kv,
    rest,
    log,
    request,
    async json(method, path, body) {
      const res = await request(method, path, body);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {} };
    },
    async interact(payload) {
      const body = JSON.stringify(payload);
      const timestamp = String(Math.floor(clock.now() / 1000));
      const signature = await keys.sign(encoder.encode(timestamp + body));
      const res = await handle(
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
      const response = await res.json() as InteractionAnswer;
      const p = payload as unknown as { id: string; token: string };
      // Discord's part: the answer becomes the interaction's original message.
      const cb = await fetch(`${emu.discordBase}/interactions/${p.id}/${p.token}/callback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(response),
      });
      await cb.body?.cancel();
      await settle();
      return { response, messages: emu.state.webhookMessages(p.token) };
    },
    async waitJob(kind, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      let last: JobStatus | null = null;
      while (Date.now() < end) {
        last = await jobStatus(app.deps, GUILD, kind);
        const s = last.progress.state;
        if (s !== "running" && s !== "waiting" && s !== "stopping") {
          await settle();
          return await jobStatus(app.deps, GUILD, kind);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`timed out waiting for the ${kind} job: ${JSON.stringify(last?.progress)}`);
    },
    settle,
    async close() {
      app.shutdown.abort(new Error("test over"));
      await settle();
      rest.close();
      await server?.shutdown();
      if (!o.kv) kv.close();
    },
  };
  return bot;
}

/** A clock running `offsetMs` ahead of the wall clock (a later instance, after leases lapse). */
export function offsetClock(offsetMs: number): Clock & { shift(ms: number): void } {
  let offset = offsetMs;
  return {
    now: () => Date.now() + offset,
    sleep: systemClock.sleep,
    shift: (ms) => void (offset += ms),
  };
}
