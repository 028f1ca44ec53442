/**
 * Interactions throughput and latency at 32 concurrent clients against the bot, next to a bare
 * Deno.serve + WebCrypto verify baseline measured in the same run: signed PING, and signed slash
 * commands: /help (read-only: verify, parse, the cooldown's KV commit, a reply with three signed
 * custom IDs) and /ethos_sync_status (the full gate: idempotency claim and cooldown in one commit,
 * a KV read, the response recorded for duplicate deliveries). Target: PING and /help reach at
 * least 0.5x the baseline's throughput.
 *
 * The servers are measured in turn, round after round, and each figure is the median over rounds:
 * on a small shared machine the speed of the whole box drifts, and a ratio taken within one round
 * compares like with like.
 *
 *   deno run -A bench/interactions_bench.ts [--requests=4000] [--concurrency=32] [--rounds=5]
 */
import { APP_ID, commandInteraction, signingKeys } from "../tests/_harness.ts";

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const REQUESTS = arg("requests", 4000);
const CONCURRENCY = arg("concurrency", 32);
const ROUNDS = arg("rounds", 5);

interface Server {
  url: string;
  stop(): Promise<void>;
}

async function startServer(mode: string, key: string): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./interactions_server.ts", import.meta.url).pathname,
      `--mode=${mode}`,
      `--key=${key}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${mode} server exited`);
    buffered += value;
  }
  const { port } = JSON.parse(buffered.split("\n")[0]);
  return {
    url: `http://127.0.0.1:${port}/interactions`,
    async stop() {
      child.kill("SIGTERM");
      await reader.cancel().catch(() => {});
      await child.status;
    },
  };
}

interface Prepared {
  body: string;
  timestamp: string;
  signature: string;
}

type Kind = "ping" | "help" | "ethos_sync_status";

/** Signed requests; every command comes from a user of its own (no cooldown is ever hit). */
async function prepare(keys: Awaited<ReturnType<typeof signingKeys>>, kind: Kind, round: number) {
  const enc = new TextEncoder();
  const out: Prepared[] = [];
  for (let n = 0; n < REQUESTS; n++) {
    const i = BigInt(round * REQUESTS + n);
    const payload = kind === "ping"
      ? {
        id: String(800000000000000000n + i),
        application_id: APP_ID,
        type: 1,
        token: "t",
        version: 1,
      }
      : commandInteraction(kind, [], { userId: String(300000000000000000n + i) });
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(Date.now() / 1000));
    out.push({ body, timestamp, signature: await keys.sign(enc.encode(timestamp + body)) });
  }
  return out;
}

async function load(url: string, requests: Prepared[]) {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests.length) {
      const r = requests[next++];
      const t0 = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-signature-ed25519": r.signature,
          "x-signature-timestamp": r.timestamp,
        },
        body: r.body,
      });
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { rps: requests.length / seconds, p50: pct(0.5), p99: pct(0.99), failures };
}

type Result = Awaited<ReturnType<typeof load>>;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main() {
  const keys = await signingKeys();
  const baseline = await startServer("baseline", keys.publicKeyHex);
  const bot = await startServer("bot", keys.publicKeyHex);
  const results: Record<string, unknown> = {};
  try {
    const warm = await prepare(keys, "ping", 2 * ROUNDS);
    await load(baseline.url, warm.slice(0, 500));
    await load(bot.url, warm.slice(0, 500));
    // Rounds of baseline / PING / help first, then rounds of baseline / the KV-heavy command, so
    // the records and expiring cooldowns the latter leaves in KV do not slow the former.
    const rounds = async (kinds: Kind[], offset: number) => {
      const bases: Result[] = [];
      const rows = new Map<Kind, Result[]>(kinds.map((k) => [k, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const requests = new Map<Kind, Prepared[]>();
        for (const kind of ["ping" as const, ...kinds]) {
          requests.set(kind, await prepare(keys, kind, offset + round));
        }
        bases.push(await load(baseline.url, requests.get("ping")!));
        for (const kind of kinds) rows.get(kind)!.push(await load(bot.url, requests.get(kind)!));
      }
      return { bases, rows };
    };
    const first = await rounds(["ping", "help"], 0);
    const second = await rounds(["ethos_sync_status"], ROUNDS);
    const summary = (rs: Result[], ratios: number[]) => ({
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      failures: rs.reduce((n, r) => n + r.failures, 0),
      ratio: median(ratios),
      ratios,
    });
    const base = summary(first.bases, first.bases.map(() => 1));
    const of = (phase: typeof first, kind: Kind) => {
      const rs = phase.rows.get(kind)!;
      return summary(rs, rs.map((r, i) => r.rps / phase.bases[i].rps));
    };
    const ping = of(first, "ping");
    const help = of(first, "help");
    const claimed = of(second, "ethos_sync_status");
    const row = (name: string, r: ReturnType<typeof summary>) =>
      `${name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${
        r.p50.toFixed(2).padStart(6)
      } ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   ratio ${r.ratio.toFixed(2)}x (${
        r.ratios.map((x) => x.toFixed(2)).join(", ")
      })${r.failures ? `   FAILURES ${r.failures}` : ""}`;
    console.log(
      `interactions: ${REQUESTS} requests per server per round, ${CONCURRENCY} concurrent clients, ` +
        `medians of ${ROUNDS} rounds`,
    );
    console.log(row("baseline (serve + verify)", base));
    console.log(row("bot: signed PING", ping));
    console.log(row("bot: signed /help", help));
    console.log(row("bot: signed /ethos_sync_status", claimed));
    const target = 0.5;
    const pass = ping.ratio >= target && help.ratio >= target && !ping.failures &&
      !help.failures && !claimed.failures;
    console.log(`target: PING and /help >= ${target}x baseline: ${pass ? "met" : "NOT met"}`);
    Object.assign(results, { bench: "interactions", baseline: base, ping, help, claimed, pass });
    console.log(JSON.stringify(results));
  } finally {
    await bot.stop();
    await baseline.stop();
  }
  return results;
}

if (import.meta.main) await main();
