/**
 * Builds the bot in memory for tests: in-memory KV, a manual clock, a memory logger, a real
 * Ed25519 key pair to sign requests the way Discord does, and a recording fake of Discord's REST
 * API (tests that need a faithful Discord use tests/emulator instead).
 */
import {
  type APIInteraction,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  InteractionType,
} from "discord-api-types/v10";
import { testConfig } from "./_config.ts";
import { ManualClock } from "./_clock.ts";
import { memoryLogger } from "./_log.ts";
import { RestClient } from "../lib/discord/rest.ts";
import { type App, createApp } from "../lib/app.ts";
import type { AppDeps } from "../lib/deps.ts";
import type { Command } from "../lib/interactions/define.ts";
import { createHandler } from "../routes/mod.ts";
import { countingKv, Metrics } from "../lib/ops/metrics.ts";

export const APP_ID = "100000000000000001";
export const GUILD_ID = "200000000000000001";
export const USER_ID = "300000000000000001";

const toHex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

export interface SigningKeys {
  publicKeyHex: string;
  sign(message: Uint8Array): Promise<string>;
}

export async function signingKeys(): Promise<SigningKeys> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const publicKeyHex = toHex(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    publicKeyHex,
    sign: async (message) =>
      toHex(
        await crypto.subtle.sign("Ed25519", pair.privateKey, message as Uint8Array<ArrayBuffer>),
      ),
  };
}

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  headers: Headers;
}

/** A fetch that answers like Discord for the few routes the foundation uses, and records calls. */
export function fakeDiscordFetch(routes: Record<string, unknown> = {}) {
  const calls: RecordedCall[] = [];
  const fetch = async (input: Request | URL | string, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/api\/v10/, "");
    const text = req.body ? await req.text() : "";
    calls.push({
      method: req.method,
      path,
      body: text ? JSON.parse(text) : undefined,
      headers: req.headers,
    });
    const key = `${req.method} ${path}`;
    const headers = { "content-type": "application/json" };
    if (key in routes) return new Response(JSON.stringify(routes[key]), { headers });
    if (path.startsWith("/webhooks/")) {
      return req.method === "DELETE"
        ? new Response(null, { status: 204 })
        : new Response(JSON.stringify({ id: "900000000000000001", content: "" }), { headers });
    }
    return new Response(JSON.stringify({ message: "404: Not Found", code: 0 }), {
      status: 404,
      headers,
    });
  };
  return { fetch, calls };
}

export interface TestApp {
  app: App;
  deps: AppDeps;
  clock: ManualClock;
  log: ReturnType<typeof memoryLogger>;
  keys: SigningKeys;
  calls: RecordedCall[];
  handle(req: Request): Promise<Response>;
  /** Signs and posts an interaction payload (or raw body) to /interactions. */
  post(
    payload: unknown,
    opts?: { timestamp?: string; signature?: string | null; raw?: string },
  ): Promise<Response>;
  /** Waits for background work (deferred replies) to finish. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** An interaction response as the tests read it: the fields they look at. */
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

export async function createTestApp(opts: {
  commands?: Command[];
  env?: Record<string, string>;
  routes?: Record<string, unknown>;
  kv?: Deno.Kv;
  rest?: RestClient;
  /** Gives the app Prometheus metrics (and counts its KV operations). */
  metrics?: Metrics;
} = {}): Promise<TestApp> {
  const keys = await signingKeys();
  const config = testConfig({
    DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_GUILD_ID: GUILD_ID,
    ...opts.env,
  });
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12));
  const log = memoryLogger();
  const rawKv = opts.kv ?? await Deno.openKv(":memory:");
  const kv = opts.metrics ? countingKv(rawKv, opts.metrics) : rawKv;
  const fake = fakeDiscordFetch(opts.routes);
  const rest = opts.rest ?? new RestClient({
    token: config.discord.token,
    apiBase: config.discord.apiBase,
    fetch: fake.fetch,
    log,
    onEvent: opts.metrics?.rest,
  });
  const background: Promise<unknown>[] = [];
  const deps: AppDeps = {
    config,
    kv,
    rest,
    clock,
    log,
    fetch: fake.fetch,
    waitUntil: (p) => void background.push(p),
    startedAt: clock.now(),
    metrics: opts.metrics,
  };
  const app = await createApp(deps, opts.commands);
  const handle = createHandler(app);
  const encoder = new TextEncoder();
  return {
    app,
    deps,
    clock,
    log,
    keys,
    calls: fake.calls,
    handle,
    async post(payload, o = {}) {
      const body = o.raw ?? JSON.stringify(payload);
      const timestamp = o.timestamp ?? String(Math.floor(clock.now() / 1000));
      const signature = o.signature === undefined
        ? await keys.sign(encoder.encode(timestamp + body))
        : o.signature;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-signature-timestamp": timestamp,
      };
      if (signature !== null) headers["x-signature-ed25519"] = signature;
      return await handle(
        new Request("http://bot.test/interactions", { method: "POST", headers, body }),
      );
    },
    async settle() {
      while (background.length) await background.shift();
    },
    async close() {
      while (background.length) await background.shift()?.catch(() => {});
      if (!opts.kv) rawKv.close();
    },
  };
}

/** Runs `fn` against an app made by createTestApp(`opts`), closing the app however `fn` ends. */
export async function withTestApp(
  opts: Parameters<typeof createTestApp>[0],
  fn: (t: TestApp) => Promise<void>,
): Promise<void> {
  const t = await createTestApp(opts);
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

let seq = 0;
/** A fresh interaction id (snowflake-shaped). */
export function nextId(): string {
  return String(400000000000000000n + BigInt(++seq));
}

interface Invoker {
  userId?: string;
  permissions?: bigint;
  roles?: string[];
  guildId?: string | null;
}

function invoker(o: Invoker) {
  const user = {
    id: o.userId ?? USER_ID,
    username: "tester",
    discriminator: "0",
    global_name: null,
    avatar: null,
  };
  if (o.guildId === null) return { user };
  return {
    guild_id: o.guildId ?? GUILD_ID,
    member: {
      user,
      roles: o.roles ?? [],
      permissions: String(o.permissions ?? 0n),
      joined_at: "2025-01-01T00:00:00.000Z",
      deaf: false,
      mute: false,
      flags: 0,
    },
  };
}

type RawOption = {
  name: string;
  type: number;
  value?: unknown;
  options?: RawOption[];
  focused?: boolean;
};

/** Builds raw options from a plain object: strings, numbers and booleans by value type. */
export function rawOptions(values: Record<string, unknown>): RawOption[] {
  return Object.entries(values).map(([name, value]) => ({
    name,
    value,
    type: typeof value === "boolean"
      ? ApplicationCommandOptionType.Boolean
      : typeof value === "number"
      ? (Number.isInteger(value)
        ? ApplicationCommandOptionType.Integer
        : ApplicationCommandOptionType.Number)
      : ApplicationCommandOptionType.String,
  }));
}

export function subcommand(name: string, values: Record<string, unknown> = {}): RawOption[] {
  return [{ name, type: ApplicationCommandOptionType.Subcommand, options: rawOptions(values) }];
}

export function commandInteraction(
  name: string,
  options: RawOption[] = [],
  o: Invoker & { id?: string } = {},
): APIInteraction {
  return {
    id: o.id ?? nextId(),
    application_id: APP_ID,
    type: InteractionType.ApplicationCommand,
    token: `aW50ZXJhY3Rpb246${nextId()}:token`,
    version: 1,
    channel_id: "500000000000000001",
    locale: "en-US",
    app_permissions: "0",
    entitlements: [],
    authorizing_integration_owners: {},
    data: { id: "600000000000000001", name, type: ApplicationCommandType.ChatInput, options },
    ...invoker(o),
  } as unknown as APIInteraction;
}

export function componentInteraction(
  customId: string,
  o: Invoker & { values?: string[]; id?: string } = {},
): APIInteraction {
  return {
    id: o.id ?? nextId(),
    application_id: APP_ID,
    type: InteractionType.MessageComponent,
    token: `aW50ZXJhY3Rpb246${nextId()}:token`,
    version: 1,
    channel_id: "500000000000000001",
    locale: "en-US",
    app_permissions: "0",
    entitlements: [],
    authorizing_integration_owners: {},
    message: { id: "700000000000000001", content: "", components: [] },
    data: o.values
      ? { custom_id: customId, component_type: ComponentType.StringSelect, values: o.values }
      : { custom_id: customId, component_type: ComponentType.Button },
    ...invoker(o),
  } as unknown as APIInteraction;
}

export function autocompleteInteraction(
  name: string,
  options: RawOption[],
  o: Invoker = {},
): APIInteraction {
  return {
    ...commandInteraction(name, options, o),
    type: InteractionType.ApplicationCommandAutocomplete,
  } as unknown as APIInteraction;
}
