/**
 * Linked roles against role sync for the same score changes.
 *
 * `deno run -A bench/linked_roles_bench.ts [--users=100000] [--changed=0.3] [--latency-ms=100]
 *   [--seed=7]`
 *
 * - The emulator (in this process) holds `users` Discord users, each linked: a token pair issued
 *   by its OAuth store, the record sealed in the bot's KV exactly as the connect flow stores it,
 *   and the metadata Discord holds equal to their Ethos score. Bearer limits are Discord-like:
 *   per user (role-connection PUT 5 per 5 s).
 * - `changed` of them get a new Ethos score. The freshness pass (`freshnessPass`, the cron's code,
 *   with the bot built by `composeBot` like mod.ts) runs back to back until every change is
 *   pushed: printed are the elapsed time, the role-connection PUTs (target: one per changed user,
 *   none for the others), other Discord calls and Ethos calls.
 * - Beside it, what role sync needs for the same changes in one guild of `users` members, all
 *   verified, under Discord-like buckets (member PATCH and role PUT/DELETE 10 per 10 s each,
 *   global 50/s): member writes and elapsed time, from the scheduler's time-optimal bound for the
 *   changes that cross a tier (which `sync_bench.ts` shows the engine meets within 2-6%).
 */
import { startEmulator } from "../tests/emulator/server.ts";
import { signingKeys } from "../tests/_harness.ts";
import { parseConfig } from "../lib/config.ts";
import { createLogger } from "../lib/log/log.ts";
import { composeBot } from "../lib/bot.ts";
import { freshnessPass } from "../lib/sync/fresh_pass.ts";
import { linkedRolesStage } from "../lib/linked_roles/fresh.ts";
import { backlogTimes, LINKED_QUEUE } from "../lib/jobs/fresh_backlog.ts";
import { METADATA_RECORDS, metadataOf } from "../lib/linked_roles/metadata.ts";
import { type LinkedUser, saveLinked } from "../lib/linked_roles/store.ts";
import { seal } from "../lib/linked_roles/token_box.ts";
import { levelOfScore } from "../lib/ethos/levels.ts";
import { syncLowerBound } from "../lib/sync/scheduler.ts";
import { prng, specFor } from "./_sync_common.ts";

const arg = (name: string, fallback: number) => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const USERS = arg("users", 100_000);
const CHANGED = arg("changed", 0.3);
/** Added to every Discord answer: a round trip to Discord, so pushes cost what they would. */
const LATENCY_MS = arg("latency-ms", 100);
const rand = prng(arg("seed", 7));
const TIERS = [2000, 1800, 1200, 800, 0];
const tierOf = (s: number) => TIERS.findIndex((t) => s >= t);

const SECRET = "bench-client-secret-0123456789";
const emu = await startEmulator({
  guilds: [{ members: 10 }],
  clientSecret: SECRET,
  faults: { latencyMs: LATENCY_MS },
});
const st = emu.state;
st.roleConnections.setMetadata(METADATA_RECORDS);

const keys = await signingKeys();
const config = parseConfig({
  DISCORD_PUBLIC_KEY: keys.publicKeyHex,
  DISCORD_APPLICATION_ID: emu.applicationId,
  DISCORD_TOKEN: emu.token,
  DISCORD_API_BASE: emu.discordBase,
  ETHOS_API_BASE: emu.ethosBase,
  DISCORD_CLIENT_SECRET: SECRET,
  SELF_URL: "http://127.0.0.1:9",
  SYNC_AUTH_TOKEN: "bench-token-0123456789abcdef",
  SIGNING_SECRET: "bench-signing-secret-0123456789abcdef",
  SYNC_COMMANDS_ON_START: "false",
  LOG_LEVEL: "warn",
  ETHOS_CLIENT: "ethos-discord-bot-bench@0.1.0",
});
const kv = await Deno.openKv(":memory:");
const bot = await composeBot({
  config,
  kv,
  log: createLogger({ level: "warn" }),
  flushIntervalMs: 0,
});
const tokenKeys = bot.app.keys.tokenBox;

// The linked users, as the connect flow leaves them.
const setupStart = Date.now();
const ids: string[] = [];
const now = Date.now();
for (let i = 0; i < USERS; i++) {
  const id = String(400000000000000000n + BigInt(i) * 7919n);
  ids.push(id);
  const score = Math.max(0, Math.min(2800, Math.round(1400 + (rand() - 0.5) * 2400)));
  st.setScore(id, score, now - 86_400_000);
  const grant = st.oauth.issueTokens(id);
  const metadata = metadataOf({
    score,
    level: levelOfScore(score),
    validator: false,
    human: false,
  });
  st.roleConnections.put(id, { platform_name: "Ethos", platform_username: `user ${i}`, metadata });
  const record: LinkedUser = {
    refresh: await seal(tokenKeys, id, grant.refreshToken),
    access: await seal(tokenKeys, id, grant.accessToken),
    expiresAt: now + 604_800_000,
    linkedAt: now,
    pushedAt: now,
    metadata,
    platformUsername: `user ${i}`,
  };
  await saveLinked(bot.deps.kv, id, record);
}
console.log(`setup: ${USERS} linked users in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);

// A first pass sets the feed cursor; then the changes.
await freshnessPass(bot.deps, { linked: linkedRolesStage(bot.deps, tokenKeys) });
emu.stats.reset();
const changed = ids.filter(() => rand() < CHANGED);
const changeCounts: number[] = [];
const t0 = Date.now();
for (const id of changed) {
  const old = st.score(id)!;
  let score = old;
  while (score === old) score = Math.max(0, Math.min(2800, Math.round(old + (rand() - 0.5) * 800)));
  st.setScore(id, score, t0);
  if (tierOf(score) !== tierOf(old)) changeCounts.push(2);
}

// The pass, back to back (the cron runs it every minute; each takes the feed 5 pages at a time).
const start = Date.now();
let passes = 0;
let pushes = 0;
let failures = 0;
for (;;) {
  const s = await freshnessPass(bot.deps, {
    linked: linkedRolesStage(bot.deps, tokenKeys),
    maxPages: 5,
  });
  passes++;
  pushes += s?.linked?.pushes ?? 0;
  failures += s?.linked?.failures ?? 0;
  const waiting = (await backlogTimes(bot.deps.kv, LINKED_QUEUE)).length;
  const more = s && !("error" in s.intake) && s.intake.more;
  if (!more && waiting === 0) break;
  if (passes > 200) throw new Error("the passes did not finish");
}
const elapsedS = (Date.now() - start) / 1000;

// What Discord holds now.
let wrong = 0;
for (const id of changed) {
  if (st.roleConnections.connection(id)?.metadata.score !== String(st.score(id))) wrong++;
}
const puts = emu.stats.roleConnectionPuts.length;
const putUsers = new Set(emu.stats.roleConnectionPuts.map((p) => p.userId));
const unchangedPushed = [...putUsers].filter((id) => !changed.includes(id)).length;
const other = emu.stats.totalRequests - puts;

// Role sync for the same changes: one guild of USERS members, Discord-like buckets.
const spec = specFor({ kind: "b", members: USERS, scale: 1 });
const bound = syncLowerBound(changeCounts, USERS, spec, 4);
const syncWrites = bound.patchCalls + bound.roleCalls;
const h = (ms: number) => `${(ms / 3_600_000).toFixed(2)} h`;

console.log(`
${changed.length} of ${USERS} linked users' scores changed (${changeCounts.length} crossed a tier)
linked roles, ${LATENCY_MS} ms a Discord call: ${
  elapsedS.toFixed(1)
} s in ${passes} passes; role-connection PUTs ${puts} for ${putUsers.size} users (target: ${changed.length}, one per changed user); pushed to unchanged users: ${unchangedPushed}; wrong after: ${wrong}; failures ${failures}
  other Discord calls ${other} (token refreshes: ${emu.stats.oauth.refreshes}); Ethos calls ${
  JSON.stringify(emu.stats.ethosCalls)
}
role sync, same changes, one guild of ${USERS}, Discord-like buckets: ${syncWrites} member writes (${bound.patchCalls} PATCH + ${bound.roleCalls} role), at least ${
  h(bound.ms)
} (bound: ${bound.binding} bucket binds)

| | Discord calls | elapsed |
| --- | --- | --- |
| linked roles (metadata pushes) | ${puts} | ${elapsedS.toFixed(1)} s |
| role sync (member writes) | ${syncWrites} | >= ${h(bound.ms)} |
result: ${puts === changed.length && unchangedPushed === 0 && wrong === 0 ? "PASS" : "FAIL"}`);
void pushes;
await bot.drain("bench over", 5_000);
await emu.close();
kv.close();
