/**
 * Backup benchmark: a guild of 250 roles, 500 channels (with permission overwrites) and 100,000
 * members, on the Discord emulator (every bucket and the global limit at --rate per second,
 * default 5000, so the run stays within a few minutes on two cores).
 *
 *   deno run -A bench/backup_bench.ts [--members 100000] [--rate 5000] [--seed 7]
 *
 * 1. Capture through the jobs runner (chunks of 10,000 members): time, chunks, REST calls, and
 *    the KV bytes the backup occupies (compressed parts) next to its raw canonical size.
 * 2. Damage: 25 roles, 5 categories and 45 channels deleted (Discord takes the roles off members
 *    and overwrites; the categories' other channels lose their parent), a setting changed.
 * 3. Restore: REST calls by kind against the minimum a perfect restore needs, computed here
 *    independently from the emulator's state; then the guild is compared with the original.
 *
 * The last line printed is one JSON object with every figure.
 */
import { ChannelType, OverwriteType, PermissionFlagsBits as P } from "discord-api-types/v10";
import { startEmulator } from "../tests/emulator/server.ts";
import { Prng } from "../tests/emulator/prng.ts";
import { GUILD, startBot } from "../tests/backup/_fixture.ts";
import { startCapture, startRestore } from "../lib/backup/service.ts";
import { getBackup } from "../lib/backup/store.ts";

function arg(name: string, fallback: number): number {
  const i = Deno.args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const raw = Deno.args[i].includes("=") ? Deno.args[i].split("=")[1] : Deno.args[i + 1];
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
  return n;
}

const MEMBERS = arg("members", 100_000);
const RATE = arg("rate", 5000);
const SEED = arg("seed", 7);
const ROLES = 250;
const CHANNELS = 500;
const say = (s: string) => console.log(s);

const emu = await startEmulator({
  uniformRate: RATE,
  seed: SEED,
  guilds: [{ members: MEMBERS, roles: 3, channels: 2 }],
});
const g = emu.state.guild(GUILD);
const prng = new Prng(SEED);

// --- the guild: 250 roles, 500 channels with overwrites, members holding a few roles --------
const extra: string[] = [...g.extraRoles];
while (g.roles.size < ROLES) {
  const r = emu.state.addRole(GUILD, {
    name: `Bench role ${g.roles.size}`,
    color: prng.int(0xffffff),
    hoist: prng.chance(0.2),
    mentionable: prng.chance(0.3),
    permissions: (prng.chance(0.5) ? P.SendMessages | P.ViewChannel : P.ViewChannel).toString(),
  });
  extra.push(r.id);
}
for (const m of g.members.values()) {
  if (m.bot || !prng.chance(0.4)) continue;
  const n = 1 + prng.int(3);
  const roles = new Set(m.roles);
  for (let i = 0; i < n; i++) roles.add(extra[prng.int(extra.length)]);
  m.roles = [...roles];
}
const grantable = [P.ViewChannel, P.SendMessages, P.EmbedLinks, P.ReadMessageHistory];
const overwrites = () =>
  Array.from({ length: 1 + prng.int(3) }, () => ({
    id: extra[prng.int(extra.length)],
    type: OverwriteType.Role,
    allow: grantable[prng.int(grantable.length)].toString(),
    deny: "0",
  })).filter((o, i, all) => all.findIndex((x) => x.id === o.id) === i);
const categories: string[] = [...g.channels.values()].filter((c) =>
  c.type === ChannelType.GuildCategory
).map((c) => c.id);
while (categories.length < 40) {
  categories.push(
    emu.state.addChannel(GUILD, {
      type: ChannelType.GuildCategory,
      name: `Category ${categories.length}`,
      position: categories.length,
      permission_overwrites: overwrites(),
    }).id,
  );
}
let pos = g.channels.size;
while (g.channels.size < CHANNELS) {
  const voice = prng.chance(0.2);
  emu.state.addChannel(GUILD, {
    type: voice ? ChannelType.GuildVoice : ChannelType.GuildText,
    name: `${voice ? "Voice" : "chan"}-${pos}`,
    position: pos++,
    parent_id: categories[prng.int(categories.length)],
    topic: voice ? undefined : `Topic ${pos}`,
    rate_limit_per_user: prng.pick([0, 0, 5, 30]),
    permission_overwrites: overwrites(),
  });
}
// "staff" hides itself from the bot: give the bot's role access, as admins do for bots.
for (const c of g.channels.values()) {
  if (c.name === "staff") {
    c.permission_overwrites.push({
      id: g.botRole!,
      type: OverwriteType.Role,
      allow: P.ViewChannel.toString(),
      deny: "0",
    });
  }
}
const humans = [...g.members.values()].filter((m) => !m.bot).length;
say(
  `guild: ${g.roles.size} roles, ${g.channels.size} channels, ${g.members.size} members ` +
    `(${humans} humans); emulator at ${RATE} requests/s per bucket`,
);

// --- the bot --------------------------------------------------------------------------------
const bot = await startBot(emu, {
  env: { BACKUP_COOLDOWN: "0", SYNC_MAX_CHUNK_MS: "600000", LOG_LEVEL: "warn" },
});

function requestsByRoute(): Record<string, number> {
  return { ...emu.stats.requests };
}
function sum(o: Record<string, number>, pred: (k: string) => boolean = () => true): number {
  return Object.entries(o).filter(([k]) => pred(k)).reduce((a, [, v]) => a + v, 0);
}

async function kvBytes(prefix: Deno.KvKey): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  for await (const e of bot.kv.list({ prefix })) {
    entries++;
    const v = e.value;
    bytes += v instanceof Uint8Array ? v.byteLength : JSON.stringify(v)?.length ?? 0;
    bytes += JSON.stringify(e.key).length;
  }
  return { entries, bytes };
}

// Heap in use, sampled: the bot's share is the peak of a phase above the baseline (the emulator
// and its 100,000 members live in this process too).
let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, Deno.memoryUsage().heapUsed);
}, 20);
function phaseHeap(): { baseline: number; reset: () => void; peak: () => number } {
  const baseline = Deno.memoryUsage().heapUsed;
  peakHeap = baseline;
  return { baseline, reset: () => (peakHeap = baseline), peak: () => peakHeap - baseline };
}

// --- 1. capture -------------------------------------------------------------------------------
const captureHeap = phaseHeap();
emu.stats.reset();
const t0 = performance.now();
const started = await startCapture(bot.deps, GUILD, {
  authorId: "bench",
  authorName: "bench",
  source: "bench",
  label: "bench",
});
if (started.status !== "started") throw new Error(`capture did not start: ${started.reason}`);
const captured = await bot.waitJob("capture", 30 * 60_000);
const captureMs = performance.now() - t0;
const captureHeapMb = captureHeap.peak() / 1e6;
if (captured.progress.state !== "completed") {
  throw new Error(`capture ${captured.progress.state}: ${captured.progress.lastError}`);
}
const meta = (await getBackup(bot.kv, GUILD, started.backupId!))!;
const captureCalls = sum(requestsByRoute());
const snapshotKv = await kvBytes(["blob", "part", "backup", "snap"]);
const indexKv = await kvBytes(["backup", "index"]);
const workLeft = await kvBytes(["blob", "part", "backup", "work"]);
say(
  `capture: ${(captureMs / 1000).toFixed(1)} s, ${captured.progress.chunk} chunks, ` +
    `${captureCalls} REST calls (minimum ${2 + Math.ceil((g.members.size + 1) / 1000)}), ` +
    `${meta.memberCount} members; bot heap peak +${captureHeapMb.toFixed(0)} MB`,
);
say(
  `  stored: ${(meta.sizeRaw / 1e6).toFixed(2)} MB raw canonical JSON -> ` +
    `${(meta.sizeCompressed / 1e6).toFixed(2)} MB gzip (${
      (meta.sizeRaw / meta.sizeCompressed).toFixed(1)
    }x); KV ${snapshotKv.entries} parts, ${
      (snapshotKv.bytes / 1e6).toFixed(2)
    } MB + index ${indexKv.bytes} B; ` +
    `work data left ${workLeft.entries} entries`,
);

// --- 2. damage ----------------------------------------------------------------------------------
const nameOf = (id: string) => id === GUILD ? "@everyone" : g.roles.get(id)?.name ?? `?${id}`;
function structure() {
  const roles = [...g.roles.values()].sort((a, b) => a.position - b.position).map((r) =>
    `${r.name}|${r.permissions}|${r.color}|${r.hoist}|${r.mentionable}`
  );
  const channels = [...g.channels.values()].map((c) =>
    [
      c.type,
      c.name,
      c.parent_id ? g.channels.get(c.parent_id)?.name : "-",
      c.topic ?? "",
      c.rate_limit_per_user ?? "",
      c.permission_overwrites.map((o) => `${nameOf(o.id)}:${o.allow}/${o.deny}`).sort().join(","),
    ].join("|")
  ).sort();
  const members = [...g.members.values()].filter((m) => !m.bot).map((m) =>
    `${m.id}:${m.roles.map(nameOf).sort().join(",")}`
  );
  return { roles, channels, members };
}
const original = structure();

const deletedRoles = extra.slice(10, 35);
const deletedSet = new Set(deletedRoles);
let membersToFix = 0;
for (const m of g.members.values()) {
  if (!m.bot && m.roles.some((r) => deletedSet.has(r))) membersToFix++;
}
const deletedCats = categories.slice(3, 8);
const deletedCatSet = new Set(deletedCats);
const plainChannels = [...g.channels.values()].filter((c) =>
  c.type !== ChannelType.GuildCategory && !deletedCatSet.has(c.parent_id ?? "")
);
const deletedChannels = plainChannels.slice(20, 65).map((c) => c.id);
const deletedChannelSet = new Set([...deletedChannels, ...deletedCats]);
let reparent = 0;
let overwriteFixes = 0;
for (const c of g.channels.values()) {
  if (deletedChannelSet.has(c.id)) continue;
  if (c.parent_id && deletedCatSet.has(c.parent_id)) reparent++;
  overwriteFixes += c.permission_overwrites.filter((o) => deletedSet.has(o.id)).length;
}
for (const r of deletedRoles) emu.state.deleteRole(GUILD, r);
for (const c of deletedCats) emu.state.deleteChannel(c);
for (const c of deletedChannels) emu.state.deleteChannel(c);
g.settings.verification_level = 0;
say(
  `damage: ${deletedRoles.length} roles, ${deletedCats.length} categories and ` +
    `${deletedChannels.length} channels deleted; ${membersToFix} members lost roles; ` +
    `${reparent} channels lost their category; ${overwriteFixes} overwrites gone from surviving channels`,
);

// --- 3. restore -----------------------------------------------------------------------------------
emu.stats.reset();
const restoreHeap = phaseHeap();
const t1 = performance.now();
const r = await startRestore(bot.deps, GUILD, {
  backupId: meta.id,
  actorId: "bench",
  actorName: "bench",
  source: "bench",
});
if (r.status !== "started") throw new Error(`restore did not start: ${r.reason}`);
const restored = await bot.waitJob("restore", 30 * 60_000);
const restoreMs = performance.now() - t1;
const restoreHeapMb = restoreHeap.peak() / 1e6;
clearInterval(sampler);
if (restored.progress.state !== "completed") {
  throw new Error(`restore ${restored.progress.state}: ${restored.progress.lastError}`);
}
const req = requestsByRoute();
const writes = {
  roleCreates: req["POST /guilds/:guild/roles"] ?? 0,
  rolePositions: req["PATCH /guilds/:guild/roles"] ?? 0,
  channelCreates: req["POST /guilds/:guild/channels"] ?? 0,
  channelMoves: req["PATCH /channels/:channel"] ?? 0,
  overwrites: req["PUT /channels/:channel/permissions/:overwrite"] ?? 0,
  settings: req["PATCH /guilds/:guild"] ?? 0,
  memberWrites: (req["PATCH /guilds/:guild/members/:user"] ?? 0) +
    (req["PUT /guilds/:guild/members/:user/roles/:role"] ?? 0) +
    (req["DELETE /guilds/:guild/members/:user/roles/:role"] ?? 0),
};
const minimum = {
  roleCreates: deletedRoles.length,
  rolePositions: 1,
  channelCreates: deletedCats.length + deletedChannels.length,
  channelMoves: reparent,
  overwrites: overwriteFixes,
  settings: 1,
  memberWrites: membersToFix,
};
const reads = sum(req, (k) => k.startsWith("GET "));
const minReads = 3 + 1 + Math.ceil((g.members.size + 1) / 1000); // guild+channels+bot, roles, pages
const totalCalls = sum(req);
const minTotal = sum(minimum) + minReads;
const after = structure();
const same = JSON.stringify(after) === JSON.stringify(original);
say(
  `restore: ${(restoreMs / 1000).toFixed(1)} s, ${restored.progress.chunk} chunks, heap peak +${
    restoreHeapMb.toFixed(0)
  } MB, report ${
    JSON.stringify({ created: restored.report?.created, failed: restored.report?.failed })
  }`,
);
for (const k of Object.keys(minimum) as (keyof typeof minimum)[]) {
  say(`  ${k.padEnd(15)} ${String(writes[k]).padStart(6)}   minimum ${minimum[k]}`);
}
say(`  ${"reads".padEnd(15)} ${String(reads).padStart(6)}   minimum ${minReads}`);
say(
  `  ${"total".padEnd(15)} ${String(totalCalls).padStart(6)}   minimum ${minTotal} ` +
    `(ratio ${(totalCalls / minTotal).toFixed(3)}); 429s ${sum(emu.stats.rateLimited)}`,
);
say(`  guild equals the original after restore: ${same}`);
if (!same) {
  for (const k of ["roles", "channels", "members"] as const) {
    const a = new Set(original[k]);
    const missing = after[k].filter((x) => !a.has(x)).slice(0, 3);
    if (missing.length) say(`    ${k} differ, e.g. ${missing.join(" ; ")}`);
  }
}

await bot.close();
await emu.close();
const result = {
  bench: "backup",
  members: g.members.size,
  roles: ROLES,
  channels: CHANNELS,
  rate: RATE,
  capture: {
    seconds: Math.round(captureMs) / 1000,
    chunks: captured.progress.chunk,
    restCalls: captureCalls,
    rawBytes: meta.sizeRaw,
    compressedBytes: meta.sizeCompressed,
    kvParts: snapshotKv.entries,
    kvBytes: snapshotKv.bytes + indexKv.bytes,
    checksum: meta.checksum,
    heapPeakMb: Math.round(captureHeapMb),
  },
  restore: {
    seconds: Math.round(restoreMs) / 1000,
    chunks: restored.progress.chunk,
    writes,
    minimumWrites: minimum,
    reads,
    minimumReads: minReads,
    totalCalls,
    minimumTotal: minTotal,
    ratio: Math.round(totalCalls / minTotal * 1000) / 1000,
    rateLimited: sum(emu.stats.rateLimited),
    complete: same,
    heapPeakMb: Math.round(restoreHeapMb),
  },
};
console.log(JSON.stringify(result));
if (!same || Object.keys(restored.report?.failed ?? {}).length) Deno.exit(1);
