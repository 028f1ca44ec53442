/**
 * Freshness: how long an Ethos score change takes to reach Discord roles.
 *
 * `deno run -A bench/freshness_bench.ts [--changes=500] [--minutes=10] [--members=20000]
 *   [--guilds=3] [--shared=4000] [--interval-s=60] [--seed=7]`
 *
 * - The emulator holds N guilds of `members` with Discord-like buckets (member writes 10 per
 *   10 s per guild, list 10 per 10 s, reads 5 per s, global 50/s); `shared` members of the first
 *   guild are also in each other guild. Every member starts with the right roles.
 * - The bot is built like mod.ts (`composeBot`); one full sync per guild builds the member index
 *   (not measured). Then `changes` score changes, each a distinct user crossing a tier, spread
 *   at random over `minutes`; a tenth are users in no guild. The freshness pass runs every
 *   `interval-s`, on a timer like the cron's (a pass still running when the next is due overlaps
 *   it, as on Deploy), calling the same `freshnessPass` the cron calls.
 * - Lag of a change: from its `lastUpdatedAt` to the last role write it needed in any guild
 *   (the emulator's record). Printed: p50, p95, max against the targets (p95 <= 120 s, max <=
 *   180 s), changes missed (any member of any guild not right at the end), Discord calls by route
 *   next to the writes needed, and Ethos calls.
 */
import { startEmulator } from "../tests/emulator/server.ts";
import { signingKeys } from "../tests/_harness.ts";
import { parseConfig } from "../lib/config.ts";
import { systemClock } from "../lib/clock.ts";
import { createLogger } from "../lib/log/log.ts";
import { composeBot } from "../lib/bot.ts";
import { createHandler } from "../routes/mod.ts";
import { mapEmulatedGuild } from "../tests/emulator/bot_env.ts";
import { freshnessPass } from "../lib/sync/fresh_pass.ts";
import { percentile } from "../lib/sync/fresh_lag.ts";
import { limitsFor, operatorCall, prng } from "./_sync_common.ts";

const TOKEN = "bench-token-0123456789abcdef";
const FIRST_GUILD = 200000000000000001n;
const TIERS = [
  ["exemplary", 2000, 2800],
  ["reputable", 1800, 1999],
  ["neutral", 1200, 1799],
  ["questionable", 800, 1199],
  ["untrusted", 0, 799],
] as const;

const arg = (name: string, fallback: number) => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const o = {
  changes: arg("changes", 500),
  minutes: arg("minutes", 10),
  members: arg("members", 20_000),
  guilds: arg("guilds", 3),
  shared: arg("shared", 4_000),
  intervalS: arg("interval-s", 60),
  seed: arg("seed", 7),
};

const rand = prng(o.seed);
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
const tierOf = (score: number) => TIERS.find((t) => score >= t[1])!;

const guildIds = Array.from({ length: o.guilds }, (_, i) => String(FIRST_GUILD + BigInt(i)));
const b = limitsFor({ kind: "b", members: o.members, scale: 1 });
const emu = await startEmulator({
  guilds: guildIds.map((id) => ({ id, members: o.members })),
  seed: o.seed,
  limits: b,
});
const st = emu.state;

/** What the bench's rule wants a member to hold of the guild's managed roles. */
function wanted(guildId: string, userId: string, roles: readonly string[]): string[] {
  const r = st.guild(guildId).ethosRoles!;
  if (!roles.includes(r.verified)) return [];
  const score = st.score(userId);
  if (score === undefined) return [];
  return [r[tierOf(score)[0]], r.profile];
}
function managedOf(guildId: string): Set<string> {
  const r = st.guild(guildId).ethosRoles!;
  return new Set([...TIERS.map((t) => r[t[0]]), r.profile]);
}
/** Sets every member's managed roles to what the rule wants (a guild already in sync). */
function settle(guildId: string): void {
  const managed = managedOf(guildId);
  for (const m of st.guild(guildId).members.values()) {
    if (m.bot) continue;
    const keep = m.roles.filter((x) => !managed.has(x));
    m.roles = [...keep, ...wanted(guildId, m.id, m.roles)];
  }
}
function rightNow(guildId: string, userId: string): boolean {
  const m = st.guild(guildId).members.get(userId);
  if (!m) return true;
  const managed = managedOf(guildId);
  const has = m.roles.filter((x) => managed.has(x)).sort();
  const want = wanted(guildId, userId, m.roles).sort();
  return has.length === want.length && has.every((x, i) => x === want[i]);
}

// Shared members: the first guild's humans, also in every other guild (verified in 80%).
const firstHumans = [...st.guild(guildIds[0]).members.values()].filter((m) => !m.bot);
const shared = firstHumans.filter(() => rand() < o.shared / firstHumans.length);
for (const g of guildIds.slice(1)) {
  const r = st.guild(g).ethosRoles!;
  for (const m of shared) {
    st.addMember(g, { id: m.id, username: m.username, roles: rand() < 0.8 ? [r.verified] : [] });
  }
}
for (const g of guildIds) settle(g);

const keys = await signingKeys();
const first = st.guild(guildIds[0]).ethosRoles!;
const config = parseConfig({
  DISCORD_PUBLIC_KEY: keys.publicKeyHex,
  DISCORD_APPLICATION_ID: emu.applicationId,
  DISCORD_TOKEN: emu.token,
  DISCORD_API_BASE: emu.discordBase,
  DISCORD_GUILD_ID: guildIds[0],
  ETHOS_API_BASE: emu.ethosBase,
  VERIFIED_ROLE_ID: first.verified,
  ETHOS_VERIFIED_PROFILE_ROLE_ID: first.profile,
  ETHOS_ROLE_EXEMPLARY: first.exemplary,
  ETHOS_ROLE_REPUTABLE: first.reputable,
  ETHOS_ROLE_NEUTRAL: first.neutral,
  ETHOS_ROLE_QUESTIONABLE: first.questionable,
  ETHOS_ROLE_UNTRUSTED: first.untrusted,
  SYNC_AUTH_TOKEN: TOKEN,
  SIGNING_SECRET: "bench-signing-secret-0123456789abcdef",
  SYNC_CHUNK_SIZE: String(o.members + o.shared + 100),
  SYNC_MAX_CHUNK_MS: String(3_600_000),
  SYNC_PATCH_LIMIT: `${b.memberPatch.limit}/${b.memberPatch.windowMs}ms`,
  SYNC_ROLE_LIMIT: `${b.memberRole.limit}/${b.memberRole.windowMs}ms`,
  DISCORD_GLOBAL_RATE_LIMIT: String(b.global),
  SYNC_COMMANDS_ON_START: "false",
  LOG_LEVEL: "warn",
  ETHOS_CLIENT: "ethos-discord-bot-bench@0.1.0",
});
const kv = await Deno.openKv(":memory:");
for (const g of guildIds.slice(1)) {
  await mapEmulatedGuild({ kv, clock: systemClock }, g, st.guild(g).ethosRoles!);
}
const bot = await composeBot({
  config,
  kv,
  log: createLogger({ level: "warn" }),
  flushIntervalMs: 0,
});
const call = operatorCall(createHandler(bot.app), TOKEN);

// The daily full sync, once per guild: it finds every member right and builds the index.
const setupStart = Date.now();
await Promise.all(guildIds.map(async (g) => {
  for (let chunk = 0;; chunk++) {
    const r = await call(
      "POST",
      "/trigger-sync?wait=true",
      chunk ? { guildId: g } : {
        guildId: g,
        startIndex: 0,
      },
    );
    if (!r.started) throw new Error(`sync not started: ${JSON.stringify(r)}`);
    const s = await call("GET", `/sync-status?guild=${g}`);
    if (s.state === "completed") break;
    if (s.state !== "waiting") throw new Error(`sync ${s.state}: ${JSON.stringify(s)}`);
  }
}));
const setupWrites = emu.stats.writes.length;
console.log(
  `setup: ${o.guilds} guilds x ${o.members} members (+${shared.length} shared) synced in ${
    ((Date.now() - setupStart) / 1000).toFixed(1)
  } s, ${setupWrites} writes (0 expected: every member starts right)`,
);

// The changes: distinct users, each crossing a tier; a tenth in no guild.
interface Change {
  userId: string;
  at: number;
  score: number;
  guilds: string[];
  /** Writes the change needs, over its guilds. */
  writes: number;
}
const members = new Map<string, string[]>();
for (const g of guildIds) {
  for (const m of st.guild(g).members.values()) {
    if (!m.bot) members.set(m.id, [...(members.get(m.id) ?? []), g]);
  }
}
const candidates = [...members.keys()].filter((id) => st.score(id) !== undefined);
const chosen = new Set<string>();
let outsider = 900000000000000000n;
const plan: { userId: string; offsetMs: number }[] = [];
for (let i = 0; i < o.changes; i++) {
  let userId: string;
  if (i % 10 === 9) userId = String(outsider++);
  else {
    do userId = pick(candidates); while (chosen.has(userId));
  }
  chosen.add(userId);
  plan.push({ userId, offsetMs: rand() * o.minutes * 60_000 });
}
plan.sort((a, b) => a.offsetMs - b.offsetMs);
for (const p of plan) {
  if (!members.has(p.userId)) st.setScore(p.userId, 1000, Date.now() - 86_400_000);
}

// A first pass sets the feed cursor (a new deployment reads from now on).
await freshnessPass(bot.deps);
emu.stats.reset();
const start = Date.now();
const changes: Change[] = [];
const driver = (async () => {
  for (const p of plan) {
    const wait = start + p.offsetMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const old = st.score(p.userId) ?? 1000;
    const from = tierOf(old)[0];
    const to = pick(TIERS.filter((t) => t[0] !== from));
    const score = to[1] + Math.floor(rand() * (to[2] - to[1] + 1));
    const guilds = members.get(p.userId) ?? [];
    const at = Date.now();
    st.setScore(p.userId, score, at);
    let writes = 0;
    for (const g of guilds) {
      const r = st.guild(g).ethosRoles!;
      if (st.guild(g).members.get(p.userId)!.roles.includes(r.verified)) writes += 2;
    }
    changes.push({ userId: p.userId, at, score, guilds, writes });
  }
})();

// The cron: a pass every interval, on a timer (overlapping a pass that runs long).
const passes: Promise<unknown>[] = [];
let passCount = 0;
let passMs = 0;
const runPass = () => {
  const t = Date.now();
  passCount++;
  passes.push(freshnessPass(bot.deps).then(() => passMs = Math.max(passMs, Date.now() - t)));
};
const timer = setInterval(runPass, o.intervalS * 1000);
await driver;
// Until every change is applied (or 5 minutes past the last one).
const settledBy = Date.now() + 5 * 60_000;
while (Date.now() < settledBy) {
  await new Promise((r) => setTimeout(r, 1000));
  const pending = changes.some((c) => c.guilds.some((g) => !rightNow(g, c.userId)));
  if (!pending) break;
}
clearInterval(timer);
await Promise.allSettled(passes);

// Lags from the emulator's write record.
const lastWrite = new Map<string, number>();
for (const w of emu.stats.writes) {
  const m = /\/guilds\/(\d+)\/members\/(\d+)/.exec(w.path);
  if (m) lastWrite.set(m[2], Math.max(lastWrite.get(m[2]) ?? 0, w.at));
}
const lags: number[] = [];
let missed = 0;
for (const c of changes) {
  if (c.guilds.some((g) => !rightNow(g, c.userId))) missed++;
  if (c.writes === 0) continue;
  const at = lastWrite.get(c.userId);
  if (at === undefined || at < c.at) missed++;
  else lags.push((at - c.at) / 1000);
}
let outOfSync = 0;
for (const g of guildIds) {
  for (const m of st.guild(g).members.values()) if (!m.bot && !rightNow(g, m.id)) outOfSync++;
}
lags.sort((a, b) => a - b);
const needed = changes.reduce((n, c) => n + c.writes, 0);
const req = emu.stats.requests;
const byKind = (re: RegExp) =>
  Object.entries(req).filter(([k]) => re.test(k)).reduce((n, [, v]) => n + v, 0);
const writes = byKind(/^(PUT|DELETE|PATCH) \/guilds\/:guild\/members\//);
const reads = byKind(/^GET \/guilds\/:guild\/members\/:user$/);
const lists = byKind(/^GET \/guilds\/:guild\/members$/);
const other = emu.stats.totalRequests - writes - reads - lists;
const fmt = (x: number | null) => x === null ? "-" : x.toFixed(1);
const p95 = percentile(lags, 0.95);
const max = lags.at(-1) ?? null;
console.log(`
changes: ${changes.length} over ${o.minutes} min (${
  changes.filter((c) => c.guilds.length === 0).length
} users in no guild, ${
  changes.filter((c) => c.guilds.length > 1).length
} in several); passes: ${passCount} every ${o.intervalS} s, longest ${(passMs / 1000).toFixed(1)} s
lag (s), ${lags.length} changes needing writes: p50 ${fmt(percentile(lags, 0.5))}  p95 ${
  fmt(p95)
} (target <= 120)  max ${fmt(max)} (target <= 180)
missed changes: ${missed}; members out of sync at the end: ${outOfSync}
Discord calls: ${emu.stats.totalRequests} = writes ${writes} (needed ${needed}) + member reads ${reads} + list ${lists} + other ${other}; 429s: ${
  JSON.stringify(emu.stats.rateLimited)
}
Ethos calls: ${JSON.stringify(emu.stats.ethosCalls)}
result: ${
  (p95 ?? 0) <= 120 && (max ?? 0) <= 180 && missed === 0 && outOfSync === 0 ? "PASS" : "FAIL"
}`);
await bot.drain("bench over", 5_000);
await emu.close();
kv.close();
