/**
 * Interactions throughput, latency and server CPU at 32 concurrent clients against the bot as
 * mod.ts composes it (lib/bot.ts), next to a bare Deno.serve + WebCrypto-verify baseline measured
 * in the same run: signed PING, and signed slash commands: /help (read-only: verify, parse,
 * dispatch, a reply with three signed custom IDs, no KV) and /ethos_sync_status (the full gate:
 * idempotency claim and cooldown in one commit, a KV read, the response recorded for duplicate
 * deliveries). Each server reports its own CPU time (user + system, all threads) over its stdin
 * side channel before and after each phase. Targets: PING costs at most 1/0.85 of the baseline's
 * CPU per request (baseline CPU/req ÷ bot CPU/req >= 0.85), and /help reaches 0.6x the baseline's
 * request rate.
 *
 * The servers are measured in turn, round after round (in order on half of a round's requests, then
 * in reverse order on the other half), and each figure is the median over rounds: on a small
 * shared machine the speed of the whole box drifts, and a ratio taken within one round compares
 * like with like.
 *
 * `--against=<dir>` adds a third server, the bot of another checkout of this repository (say, a
 * `git worktree` of the commit before a change), to every round: the change's cost
 * is then measured within the same rounds as the rest, e.g. `bot CPU/req ÷ against CPU/req`.
 *
 *   deno run -A bench/interactions_bench.ts [--requests=8000] [--concurrency=32] [--rounds=5]
 *     [--bot-flags="--cpu-prof --cpu-prof-dir=bench/out/prof"] [--against=/tmp/before]
 */
import { APP_ID, commandInteraction, signingKeys } from "../tests/_harness.ts";

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const REQUESTS = arg("requests", 8000);
const CONCURRENCY = arg("concurrency", 32);
const ROUNDS = arg("rounds", 5);

interface Server {
  url: string;
  /** The server process's CPU time so far, user + system, in µs (all its threads). */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

/** Deno flags for the bot's process, e.g. `--bot-flags=--cpu-prof --cpu-prof-dir=bench/out`. */
const BOT_FLAGS = (Deno.args.find((a) => a.startsWith("--bot-flags="))?.slice(12) ?? "")
  .split(" ").filter(Boolean);

/** Another checkout's bot, measured beside this one (see the module doc). */
const AGAINST = Deno.args.find((a) => a.startsWith("--against="))?.slice(10);

async function startServer(
  mode: string,
  key: string,
  script = new URL("./interactions_server.ts", import.meta.url).pathname,
): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(mode === "bot" ? BOT_FLAGS : []),
      script,
      `--mode=${mode}`,
      `--key=${key}`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const enc = new TextEncoder();
  // The side channel's answers, in order; any other line (the bot's logs) goes to stderr.
  const ready = Promise.withResolvers<number>();
  const cpuWaiters: ((us: number) => void)[] = [];
  const pump = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let msg: { port?: number; cpu?: { user: number; system: number } } = {};
        try {
          msg = JSON.parse(line);
        } catch { /* a log line */ }
        if (typeof msg.port === "number") ready.resolve(msg.port);
        else if (msg.cpu) cpuWaiters.shift()?.(msg.cpu.user + msg.cpu.system);
        else console.error(`[${mode}] ${line}`);
      }
    }
    ready.reject(new Error(`${mode} server exited`));
  })();
  const port = await ready.promise;
  return {
    url: `http://127.0.0.1:${port}/interactions`,
    async cpu() {
      const answer = new Promise<number>((resolve) => cpuWaiters.push(resolve));
      await stdin.write(enc.encode("cpu\n"));
      return await answer;
    },
    async stop() {
      await stdin.write(enc.encode("exit\n")).catch(() => {});
      await stdin.close().catch(() => {});
      await child.status;
      await pump;
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

interface Phase {
  latencies: number[];
  seconds: number;
  cpuUs: number;
  failures: number;
}

async function load(server: Server, requests: Prepared[]): Promise<Phase> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const cpuBefore = await server.cpu();
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < requests.length) {
      const r = requests[next++];
      const t0 = performance.now();
      const res = await fetch(server.url, {
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
  return { latencies, seconds, cpuUs: (await server.cpu()) - cpuBefore, failures };
}

/** One server's figures in one round, from its phases (both halves of the round). */
function combine(phases: Phase[]) {
  const latencies = phases.flatMap((p) => p.latencies).sort((a, b) => a - b);
  const n = latencies.length;
  const sum = (f: (p: Phase) => number) => phases.reduce((t, p) => t + f(p), 0);
  const pct = (p: number) => latencies[Math.min(n - 1, Math.floor(n * p))];
  return {
    rps: n / sum((p) => p.seconds),
    cpuUs: sum((p) => p.cpuUs) / n,
    p50: pct(0.5),
    p99: pct(0.99),
    failures: sum((p) => p.failures),
  };
}

type Result = ReturnType<typeof combine>;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function main() {
  const keys = await signingKeys();
  const baseline = await startServer("baseline", keys.publicKeyHex);
  const bot = await startServer("bot", keys.publicKeyHex);
  const against = AGAINST
    ? await startServer("bot", keys.publicKeyHex, `${AGAINST}/bench/interactions_server.ts`)
    : undefined;
  const results: Record<string, unknown> = {};
  try {
    const warm = await prepare(keys, "ping", 2 * ROUNDS);
    const warmHelp = await prepare(keys, "help", 2 * ROUNDS + 1);
    await load(baseline, warm);
    await load(bot, warm);
    await load(bot, warmHelp);
    if (against) {
      await load(against, warm);
      await load(against, warmHelp);
    }
    // Rounds of baseline / PING / help first, then rounds of baseline / the KV-heavy command, so
    // the records and expiring cooldowns the latter leaves in KV do not slow the former. Each round
    // runs its servers in order on half its requests, then in reverse order on the other half, so
    // a drift of the machine's speed within the round weighs on every server alike.
    const rounds = async (kinds: Kind[], offset: number, other?: Server) => {
      const bases: Result[] = [];
      const rows = new Map<string, Result[]>(
        kinds.flatMap((k) => other ? [[k, []], [`against:${k}`, []]] : [[k, []]]),
      );
      for (let round = 0; round < ROUNDS; round++) {
        const requests = new Map<Kind, Prepared[]>();
        for (const kind of ["ping" as const, ...kinds]) {
          requests.set(kind, await prepare(keys, kind, offset + round));
        }
        const order = [
          { kind: "baseline" as const, server: baseline, requests: requests.get("ping")! },
          ...kinds.flatMap((kind) => [
            { kind, server: bot, requests: requests.get(kind)! },
            ...(other
              ? [{ kind: `against:${kind}`, server: other, requests: requests.get(kind)! }]
              : []),
          ]),
        ];
        const phases = new Map<string, Phase[]>(order.map((o) => [o.kind, []]));
        const half = Math.floor(REQUESTS / 2);
        for (const o of order) {
          phases.get(o.kind)!.push(await load(o.server, o.requests.slice(0, half)));
        }
        for (const o of [...order].reverse()) {
          phases.get(o.kind)!.push(await load(o.server, o.requests.slice(half)));
        }
        bases.push(combine(phases.get("baseline")!));
        for (const [kind, results] of rows) results.push(combine(phases.get(kind)!));
      }
      return { bases, rows };
    };
    const first = await rounds(["ping", "help"], 0, against);
    const second = await rounds(["ethos_sync_status"], ROUNDS, against);
    // Per round: req/s ratio (bot / baseline) and CPU ratio (baseline CPU/req ÷ bot CPU/req).
    const summary = (rs: Result[], bases: Result[]) => {
      const ratios = rs.map((r, i) => r.rps / bases[i].rps);
      const cpuRatios = rs.map((r, i) => bases[i].cpuUs / r.cpuUs);
      return {
        rps: median(rs.map((r) => r.rps)),
        cpuUs: median(rs.map((r) => r.cpuUs)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        failures: rs.reduce((n, r) => n + r.failures, 0),
        ratio: median(ratios),
        ratios,
        cpuRatio: median(cpuRatios),
        cpuRatios,
        rounds: rs.map((r) => ({ rps: r.rps, cpuUs: r.cpuUs })),
      };
    };
    const base = summary(first.bases, first.bases);
    const baseSecond = summary(second.bases, second.bases);
    const ping = summary(first.rows.get("ping")!, first.bases);
    const help = summary(first.rows.get("help")!, first.bases);
    const claimed = summary(second.rows.get("ethos_sync_status")!, second.bases);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
    const row = (name: string, r: ReturnType<typeof summary>) =>
      `${name.padEnd(34)} ${r.rps.toFixed(0).padStart(6)} req/s ${
        r.cpuUs.toFixed(0).padStart(5)
      } µs CPU/req   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${
        r.p99.toFixed(2).padStart(6)
      } ms   req/s ${r.ratio.toFixed(2)}x (${list(r.ratios)})   CPU ${r.cpuRatio.toFixed(2)}x (${
        list(r.cpuRatios)
      })${r.failures ? `   FAILURES ${r.failures}` : ""}`;
    console.log(
      `interactions: ${REQUESTS} requests per server per round, ${CONCURRENCY} concurrent clients, ` +
        `medians of ${ROUNDS} rounds; ratios within each round: req/s bot / baseline, ` +
        `CPU baseline CPU/req ÷ bot CPU/req`,
    );
    console.log(row("baseline (serve + verify)", base));
    console.log(row("bot: signed PING", ping));
    console.log(row("bot: signed /help", help));
    let versus: Record<string, unknown> | undefined;
    if (against) {
      const aPing = summary(first.rows.get("against:ping")!, first.bases);
      const aHelp = summary(first.rows.get("against:help")!, first.bases);
      console.log(row("against: signed PING", aPing));
      console.log(row("against: signed /help", aHelp));
      // Within each round: this bot's CPU/req over the other's (above 1: this one costs more).
      const cost = (mine: Result[], theirs: Result[]) =>
        median(mine.map((r, i) => r.cpuUs / theirs[i].cpuUs));
      const aClaimed = summary(second.rows.get("against:ethos_sync_status")!, second.bases);
      versus = {
        pingCpu: cost(first.rows.get("ping")!, first.rows.get("against:ping")!),
        claimedCpu: cost(
          second.rows.get("ethos_sync_status")!,
          second.rows.get("against:ethos_sync_status")!,
        ),
        claimed: aClaimed,
        helpCpu: cost(first.rows.get("help")!, first.rows.get("against:help")!),
        helpRps: median(
          first.rows.get("help")!.map((r, i) => r.rps / first.rows.get("against:help")![i].rps),
        ),
        ping: aPing,
        help: aHelp,
      };
      console.log(
        `bot vs against (${AGAINST}), medians of per-round ratios: PING CPU/req ${
          (versus.pingCpu as number).toFixed(3)
        }x, /help CPU/req ${(versus.helpCpu as number).toFixed(3)}x, /help req/s ${
          (versus.helpRps as number).toFixed(3)
        }x, /ethos_sync_status CPU/req ${(versus.claimedCpu as number).toFixed(3)}x`,
      );
    }
    console.log(row("baseline (second phase)", baseSecond));
    console.log(row("bot: signed /ethos_sync_status", claimed));
    if (versus) {
      console.log(row("against: signed /ethos_sync_status", versus.claimed as typeof claimed));
    }
    const targets = {
      pingCpu: 0.85,
      helpRps: 0.6,
    };
    const failures = ping.failures + help.failures + claimed.failures + base.failures;
    const pass = ping.cpuRatio >= targets.pingCpu && help.ratio >= targets.helpRps && !failures;
    console.log(
      `targets: PING CPU ratio >= ${targets.pingCpu} (${
        ping.cpuRatio.toFixed(2)
      }), /help >= ${targets.helpRps}x ` +
        `baseline req/s (${help.ratio.toFixed(2)}), no failures: ${pass ? "met" : "NOT met"}`,
    );
    Object.assign(results, {
      bench: "interactions",
      baseline: base,
      ping,
      help,
      baselineSecond: baseSecond,
      claimed,
      ...(versus ? { against: versus } : {}),
      targets,
      pass,
    });
    console.log(JSON.stringify(results));
  } finally {
    await bot.stop();
    await against?.stop();
    await baseline.stop();
  }
  return results;
}

if (import.meta.main) await main();
