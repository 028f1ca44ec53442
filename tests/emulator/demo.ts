/**
 * `make demo`: the main job on the embedded default. Starts the Discord + Ethos emulator with a
 * seeded guild, the bot (mod.ts, a real subprocess) against it on a local KV file, answers a
 * signed PING and /help through /interactions, then runs a complete role sync with the real CLI
 * (sync-helper.ts complete) and checks every member's roles against the rule, shows an /ethos card,
 * and changes a few Ethos scores for the bot's freshness pass (its every-minute cron) to write. Then it keeps
 * serving so you can try sync-helper.ts, curl and `make complete` yourself, until Ctrl-C.
 *
 *   deno run -A tests/emulator/demo.ts [--members 3000] [--port 8000] [--discord-like] [--once]
 */
import type { APIEmbed } from "discord-api-types/v10";
import { startEmulator, tierForScore } from "./server.ts";
import { ethosUser } from "./ethos_users.ts";
import { botEnvFor } from "./bot_env.ts";
import { commandInteraction, signingKeys } from "../_harness.ts";

const args = Deno.args;
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const raw = args[i].includes("=") ? args[i].split("=")[1] : args[i + 1];
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} needs a number`);
  return n;
};
const MEMBERS = option("members", 3000);
const PORT = option("port", 8000);
const ONCE = flag("once");
const root = new URL("../../", import.meta.url);
const say = (line: string) => console.log(`demo: ${line}`);

const emu = await startEmulator({
  guilds: [{ members: MEMBERS }],
  // Discord-like buckets make a few-thousand-member sync take many minutes; the default runs
  // every bucket at Discord's global limit (50/s) so the demo finishes in well under a minute.
  ...(flag("discord-like") ? {} : { uniformRate: 50 }),
});
say(`emulator on ${emu.url}: guild ${MEMBERS} members (Discord API at ${emu.discordBase})`);

const keys = await signingKeys();
const token = crypto.randomUUID().replaceAll("-", "");
const url = `http://localhost:${PORT}`;
await Deno.mkdir(new URL(".data/", root), { recursive: true });
const kvPath = new URL(".data/demo.sqlite", root).pathname;
for (const suffix of ["", "-shm", "-wal"]) await Deno.remove(kvPath + suffix).catch(() => {});

// The validator and human roles show the whole role model: the emulator's profiles hold validator
// NFTs and human verifications, so some members get them.
const validatorRole = emu.state.addRole(emu.state.guilds.keys().next().value!, {
  name: "Ethos Validator",
  color: 0x16a085,
});
const humanRole = emu.state.addRole(emu.state.guilds.keys().next().value!, {
  name: "Ethos Human Verified",
  color: 0x2980b9,
});
const env = botEnvFor(emu, keys.publicKeyHex, undefined, {
  ETHOS_VALIDATOR_ROLE_ID: validatorRole.id,
  ETHOS_HUMAN_ROLE_ID: humanRole.id,
  PORT: String(PORT),
  KV_PATH: kvPath,
  SYNC_AUTH_TOKEN: token,
  // A secret of the demo's own, as an operator would set (without one the bot warns at start).
  SIGNING_SECRET: crypto.randomUUID() + crypto.randomUUID(),
  SELF_URL: url,
  AUTO_CONTINUE_CHUNKS: "true",
  SYNC_CHUNK_SIZE: "1000",
  DISABLE_DAILY_SYNC: "true",
  LOG_LEVEL: "warn",
});
const bot = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-write", "mod.ts"],
  cwd: root.pathname,
  env,
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    try {
      bot.kill("SIGINT");
    } catch { /* already gone */ }
    await bot.status;
    await emu.close();
  }
  Deno.exit(code);
}
Deno.addSignalListener("SIGINT", () => void stop(0));

async function waitHealthy(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  say("the bot did not become healthy within 20 s");
  await stop(1);
}
await waitHealthy();
say(`bot on ${url} (KV file ${kvPath})`);

const encoder = new TextEncoder();
async function interact(
  payload: unknown,
): Promise<{ type: number; data?: { embeds?: unknown[] } }> {
  const body = JSON.stringify(payload);
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await fetch(`${url}/interactions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-signature-timestamp": ts,
      "x-signature-ed25519": await keys.sign(encoder.encode(ts + body)),
    },
    body,
  });
  if (!res.ok) throw new Error(`/interactions answered ${res.status}`);
  return await res.json();
}
const pong = await interact({
  id: "990000000000000001",
  application_id: emu.applicationId,
  type: 1,
  token: "t",
  version: 1,
});
const help = await interact(commandInteraction("help"));
say(
  `signed PING -> type ${pong.type} (PONG); signed /help -> type ${help.type} with ${
    help.data?.embeds?.length ?? 0
  } embed`,
);

say("main job: complete role sync with `sync-helper.ts complete`");
const sync = await new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    "--allow-env",
    "sync-helper.ts",
    "complete",
    "--url",
    url,
    "--token",
    token,
    "--chunk-size",
    "1000",
  ],
  cwd: root.pathname,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (sync.code !== 0) {
  say(`the sync did not complete (exit ${sync.code})`);
  await stop(1);
}

// Check every member against the rule, straight from the emulator's state.
const guild = emu.state.guild(env.DISCORD_GUILD_ID);
const roles = guild.ethosRoles!;
const managed = [
  roles.exemplary,
  roles.reputable,
  roles.neutral,
  roles.questionable,
  roles.untrusted,
  roles.profile,
  validatorRole.id,
  humanRole.id,
];
/** Whether a member holds exactly the managed roles the rule gives them. */
function isRight(member: { id: string; roles: string[] }): boolean {
  const score = emu.state.score(member.id);
  const verified = member.roles.includes(roles.verified);
  // What Ethos says of the member, straight from the emulator's profile data.
  const profile = ethosUser(emu.state, member.id);
  const validator = (profile?.validatorNftCount ?? 0) > 0;
  const human = profile?.humanVerificationStatus === "VERIFIED";
  const expected = verified && score !== undefined
    ? [
      roles[tierForScore(score)],
      roles.profile,
      ...(validator ? [validatorRole.id] : []),
      ...(human ? [humanRole.id] : []),
    ].sort()
    : [];
  const held = member.roles.filter((r) => managed.includes(r)).sort();
  return JSON.stringify(held) === JSON.stringify(expected);
}
let checked = 0;
let wrong = 0;
const holders = { validator: 0, human: 0 };
for (const member of guild.members.values()) {
  if (member.bot) continue;
  checked++;
  if (!isRight(member)) wrong++;
  if (member.roles.includes(validatorRole.id)) holders.validator++;
  if (member.roles.includes(humanRole.id)) holders.human++;
}
const writes = emu.stats.writes.length;
say(
  `${checked} members checked against the rule: ${
    wrong === 0 ? "all in sync" : `${wrong} WRONG`
  }; ${writes} role writes, ${
    emu.stats.rateLimited.user + emu.stats.rateLimited.global
  } rate-limited responses; ${holders.validator} validator and ${holders.human} human-verified members`,
);
if (wrong !== 0) await stop(1);

// A member looks someone up: the /ethos card, as Discord would show its embed.
const subject = [...guild.members.values()].find((m) =>
  !m.bot && m.roles.includes(roles.verified) && (emu.state.score(m.id) ?? 0) >= 1800
);
if (subject) {
  const lookup = commandInteraction("ethos", [
    { name: "user", type: 6, value: subject.id },
  ]) as unknown as { data: Record<string, unknown> };
  lookup.data.resolved = {
    users: { [subject.id]: { id: subject.id, username: subject.username, avatar: null } },
  };
  const card = await interact(lookup);
  const embed = card.data?.embeds?.[0] as APIEmbed | undefined;
  if (!embed) {
    say(`/ethos answered without a card: ${JSON.stringify(card).slice(0, 300)}`);
    await stop(1);
  } else {
    say(`/ethos user:@${subject.username} ->`);
    const line = (text: string) => console.log(`  │ ${text}`);
    line(`${embed.title}  (colour #${(embed.color ?? 0).toString(16).padStart(6, "0")})`);
    line((embed.description ?? "").replaceAll("**", ""));
    for (const f of embed.fields ?? []) {
      line(`${f.name}: ${f.value.replaceAll("**", "").replaceAll("\n", " ")}`);
    }
    line(embed.url ?? "");
  }
}

// Freshness: Ethos scores change; the bot's freshness pass (a cron, every minute) writes them.
const changed = [...guild.members.values()]
  .filter((m) => !m.bot && m.roles.includes(roles.verified) && emu.state.score(m.id) !== undefined)
  .slice(0, 5);
const changedAt = Date.now();
for (const m of changed) {
  const score = emu.state.score(m.id)!;
  emu.state.setScore(m.id, score >= 1200 ? 700 : 2100, changedAt);
}
say(
  `${changed.length} members' Ethos scores changed; waiting for the freshness pass (every minute)`,
);
let applied = false;
for (let waited = 0; waited < 90_000 && !applied; waited += 500) {
  await new Promise((r) => setTimeout(r, 500));
  applied = changed.every((m) => isRight(guild.members.get(m.id)!));
}
if (!applied) {
  say("the score changes did not reach Discord within 90 s");
  await stop(1);
}
say(
  `the ${changed.length} score changes reached their roles ${
    ((Date.now() - changedAt) / 1000).toFixed(0)
  } s after they happened, with ${emu.stats.writes.length - writes} role writes (${
    [...new Set(emu.stats.writes.slice(writes).map((w) => w.method))].join(", ")
  })`,
);

if (ONCE) await stop(0);
say("the bot keeps running. In another shell try:");
console.log(`  export SYNC_URL=${url} SYNC_AUTH_TOKEN=${token}`);
console.log(
  `  make status              # or: curl -H "Authorization: Bearer $SYNC_AUTH_TOKEN" $SYNC_URL/sync-status`,
);
console.log(`  make complete            # a new run: nothing left to change`);
console.log(`  curl $SYNC_URL/health`);
say("Ctrl-C stops the bot and the emulator.");
