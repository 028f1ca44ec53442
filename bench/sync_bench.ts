/**
 * Role sync benchmark on the Discord + Ethos emulator: a full sync of a seeded guild, driven
 * through POST /trigger-sync like an operator would, with the bot built in-process (real
 * RestClient over HTTP, real KV in memory). For each case it prints the elapsed time next to the
 * rate-limit-bound minimum measured for the same guild, Discord calls and writes next to what a
 * perfect run needs, 429s, Ethos calls, KV operations per member and peak memory, then one JSON
 * line with every figure.
 *
 * Cases (the seed leaves about a third of the members out of sync, like a first sync):
 *   a   every bucket and the global limit at 50/s (global-bound: one call per member)
 *   b   Discord-like per-guild buckets: member PATCH 10/10 s, role PUT/DELETE 10/10 s,
 *       list 10/10 s, get member 5/1 s, global 50/s (bucket-bound: both write buckets busy)
 *   t   tight write buckets: member PATCH and role PUT/DELETE 5 per 1 s (Discord's 10 per 10 s
 *       in short windows, where a late request most easily lands in the next window), list
 *       10/10 s, get member 5/1 s, global 50/s: a check that no 429 happens, run it on a busy
 *       machine too
 *
 * Time scaling: a scale of S makes every window S times shorter (every rate S times higher), so
 * hours of Discord-like pacing fit in minutes; the minimum is computed at the same scale, so the
 * elapsed/minimum ratio is what it would be unscaled (the REST client's fixed 25 ms reset margin
 * weighs S times more, so scaled ratios are if anything pessimistic).
 *
 *   deno run -A bench/sync_bench.ts          # default: a-10k@1x, b-10k@50x, a-100k@5x, b-100k@100x (~10 min)
 *   deno run -A bench/sync_bench.ts --full   # adds a-100k@1x (~13 min) and b-100k@10x (~35 min)
 *   deno run -A bench/sync_bench.ts --case=a:10000:1 --case=b:100000:10
 *   deno run -A bench/sync_bench.ts --case=a:10000:1 --fresh-ms=12500   # SYNC_FRESH_MS (unscaled)
 *   deno run -A bench/sync_bench.ts --case=t:400:1 --case=t:400:1        # 429 check, twice
 *   deno run -A bench/sync_bench.ts --case=t:400:1 --stall-ms=400        # the bot stalls now and then
 *
 * Chunks: `--chunk-ms=N` time-boxes chunks (SYNC_MAX_CHUNK_MS, not scaled; default one chunk for
 * the whole guild); the bench then triggers chunk after chunk until the run completes. With
 * `--isolate-per-chunk` each chunk runs on a new bot (new REST client and app over the same KV),
 * as when Deploy starts the next chunk on a new isolate. `--learn-limits` leaves SYNC_PATCH_LIMIT
 * and SYNC_ROLE_LIMIT at their defaults (10 per 10 s) instead of the emulator's limits, so the
 * bot plans with what it learned from Discord's headers: writes should still equal the minimum.
 *
 *   deno run -A bench/sync_bench.ts --case=a:1500:1 --chunk-ms=4000 --isolate-per-chunk --learn-limits
 * Kept in one file past 400 lines: the rig (emulator, seeding, the in-process bot, the report) is one program.
 */
import { startEmulator } from "../tests/emulator/server.ts";
import { signingKeys } from "../tests/_harness.ts";
import { parseConfig } from "../lib/config.ts";
import { systemClock } from "../lib/clock.ts";
import { createLogger } from "../lib/log/log.ts";
import { RestClient } from "../lib/discord/rest.ts";
import { createApp } from "../lib/app.ts";
import type { AppDeps } from "../lib/deps.ts";
import { createHandler } from "../routes/mod.ts";
import { syncLowerBound } from "../lib/sync/scheduler.ts";
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
import {
  guildsHost,
  type GuildsResult,
  guildsWorker,
  printGuildsResult,
  runGuildsCase,
} from "./sync_guilds.ts";

const GUILD = "200000000000000001";
const TOKEN = "bench-token-0123456789abcdef";

const args = Deno.args;
/** SYNC_FRESH_MS before scaling: `--fresh-ms=N` shows the list calls a longer window saves. */
const FRESH_MS = Number(args.find((a) => a.startsWith("--fresh-ms="))?.slice(11) ?? 5000);
const cases: Case[] = args.filter((a) => a.startsWith("--case=")).map((a) => {
  const [kind, members, scale] = a.slice(7).split(":");
  return { kind: kind as Case["kind"], members: Number(members), scale: Number(scale ?? 1) };
});
/** SYNC_MAX_CHUNK_MS; 0: one chunk for the whole guild. */
const CHUNK_MS = Number(args.find((a) => a.startsWith("--chunk-ms="))?.slice(11) ?? 0);
const ISOLATE_PER_CHUNK = args.includes("--isolate-per-chunk");
/** Leave SYNC_PATCH_LIMIT / SYNC_ROLE_LIMIT at their defaults: the bot learns the real ones. */
const LEARN_LIMITS = args.includes("--learn-limits");
/** Blocks the bot's event loop for up to N ms every 50-550 ms (a busy machine, a stalled isolate). */
const STALL_MS = Number(args.find((a) => a.startsWith("--stall-ms="))?.slice(11) ?? 0);
if (cases.length === 0) {
  cases.push(
    { kind: "a", members: 10_000, scale: 1 },
    { kind: "b", members: 10_000, scale: 50 },
    { kind: "a", members: 100_000, scale: 5 },
    { kind: "b", members: 100_000, scale: 100 },
  );
  if (args.includes("--full")) {
    cases.push({ kind: "a", members: 100_000, scale: 1 }, {
      kind: "b",
      members: 100_000,
      scale: 10,
    });
  }
}
const SEED = Number(args.find((a) => a.startsWith("--seed="))?.slice(7) ?? 7);

/** Counts every KV operation the bot makes. */
function countingKv(kv: Deno.Kv) {
  const counts: Record<string, number> = {};
  const wrapped = interceptKv(kv, (name, run) => {
    counts[name] = (counts[name] ?? 0) + 1;
    return run();
  });
  return { kv: wrapped, counts };
}

interface Result {
  case: string;
  members: number;
  scale: number;
  needMembers: number;
  neededWrites: number;
  boundMs: number;
  elapsedMs: number;
  ratio: number;
  writes: number;
  patches: number;
  roleCalls: number;
  listCalls: number;
  neededListCalls: number;
  rereads: number;
  otherReads: number;
  discordCalls: number;
  rateLimited: { user: number; global: number; shared: number };
  rateLimitedRoutes: Record<string, number>;
  ethosCalls: Record<string, number>;
  kvOpsPerMember: number;
  /** KV operations of the sync itself (checkpoints, lease, score cache), per member. */
  syncKvOpsPerMember: number;
  kvOps: Record<string, number>;
  restSharedKvOps: number;
  peakRssMb: number;
  peakHeapMb: number;
  inSyncAfter: boolean;
  chunks: number;
  maxPatchReadAgeMs: number | null;
}

interface HostInfo {
  url: string;
  admin: string;
  discordBase: string;
  ethosBase: string;
  token: string;
  applicationId: string;
  roles: Record<string, string>;
  changes: number[];
  totalMembers: number;
}

interface HostStats {
  requests: Record<string, number>;
  totalRequests: number;
  writes: number;
  noopWrites: number;
  rateLimited: { user: number; global: number; shared: number };
  rateLimitedRoutes: Record<string, number>;
  ethosCalls: Record<string, number>;
  outOfSync: number;
  rssMb: number;
}

/**
 * The emulator runs in its own process (`--host`), so the bot's event loop and the emulator's
 * do not share one core: at 500 requests a second a shared loop makes the timers late enough to
 * lose global-limit slots, which would measure the test rig rather than the bot.
 */
async function host(c: Case): Promise<void> {
  const limits = limitsFor(c);
  const emu = await startEmulator({ guilds: [{ members: c.members }], seed: SEED, limits });
  const changes = changeCounts(emu, GUILD);
  const admin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/reset") emu.stats.reset();
    const stats: HostStats = {
      requests: emu.stats.requests,
      totalRequests: emu.stats.totalRequests,
      writes: emu.stats.writes.length,
      noopWrites: emu.stats.noopRoleWrites().length,
      rateLimited: emu.stats.rateLimited,
      rateLimitedRoutes: emu.stats.rateLimitedRoutes,
      ethosCalls: emu.stats.ethosCalls,
      outOfSync: path === "/verify" ? changeCounts(emu, GUILD).length : -1,
      rssMb: Math.round(Deno.memoryUsage().rss / 1e6),
    };
    return Response.json(stats);
  });
  const g = emu.state.guild(GUILD);
  const info: HostInfo = {
    url: emu.url,
    admin: `http://127.0.0.1:${(admin.addr as Deno.NetAddr).port}`,
    discordBase: emu.discordBase,
    ethosBase: emu.ethosBase,
    token: emu.token,
    applicationId: emu.applicationId,
    roles: { ...g.ethosRoles! },
    changes,
    totalMembers: g.members.size,
  };
  console.log(JSON.stringify(info));
  closeOnSigterm(admin, emu);
}

async function spawnHost(c: Case) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      `--host=${c.kind}:${c.members}:${c.scale}`,
      `--seed=${SEED}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!buf.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("emulator host exited");
    buf += value;
  }
  const info = JSON.parse(buf.split("\n")[0]) as HostInfo;
  return {
    info,
    stats: async (path = "/stats"): Promise<HostStats> =>
      await (await fetch(info.admin + path)).json(),
    async close() {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}

async function runCase(c: Case): Promise<Result> {
  const limits = limitsFor(c);
  const emuHost = await spawnHost(c);
  const { info } = emuHost;
  const changes = info.changes;
  const totalMembers = info.totalMembers;
  const spec = specFor(c);
  const bound = syncLowerBound(changes, totalMembers, spec, 4);
  const keys = await signingKeys();
  const raw = await Deno.openKv(":memory:");
  const { kv, counts } = countingKv(raw);
  const config = parseConfig({
    DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    DISCORD_APPLICATION_ID: info.applicationId,
    DISCORD_TOKEN: info.token,
    DISCORD_API_BASE: info.discordBase,
    DISCORD_GUILD_ID: GUILD,
    ETHOS_API_BASE: info.ethosBase,
    VERIFIED_ROLE_ID: info.roles.verified,
    ETHOS_VERIFIED_PROFILE_ROLE_ID: info.roles.profile,
    ETHOS_ROLE_EXEMPLARY: info.roles.exemplary,
    ETHOS_ROLE_REPUTABLE: info.roles.reputable,
    ETHOS_ROLE_NEUTRAL: info.roles.neutral,
    ETHOS_ROLE_QUESTIONABLE: info.roles.questionable,
    ETHOS_ROLE_UNTRUSTED: info.roles.untrusted,
    SYNC_AUTH_TOKEN: TOKEN,
    SYNC_CHUNK_SIZE: String(c.members + 100),
    SYNC_MAX_CHUNK_MS: String(CHUNK_MS || 3_600_000),
    ...(LEARN_LIMITS ? {} : {
      SYNC_PATCH_LIMIT: `${limits.memberPatch.limit}/${limits.memberPatch.windowMs}ms`,
      SYNC_ROLE_LIMIT: `${limits.memberRole.limit}/${limits.memberRole.windowMs}ms`,
    }),
    // The freshness window (default 5 s), scaled like every other duration.
    SYNC_FRESH_MS: String(Math.max(50, Math.round(FRESH_MS / c.scale))),
    DISCORD_GLOBAL_RATE_LIMIT: String(limits.global),
    ETHOS_CLIENT: "ethos-discord-bot-bench@0.1.0",
  });
  const log = createLogger({ level: "warn" });
  const background: Promise<unknown>[] = [];
  let restSharedKvOps = 0;
  /** The bot: a REST client and an app over the shared KV (a new one is a new isolate). */
  const startBot = async () => {
    const rest = new RestClient({
      token: config.discord.token,
      apiBase: config.discord.apiBase,
      kv,
      clock: systemClock,
      log,
      globalLimit: config.discord.globalRateLimit,
      // Part of the time model: the client's safety margin after each bucket reset (25 ms against
      // real windows) shrinks with the windows.
      bucketMarginMs: Math.max(1, Math.round(25 / c.scale)),
    });
    const deps: AppDeps = {
      config,
      kv,
      rest,
      clock: systemClock,
      log,
      fetch: globalThis.fetch.bind(globalThis),
      waitUntil: (p) => void background.push(p.catch((e) => console.error(e))),
      startedAt: Date.now(),
    };
    const app = await createApp(deps);
    const handle = createHandler(app);
    return {
      call: operatorCall(handle, TOKEN),
      async close() {
        app.shutdown.abort();
        await Promise.allSettled(background);
        await rest.close();
        const s = rest.stats();
        restSharedKvOps += (s.shared?.ops ?? 0) + (s.globalBudget?.ops ?? 0);
      },
    };
  };
  let bot = await startBot();
  let stallTimer: ReturnType<typeof setTimeout> | undefined;
  if (STALL_MS > 0) {
    const stall = () => {
      const end = performance.now() + Math.random() * STALL_MS;
      while (performance.now() < end) {
        // The isolate is busy: timers and answers wait.
      }
      stallTimer = setTimeout(stall, 50 + Math.random() * 500);
    };
    stallTimer = setTimeout(stall, 100);
  }

  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = Deno.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 100);
  await emuHost.stats("/reset");
  const t0 = performance.now();
  let status!: JobProgress;
  let maxPatchReadAgeMs: number | null = null;
  let lastPrint = 0;
  for (let chunkNo = 0;; chunkNo++) {
    if (chunkNo > 0 && ISOLATE_PER_CHUNK) {
      await bot.close();
      bot = await startBot();
    }
    // ?wait=true holds the request until the chunk ends and returns its figures.
    const finished = bot.call("POST", "/trigger-sync?wait=true", chunkNo ? {} : { startIndex: 0 });
    let chunkOver = false;
    finished.finally(() => (chunkOver = true));
    while (!chunkOver) {
      await new Promise((r) => setTimeout(r, 200));
      const now = performance.now();
      if (now - lastPrint > 15_000) {
        lastPrint = now;
        const s: JobProgress = await bot.call("GET", "/sync-status");
        console.log(
          `  ${c.kind}-${c.members}@${c.scale}x: ${s.processed}/${s.total ?? "?"} ` +
            `changed ${s.counters["changed"] ?? 0} · ${((now - t0) / 1000).toFixed(0)}s`,
        );
      }
    }
    const chunk = await finished;
    if (!chunk.started) throw new Error(`not started: ${JSON.stringify(chunk)}`);
    const age = chunk.stats?.maxPatchReadAgeMs;
    if (typeof age === "number") maxPatchReadAgeMs = Math.max(maxPatchReadAgeMs ?? 0, age);
    status = await bot.call("GET", "/sync-status");
    if (status.state !== "waiting") break;
  }
  const elapsedMs = performance.now() - t0;
  clearInterval(sampler);
  clearTimeout(stallTimer);
  await bot.close();

  const hs = await emuHost.stats("/verify");
  const req = hs.requests;
  const patches = req["PATCH /guilds/:guild/members/:user"] ?? 0;
  const roleCalls = (req["PUT /guilds/:guild/members/:user/roles/:role"] ?? 0) +
    (req["DELETE /guilds/:guild/members/:user/roles/:role"] ?? 0);
  const listCalls = req["GET /guilds/:guild/members"] ?? 0;
  const memberGets = req["GET /guilds/:guild/members/:user"] ?? 0;
  const rereads = status.counters["calls.reread"] ?? 0;
  const discordCalls = hs.totalRequests;
  const kvTotal = Object.values(counts).reduce((a, b) => a + b, 0);
  const outOfSync = hs.outOfSync;
  const r: Result = {
    case: `${c.kind}-${c.members}@${c.scale}x`,
    members: totalMembers,
    scale: c.scale,
    needMembers: changes.length,
    neededWrites: bound.patchCalls + bound.roleCalls,
    boundMs: bound.ms,
    elapsedMs: Math.round(elapsedMs),
    ratio: Math.round((elapsedMs / Math.max(1, bound.ms)) * 1000) / 1000,
    writes: hs.writes,
    patches,
    roleCalls,
    listCalls,
    neededListCalls: bound.listCalls,
    rereads,
    otherReads: discordCalls - patches - roleCalls - listCalls - rereads,
    discordCalls,
    rateLimited: hs.rateLimited,
    rateLimitedRoutes: hs.rateLimitedRoutes,
    ethosCalls: hs.ethosCalls,
    kvOpsPerMember: Math.round((kvTotal / totalMembers) * 1000) / 1000,
    syncKvOpsPerMember: Math.round(
      ((kvTotal - restSharedKvOps) / totalMembers) * 1000,
    ) / 1000,
    kvOps: counts,
    restSharedKvOps,
    peakRssMb: Math.round(peakRss / 1e6),
    peakHeapMb: Math.round(peakHeap / 1e6),
    inSyncAfter: outOfSync === 0 && hs.noopWrites === 0 && status.state === "completed",
    chunks: status.chunk,
    maxPatchReadAgeMs,
  };
  void memberGets;
  raw.close();
  await emuHost.close();
  return r;
}

const guildsHostArg = args.find((a) => a.startsWith("--guilds-host="));
if (guildsHostArg) {
  const [kind, members, scale, n] = guildsHostArg.slice(14).split(":");
  const c = { kind: kind as Case["kind"], members: Number(members), scale: Number(scale) };
  await guildsHost(c, Number(n), SEED);
}
const workerArg = args.find((a) => a.startsWith("--guilds-worker="));
if (workerArg) {
  const envFile = args.find((a) => a.startsWith("--env-file-json="))!.slice(16);
  await guildsWorker(envFile, workerArg.slice(16), ISOLATE_PER_CHUNK);
  Deno.exit(0);
}
/** Guilds in the many-guilds cases (ga, gb). */
const GUILDS = Number(args.find((a) => a.startsWith("--guilds="))?.slice(9) ?? 10);

const hostArg = args.find((a) => a.startsWith("--host="));
if (hostArg) {
  const [kind, members, scale] = hostArg.slice(7).split(":");
  await host({ kind: kind as Case["kind"], members: Number(members), scale: Number(scale) });
  await new Promise(() => {});
}

console.log("Role sync benchmark (emulator in its own process; bot over HTTP; seed " + SEED + ")");
console.log("old approach (fixed delays, 4 calls/member): about 1,200 members an hour\n");
const results: (Result | GuildsResult)[] = [];
for (const c of cases) {
  if (c.kind === "ga" || c.kind === "gb") {
    console.log(
      `--- ${c.kind}-${GUILDS}x${c.members}@${c.scale}x: ${GUILDS} guilds at once, each guild's ` +
        `chunks in its own process, ${
          c.kind === "ga"
            ? "all limits 50/s (the global limit binds)"
            : "Discord-like buckets per guild"
        }, one global limit of 50/s` +
        (c.scale !== 1 ? `, windows ${c.scale}x shorter (rates ${c.scale}x higher)` : ""),
    );
    const r = await runGuildsCase(
      c,
      { guilds: GUILDS, seed: SEED, chunkMs: CHUNK_MS, freshMs: FRESH_MS },
      ISOLATE_PER_CHUNK,
    );
    results.push(r);
    printGuildsResult(r);
    continue;
  }
  const label = `${c.kind}-${c.members}@${c.scale}x`;
  console.log(
    `--- ${label}: ${
      c.kind === "a"
        ? "all limits 50/s"
        : c.kind === "b"
        ? "Discord-like buckets"
        : "write buckets 5/1 s"
    }` +
      (c.scale !== 1 ? `, windows ${c.scale}x shorter (rates ${c.scale}x higher)` : ""),
  );
  const r = await runCase(c);
  results.push(r);
  const mph = Math.round(r.members / (r.elapsedMs / 3_600_000) / c.scale);
  console.log(
    [
      `  elapsed ${(r.elapsedMs / 1000).toFixed(1)} s vs minimum ${
        (r.boundMs / 1000).toFixed(1)
      } s: ratio ${r.ratio} (target <= 1.1)`,
      `  members ${r.members}, out of sync ${r.needMembers}; in sync after: ${r.inSyncAfter}; chunks ${r.chunks}`,
      `  writes ${r.writes} vs needed ${r.neededWrites} (PATCH ${r.patches}, role ${r.roleCalls}; target equal)`,
      `  Discord calls ${r.discordCalls}: writes ${r.writes} + list ${r.listCalls} (min ${r.neededListCalls}) + re-reads ${r.rereads} + other ${r.otherReads}`,
      `  oldest role read behind a PATCH: ${
        r.maxPatchReadAgeMs ?? "-"
      } ms (SYNC_FRESH_MS scaled with the windows)`,
      `  429s ${JSON.stringify(r.rateLimited)} (target 0)${
        Object.keys(r.rateLimitedRoutes).length ? ` ${JSON.stringify(r.rateLimitedRoutes)}` : ""
      }`,
      `  Ethos calls ${JSON.stringify(r.ethosCalls)}`,
      `  Ethos calls per 1,000 members: ${ethosPerThousand(r)} (target <= 4 bulk + confirmations)`,
      `  KV ops per member ${r.kvOpsPerMember}: the sync's own ${r.syncKvOpsPerMember}, the REST ` +
      `client's shared state (buckets, global timeline) ${
        Math.round((r.restSharedKvOps / r.members) * 1000) / 1000
      } ` +
      JSON.stringify(r.kvOps),
      `  peak memory of the bot: rss ${r.peakRssMb} MB, heap ${r.peakHeapMb} MB (the emulator runs in its own process)`,
      `  unscaled throughput ~${mph.toLocaleString("en-US")} members/hour`,
    ].join("\n"),
  );
}
console.log(JSON.stringify({ bench: "sync", results }));

/** Bulk calls (scores, profile flags) and single confirmations per 1,000 members. */
function ethosPerThousand(r: { ethosCalls: Record<string, number>; members: number }): string {
  const per = (n: number) => Math.round((n / r.members) * 1000 * 10) / 10;
  const bulk = (r.ethosCalls["POST /score/userkeys"] ?? 0) +
    (r.ethosCalls["POST /users/by/discord"] ?? 0);
  const single = r.ethosCalls["GET /score/userkey"] ?? 0;
  return `${per(bulk)} bulk + ${per(single)} single`;
}
