/**
 * End-to-end fixture for the role sync: the Discord + Ethos emulator, and the bot built
 * in-process against it (real RestClient, real HTTP server for SELF_URL self-chaining, in-memory
 * KV), driven through its HTTP routes. Also the rule, re-derived independently from the
 * emulator's state, to check every member's final roles.
 */
import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/server.ts";
import { botEnvFor } from "../emulator/bot_env.ts";
import { signingKeys } from "../_harness.ts";
import { parseConfig } from "../../lib/config.ts";
import { systemClock } from "../../lib/clock.ts";
import { createLogger, type Logger, memoryLogger } from "../../lib/ops/log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { type App, createApp } from "../../lib/app.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { createHandler } from "../../routes/mod.ts";
import type { JobProgress } from "../../lib/jobs/progress.ts";

export const GUILD = "200000000000000001";
export const TOKEN = "sync-test-token-0123456789abcdef";

export interface BotOptions {
  env?: Record<string, string>;
  /** Serve over HTTP and set SELF_URL (self-chaining continuations). Default true. */
  serve?: boolean;
  kv?: Deno.Kv;
  log?: Logger;
}

export interface TestBot {
  app: App;
  deps: AppDeps;
  url: string;
  kv: Deno.Kv;
  rest: RestClient;
  log: ReturnType<typeof memoryLogger>;
  request(method: string, path: string, body?: unknown, token?: string | null): Promise<Response>;
  trigger(
    body?: unknown,
    query?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  status(): Promise<JobProgress & { guildId: string }>;
  stop(): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Polls the status until `pred` holds (default: the run completed). */
  waitFor(pred?: (p: JobProgress) => boolean, timeoutMs?: number): Promise<JobProgress>;
  /**
   * Posts a signed interaction, as Discord would. The emulator is told about the interaction
   * first (a deferred callback), so follow-ups and edits of the original land there.
   */
  interact(payload: { id: string; token: string }): Promise<Record<string, unknown>>;
  /** Waits for background work (chunks, continuations) to settle. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface Fixture {
  emu: Emulator;
  bot: TestBot;
  close(): Promise<void>;
}

/** Fast defaults: every bucket and the global limit at 200/s, small chunks, quick checkpoints. */
export async function startFixture(
  emuOptions: EmulatorOptions = {},
  botOptions: BotOptions = {},
): Promise<Fixture> {
  const emu = await startEmulator({ uniformRate: 200, guilds: [{ members: 200 }], ...emuOptions });
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
  const serve = o.serve ?? true;
  let handler: ((req: Request) => Promise<Response>) | null = null;
  let server: Deno.HttpServer | null = null;
  let url = "http://bot.invalid";
  if (serve) {
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
    ...(serve ? { SELF_URL: url } : {}),
    SYNC_PATCH_LIMIT: `${emu.limits.memberPatch.limit}/${emu.limits.memberPatch.windowMs}ms`,
    SYNC_ROLE_LIMIT: `${emu.limits.memberRole.limit}/${emu.limits.memberRole.windowMs}ms`,
    DISCORD_GLOBAL_RATE_LIMIT: String(emu.limits.global),
    ETHOS_CLIENT: "ethos-discord-bot-tests@0.1.0",
    ...o.env,
  }));
  const log = memoryLogger("info");
  const quiet = o.log ??
    createLogger({ level: "warn", sink: (line) => log.lines.push(JSON.parse(line)) });
  const rest = new RestClient({
    token: config.discord.token,
    apiBase: config.discord.apiBase,
    clock: systemClock,
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
    clock: systemClock,
    log: o.log ?? log,
    fetch: globalThis.fetch.bind(globalThis),
    waitUntil(work) {
      const p = work.catch((error) => log.error("background work failed", { error }));
      background.add(p);
      p.finally(() => background.delete(p));
    },
    startedAt: Date.now(),
  };
  const app = await createApp(deps);
  handler = createHandler(app);
  const handle = handler;
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
  const bot: TestBot = {
    app,
    deps: app.deps,
    url,
    kv,
    rest,
    log,
    request,
    async trigger(body = {}, query = "") {
      const res = await request("POST", `/trigger-sync${query}`, body);
      return { status: res.status, body: await res.json() };
    },
    async status() {
      const res = await request("GET", "/sync-status");
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
      return await res.json();
    },
    async stop() {
      const res = await request("POST", "/stop-sync");
      return { status: res.status, body: await res.json() };
    },
    async waitFor(pred = (p) => p.state === "completed", timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      let last: JobProgress | null = null;
      while (Date.now() < end) {
        last = await bot.status();
        if (pred(last)) return last;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`timed out waiting; last status: ${JSON.stringify(last)}`);
    },
    async interact(payload) {
      const pre = await fetch(
        `${emu.discordBase}/interactions/${payload.id}/${payload.token}/callback`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: 5, data: { flags: 64 } }),
        },
      );
      await pre.body?.cancel();
      const body = JSON.stringify(payload);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = await keys.sign(new TextEncoder().encode(timestamp + body));
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
      if (res.status !== 200) {
        throw new Error(`interaction answered ${res.status}: ${await res.text()}`);
      }
      return await res.json();
    },
    async settle() {
      for (let i = 0; i < 1000 && background.size; i++) {
        await Promise.allSettled([...background]);
      }
    },
    async close() {
      app.shutdown.abort(new Error("test over"));
      await bot.settle();
      rest.close();
      await server?.shutdown();
      if (!o.kv) kv.close();
    },
  };
  return bot;
}

// --- the rule, re-derived from the emulator's state ------------------------------------------

export interface RuleEnv {
  verified: string;
  profile?: string;
  tiers: { roleId: string; minScore: number }[];
}

export function ruleEnvOf(emu: Emulator, guildId = GUILD): RuleEnv {
  const r = emu.state.guild(guildId).ethosRoles!;
  return {
    verified: r.verified,
    profile: r.profile,
    tiers: [
      { roleId: r.exemplary, minScore: 2000 },
      { roleId: r.reputable, minScore: 1600 },
      { roleId: r.neutral, minScore: 1200 },
      { roleId: r.questionable, minScore: 800 },
      { roleId: r.untrusted, minScore: 0 },
    ],
  };
}

/** The managed roles a member should hold, or null for members the rule leaves alone (bots). */
export function expectedManaged(emu: Emulator, userId: string, env: RuleEnv, guildId = GUILD) {
  const m = emu.state.member(guildId, userId);
  if (!m || m.bot) return null;
  if (!m.roles.includes(env.verified)) return [];
  const score = emu.state.score(userId);
  if (score === undefined) return [];
  const tier = [...env.tiers].sort((a, b) => b.minScore - a.minScore).find((t) =>
    score >= t.minScore
  );
  return [...(tier ? [tier.roleId] : []), ...(env.profile ? [env.profile] : [])].sort();
}

export function managedSet(env: RuleEnv): Set<string> {
  return new Set([...env.tiers.map((t) => t.roleId), ...(env.profile ? [env.profile] : [])]);
}

/** Members whose managed roles differ from the rule: [] when the guild is in sync. */
export function outOfSync(emu: Emulator, guildId = GUILD, exclude: Set<string> = new Set()) {
  const env = ruleEnvOf(emu, guildId);
  const managed = managedSet(env);
  const bad: { id: string; has: string[]; want: string[] }[] = [];
  for (const m of emu.state.guild(guildId).members.values()) {
    if (exclude.has(m.id)) continue;
    const want = expectedManaged(emu, m.id, env, guildId);
    if (want === null) continue;
    const has = m.roles.filter((r) => managed.has(r)).sort();
    if (has.join() !== want.join()) bad.push({ id: m.id, has, want });
  }
  return bad;
}

/** How many member writes a perfect run needs: members whose managed roles differ. */
export function membersNeedingChange(emu: Emulator, guildId = GUILD): number {
  return outOfSync(emu, guildId).length;
}

/** Every member's full role list, for before/after comparisons. */
export function snapshotRoles(emu: Emulator, guildId = GUILD): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of emu.state.guild(guildId).members.values()) out.set(m.id, [...m.roles].sort());
  return out;
}

/** Member role writes per member id (PATCH and PUT/DELETE). */
export function writesByMember(emu: Emulator): Map<string, number> {
  const out = new Map<string, number>();
  for (const w of emu.stats.writes) {
    const m = /\/guilds\/\d+\/members\/(\d+)/.exec(w.path);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + 1);
  }
  return out;
}
