/**
 * Interactions throughput and latency: signed PING and a signed slash command (/help: the whole
 * path — verify, parse, gate with idempotency claim and cooldown, a reply with signed components,
 * the response recorded for duplicates — with no handler I/O of its own) at 32 concurrent
 * clients against the bot, next to a bare Deno.serve + WebCrypto verify baseline measured in the
 * same run. Target: the bot reaches at least 0.5x the baseline's throughput.
 *
 *   deno run -A bench/interactions_bench.ts [--requests=4000] [--concurrency=32]
 */
import { APP_ID, commandInteraction, signingKeys } from "../tests/_harness.ts";

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const REQUESTS = arg("requests", 4000);
const CONCURRENCY = arg("concurrency", 32);

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

async function prepare(keys: Awaited<ReturnType<typeof signingKeys>>, kind: "ping" | "command") {
  const enc = new TextEncoder();
  const out: Prepared[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const payload = kind === "ping"
      ? {
        id: String(800000000000000000n + BigInt(i)),
        application_id: APP_ID,
        type: 1,
        token: "t",
        version: 1,
      }
      : commandInteraction("help", [], {
        userId: String(300000000000000000n + BigInt(i)),
      });
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

export async function main() {
  const keys = await signingKeys();
  const baseline = await startServer("baseline", keys.publicKeyHex);
  const bot = await startServer("bot", keys.publicKeyHex);
  const results: Record<string, unknown> = {};
  try {
    const pings = await prepare(keys, "ping");
    await load(baseline.url, pings.slice(0, 200)); // warm-up
    await load(bot.url, pings.slice(0, 200));
    const base = await load(baseline.url, pings);
    const botPing = await load(bot.url, pings);
    const botCommand = await load(bot.url, await prepare(keys, "command"));
    const row = (name: string, r: Awaited<ReturnType<typeof load>>) =>
      `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${
        r.p50.toFixed(2).padStart(6)
      } ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   ratio ${(r.rps / base.rps).toFixed(2)}x${
        r.failures ? `   FAILURES ${r.failures}` : ""
      }`;
    console.log(`interactions: ${REQUESTS} requests each, ${CONCURRENCY} concurrent clients`);
    console.log(row("baseline (serve + verify)", base));
    console.log(row("bot: signed PING", botPing));
    console.log(row("bot: signed command", botCommand));
    const target = 0.5;
    const pass = botPing.rps / base.rps >= target && botCommand.rps / base.rps >= target;
    console.log(`target: >= ${target}x baseline for both: ${pass ? "met" : "NOT met"}`);
    Object.assign(results, {
      bench: "interactions",
      baseline: base,
      ping: botPing,
      command: botCommand,
      pass,
    });
    console.log(JSON.stringify(results));
  } finally {
    await bot.stop();
    await baseline.stop();
  }
  return results;
}

if (import.meta.main) await main();
