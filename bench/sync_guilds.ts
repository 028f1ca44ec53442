/**
 * The many-guilds case of the sync benchmark (`bench/sync_bench.ts --case=gb:5000:10`): N guilds
 * synced at once by one bot, every guild's chunks in a process of their own (as Deploy runs them
 * on separate isolates), all sharing one KV and Discord's one global limit.
 *
 * - The emulator runs in its own process with N guilds, per-guild buckets and one global limit.
 * - The first guild is the environment's (DISCORD_GUILD_ID and role ids); the others are set up
 *   in KV the way `/ethos_setup map` stores them.
 * - Each worker builds the bot with `composeBot` and `createHandler`, like `mod.ts`, opens the
 *   shared KV file and drives its guild through POST /trigger-sync until the run completes.
 * - Printed: elapsed next to the bound max(slowest guild alone, every guild's calls / global
 *   rate), global 429s, writes next to what every guild needs, and whether every member of
 *   every guild ends right.
 *
 * The shared KV is a SQLite file opened by every process; SQLite answers "database is locked" when
 * several processes write at once, which Deploy's KV never does, so the workers' KV handle retries
 * those (and only those) errors. That is part of the rig, like the emulator.
 * Kept in one file past 400 lines: one program (the workers, the shared KV, the report).
 */
import { startEmulator } from "../tests/emulator/server.ts";
import { signingKeys } from "../tests/_harness.ts";
import { parseConfig } from "../lib/config.ts";
import { systemClock } from "../lib/clock.ts";
import { createLogger } from "../lib/log/log.ts";
import { composeBot } from "../lib/bot.ts";
import { createHandler } from "../routes/mod.ts";
import { syncLowerBound, windowedMs } from "../lib/sync/scheduler.ts";
import { mapEmulatedGuild } from "../tests/emulator/bot_env.ts";
import type { EthosRoleIds } from "../tests/emulator/server.ts";
import type { JobProgress } from "../lib/jobs/progress.ts";
import {
  type Case,
  changeCounts,
  closeOnSigterm,
  interceptKv,
  limitsFor,
  operatorCall,
  specFor,
} from "./_sync_common.ts";

const TOKEN = "bench-token-0123456789abcdef";
const FIRST_GUILD = 200000000000000001n;

interface GuildInfo {
  id: string;
  roles: EthosRoleIds;
  changes: number[];
  totalMembers: number;
}

interface HostInfo {
  admin: string;
  discordBase: string;
  ethosBase: string;
  token: string;
  applicationId: string;
  guilds: GuildInfo[];
}

interface HostStats {
  totalRequests: number;
  requests: Record<string, number>;
  writesByGuild: Record<string, number>;
  outOfSyncByGuild: Record<string, number>;
  noopWrites: number;
  rateLimited: { user: number; global: number; shared: number };
  rateLimitedRoutes: Record<string, number>;
}

interface WorkerResult {
  guildId: string;
  state: string;
  chunks: number;
  startedAt: number;
  finishedAt: number;
  /** The shared global budget's counters, summed over the worker's clients. */
  rest: Record<string, number>;
  kvRetries: number;
}

export interface GuildsOptions {
  guilds: number;
  seed: number;
  chunkMs: number;
  freshMs: number;
}

const guildId = (i: number) => String(FIRST_GUILD + BigInt(i));

/** The emulator process: N guilds behind one global limit. */
export async function guildsHost(c: Case, n: number, seed: number): Promise<void> {
  const limits = limitsFor(c);
  const ids = Array.from({ length: n }, (_, i) => guildId(i));
  const emu = await startEmulator({
    guilds: ids.map((id) => ({ id, members: c.members })),
    seed,
    limits,
  });
  const guildOf = (path: string) => /\/guilds\/(\d+)\//.exec(path)?.[1] ?? "";
  const admin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/reset") emu.stats.reset();
    const writesByGuild: Record<string, number> = {};
    for (const w of emu.stats.writes) {
      const g = guildOf(w.path);
      writesByGuild[g] = (writesByGuild[g] ?? 0) + 1;
    }
    const outOfSyncByGuild: Record<string, number> = {};
    if (path === "/verify") {
      for (const id of ids) outOfSyncByGuild[id] = changeCounts(emu, id).length;
    }
    const stats: HostStats = {
      totalRequests: emu.stats.totalRequests,
      requests: emu.stats.requests,
      writesByGuild,
      outOfSyncByGuild,
      noopWrites: emu.stats.noopRoleWrites().length,
      rateLimited: emu.stats.rateLimited,
      rateLimitedRoutes: emu.stats.rateLimitedRoutes,
    };
    return Response.json(stats);
  });
  const info: HostInfo = {
    admin: `http://127.0.0.1:${(admin.addr as Deno.NetAddr).port}`,
    discordBase: emu.discordBase,
    ethosBase: emu.ethosBase,
    token: emu.token,
    applicationId: emu.applicationId,
    guilds: ids.map((id) => {
      const g = emu.state.guild(id);
      return {
        id,
        roles: { ...g.ethosRoles! },
        changes: changeCounts(emu, id),
        totalMembers: g.members.size,
      };
    }),
  };
  console.log(JSON.stringify(info));
  closeOnSigterm(admin, emu);
  await new Promise(() => {});
}

/** One deployment's environment: the first guild from it, the others from their stored setups. */
function envFor(info: HostInfo, c: Case, o: GuildsOptions, publicKeyHex: string, kvPath: string) {
  const first = info.guilds[0];
  const limits = limitsFor(c);
  return {
    DISCORD_PUBLIC_KEY: publicKeyHex,
    DISCORD_APPLICATION_ID: info.applicationId,
    DISCORD_TOKEN: info.token,
    DISCORD_API_BASE: info.discordBase,
    DISCORD_GUILD_ID: first.id,
    ETHOS_API_BASE: info.ethosBase,
    VERIFIED_ROLE_ID: first.roles.verified,
    ETHOS_VERIFIED_PROFILE_ROLE_ID: first.roles.profile,
    ETHOS_ROLE_EXEMPLARY: first.roles.exemplary,
    ETHOS_ROLE_REPUTABLE: first.roles.reputable,
    ETHOS_ROLE_NEUTRAL: first.roles.neutral,
    ETHOS_ROLE_QUESTIONABLE: first.roles.questionable,
    ETHOS_ROLE_UNTRUSTED: first.roles.untrusted,
    SYNC_AUTH_TOKEN: TOKEN,
    SIGNING_SECRET: "bench-signing-secret-0123456789abcdef",
    SYNC_CHUNK_SIZE: String(c.members + 100),
    SYNC_MAX_CHUNK_MS: String(o.chunkMs || 3_600_000),
    SYNC_PATCH_LIMIT: `${limits.memberPatch.limit}/${limits.memberPatch.windowMs}ms`,
    SYNC_ROLE_LIMIT: `${limits.memberRole.limit}/${limits.memberRole.windowMs}ms`,
    SYNC_FRESH_MS: String(Math.max(50, Math.round(o.freshMs / c.scale))),
    DISCORD_GLOBAL_RATE_LIMIT: String(limits.global),
    SYNC_COMMANDS_ON_START: "false",
    KV_PATH: kvPath,
    LOG_LEVEL: "warn",
    ETHOS_CLIENT: "ethos-discord-bot-bench@0.1.0",
  };
}

/** A KV handle that retries SQLite's "database is locked" (several processes on one file). */
function retryingKv(kv: Deno.Kv, counter: { retries: number }): Deno.Kv {
  return interceptKv(kv, (name, run) => name === "list" ? run() : retry(run));
  // Listing fails while iterating, where no retry can reach; the writers are what lock.
  async function retry(run: () => unknown) {
    for (let i = 0;; i++) {
      try {
        return await run();
      } catch (err) {
        if (i >= 50 || !String(err).includes("database is locked")) throw err;
        counter.retries++;
        await new Promise((r) => setTimeout(r, Math.random() * 2));
      }
    }
  }
}

/** A worker process: one guild's chunks, one after the other, on the production composition. */
export async function guildsWorker(envFile: string, guild: string, isolatePerChunk: boolean) {
  const env = JSON.parse(await Deno.readTextFile(envFile)) as Record<string, string>;
  const config = parseConfig(env);
  const raw = await Deno.openKv(config.kvPath);
  const counter = { retries: 0 };
  const kv = retryingKv(raw, counter);
  const log = createLogger({ level: "warn" });
  const rest: Record<string, number> = {};
  const start = async () => {
    const bot = await composeBot({ config, kv, log, flushIntervalMs: 0 });
    const handle = createHandler(bot.app);
    const call = operatorCall(handle, TOKEN);
    const close = async () => {
      await bot.drain("chunk over", 10_000);
      const budget = bot.deps.rest.stats().globalBudget ?? {};
      for (const [k, v] of Object.entries(budget)) {
        if (typeof v === "number") {
          rest[k] = k === "maxRttMs" ? Math.max(rest[k] ?? 0, v) : (rest[k] ?? 0) + v;
        }
      }
    };
    return { call, close };
  };
  let bot = await start();
  // Ready; the coordinator starts every guild at once.
  console.log("ready");
  const stdin = Deno.stdin.readable.getReader();
  await stdin.read();
  const startedAt = Date.now();
  let status!: JobProgress;
  for (let chunk = 0;; chunk++) {
    if (chunk > 0 && isolatePerChunk) {
      await bot.close();
      bot = await start();
    }
    const r = await bot.call(
      "POST",
      "/trigger-sync?wait=true",
      chunk ? { guildId: guild } : { guildId: guild, startIndex: 0 },
    );
    if (!r.started) throw new Error(`not started: ${JSON.stringify(r)}`);
    status = await bot.call("GET", `/sync-status?guild=${guild}`);
    if (status.state !== "waiting") break;
  }
  const finishedAt = Date.now();
  await bot.close();
  raw.close();
  const result: WorkerResult = {
    guildId: guild,
    state: status.state,
    chunks: status.chunk,
    startedAt,
    finishedAt,
    rest,
    kvRetries: counter.retries,
  };
  console.log(JSON.stringify(result));
}

async function firstLine(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child exited before a line; got ${JSON.stringify(buf)}`);
    buf += value;
  }
  const [line, ...rest] = buf.split("\n");
  return { line, rest: rest.join("\n"), reader };
}

export interface GuildsResult {
  case: string;
  guilds: number;
  members: number;
  scale: number;
  needMembers: number;
  neededWrites: number;
  slowestAloneMs: number;
  allCallsMs: number;
  boundMs: number;
  elapsedMs: number;
  ratio: number;
  writes: number;
  discordCalls: number;
  rateLimited: { user: number; global: number; shared: number };
  globalClaims: number;
  globalSlotsDropped: number;
  /** The slowest claim round trip any worker saw (ms). */
  maxClaimRttMs: number;
  kvLockRetries: number;
  everyGuildCompleted: boolean;
  inSyncAfter: boolean;
  chunks: number;
}

/** Runs one many-guilds case: host, setups, workers, figures. */
export async function runGuildsCase(
  c: Case,
  o: GuildsOptions,
  isolatePerChunk: boolean,
): Promise<GuildsResult> {
  const self = new URL("./sync_bench.ts", import.meta.url).pathname;
  const hostChild = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      self,
      `--guilds-host=${c.kind}:${c.members}:${c.scale}:${o.guilds}`,
      `--seed=${o.seed}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const hostOut = await firstLine(hostChild.stdout);
  const info = JSON.parse(hostOut.line) as HostInfo;
  const stats = async (path: string): Promise<HostStats> =>
    await (await fetch(info.admin + path)).json();

  const dir = await Deno.makeTempDir({ prefix: "sync-guilds-" });
  const kvPath = `${dir}/kv.sqlite`;
  const keys = await signingKeys();
  const env = envFor(info, c, o, keys.publicKeyHex, kvPath);
  const envFile = `${dir}/env.json`;
  await Deno.writeTextFile(envFile, JSON.stringify(env));
  // The other guilds are set up from Discord: their own roles in KV, nothing in the environment.
  {
    const kv = await Deno.openKv(kvPath);
    for (const g of info.guilds.slice(1)) {
      await mapEmulatedGuild({ kv, clock: systemClock }, g.id, g.roles);
    }
    kv.close();
  }

  const workers = info.guilds.map((g) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        self,
        `--guilds-worker=${g.id}`,
        `--env-file-json=${envFile}`,
        ...(isolatePerChunk ? ["--isolate-per-chunk"] : []),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    return { g, child };
  });
  const ready = await Promise.all(workers.map(async (w) => {
    const first = await firstLine(w.child.stdout);
    if (first.line !== "ready") throw new Error(`worker ${w.g.id}: ${first.line}`);
    return first;
  }));
  await stats("/reset");
  const t0 = Date.now();
  const go = new TextEncoder().encode("go\n");
  for (const w of workers) {
    const writer = w.child.stdin.getWriter();
    await writer.write(go);
    await writer.close();
  }
  const progress = setInterval(async () => {
    const s = await stats("/stats");
    const done = Object.values(s.writesByGuild).reduce((a, b) => a + b, 0);
    console.log(`  ${done} writes · ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  }, 15_000);
  const results: WorkerResult[] = await Promise.all(workers.map(async (w, i) => {
    let buf = ready[i].rest;
    for (;;) {
      const { value, done } = await ready[i].reader.read();
      if (value) buf += value;
      if (done) break;
    }
    const status = await w.child.status;
    const line = buf.trim().split("\n").pop() ?? "";
    if (!status.success) throw new Error(`worker ${w.g.id} exited ${status.code}: ${line}`);
    return JSON.parse(line) as WorkerResult;
  }));
  clearInterval(progress);
  if (Deno.env.get("BENCH_DEBUG")) { for (const r of results) console.log(JSON.stringify(r)); }
  const elapsedMs = Math.max(...results.map((r) => r.finishedAt)) - t0;
  const hs = await stats("/verify");
  hostChild.kill("SIGTERM");
  await hostOut.reader.cancel().catch(() => {});
  await hostChild.status;
  await Deno.remove(dir, { recursive: true });

  const limits = limitsFor(c);
  const spec = specFor(c);
  const bounds = info.guilds.map((g) => syncLowerBound(g.changes, g.totalMembers, spec, 4));
  const slowestAloneMs = Math.max(...bounds.map((b) => b.ms));
  const allCalls = bounds.reduce((a, b) => a + b.patchCalls + b.roleCalls + b.listCalls + 4, 0);
  const allCallsMs = windowedMs(allCalls, limits.global, 1000);
  const boundMs = Math.max(slowestAloneMs, allCallsMs);
  const writes = Object.values(hs.writesByGuild).reduce((a, b) => a + b, 0);
  return {
    case: `${c.kind}-${o.guilds}x${c.members}@${c.scale}x`,
    guilds: o.guilds,
    members: info.guilds.reduce((a, g) => a + g.totalMembers, 0),
    scale: c.scale,
    needMembers: info.guilds.reduce((a, g) => a + g.changes.length, 0),
    neededWrites: bounds.reduce((a, b) => a + b.patchCalls + b.roleCalls, 0),
    slowestAloneMs,
    allCallsMs,
    boundMs,
    elapsedMs,
    ratio: Math.round((elapsedMs / Math.max(1, boundMs)) * 1000) / 1000,
    writes,
    discordCalls: hs.totalRequests,
    rateLimited: hs.rateLimited,
    globalClaims: results.reduce((a, r) => a + (r.rest.claims ?? 0), 0),
    globalSlotsDropped: results.reduce((a, r) => a + (r.rest.dropped ?? 0), 0),
    maxClaimRttMs: Math.max(0, ...results.map((r) => r.rest.maxRttMs ?? 0)),
    kvLockRetries: results.reduce((a, r) => a + r.kvRetries, 0),
    everyGuildCompleted: results.every((r) => r.state === "completed"),
    inSyncAfter: Object.values(hs.outOfSyncByGuild).every((n) => n === 0) && hs.noopWrites === 0,
    chunks: results.reduce((a, r) => a + r.chunks, 0),
  };
}

export function printGuildsResult(r: GuildsResult): void {
  console.log(
    [
      `  elapsed ${(r.elapsedMs / 1000).toFixed(1)} s vs bound ${
        (r.boundMs / 1000).toFixed(1)
      } s ` +
      `(slowest guild alone ${(r.slowestAloneMs / 1000).toFixed(1)} s, every guild's calls at ` +
      `the global limit ${(r.allCallsMs / 1000).toFixed(1)} s): ratio ${r.ratio} (target <= 1.15)`,
      `  ${r.guilds} guilds, ${r.members} members, out of sync ${r.needMembers}; every guild ` +
      `completed: ${r.everyGuildCompleted}; every member right after: ${r.inSyncAfter}; chunks ${r.chunks}`,
      `  writes ${r.writes} vs needed ${r.neededWrites} (target equal); Discord calls ${r.discordCalls}`,
      `  429s ${JSON.stringify(r.rateLimited)} (target: 0 global)`,
      `  shared global budget: ${r.globalClaims} claims (slowest ${r.maxClaimRttMs} ms), ` +
      `${r.globalSlotsDropped} slots dropped unsent; ` +
      `SQLite lock retries in the rig ${r.kvLockRetries}`,
    ].join("\n"),
  );
}
