/**
 * REST client benchmark: member-role writes through the Discord emulator (real HTTP on loopback),
 * measuring how close the client gets to the rate-limit-bound minimum without a single 429.
 *
 *   deno run --allow-net --allow-env --allow-read --allow-write bench/rest_bench.ts \
 *     [--writes 2000] [--scale 20] [--latency 0] [--case a|b|both]
 *
 * (a) every bucket and the global limit at 50 per second;
 * (b) Discord's member PATCH bucket (10 per 10 s) with the window shrunk `scale` times (default
 *     20: 10 per 500 ms), so 2,000 writes take ~100 s instead of 33 minutes. The global limit
 *     stays at 50/s.
 *
 * The bound: the first `limit` requests are free at t=0, then `limit` per window, so n writes
 * need at least (ceil(n / limit) - 1) windows. Targets: 0 429s and elapsed / bound <= 1.1.
 * The last line printed is one JSON object with every figure.
 */
import { RestClient } from "../lib/discord/rest.ts";
import { modifyMemberRoles } from "../lib/discord/api.ts";
import { startEmulator } from "../tests/emulator/server.ts";

const GUILD = "200000000000000001";

export interface CaseResult {
  name: string;
  description: string;
  writes: number;
  limit: number;
  windowMs: number;
  elapsedMs: number;
  boundMs: number;
  ratio: number;
  rateLimited: number;
  emulator429s: number;
  retries: number;
  ok: boolean;
}

export interface BenchOptions {
  writes: number;
  scale: number;
  latencyMs: number;
  cases: ("a" | "b")[];
}

/** Rate-limit-bound minimum: `limit` free at t=0, then `limit` per window. */
export function boundMs(writes: number, limit: number, windowMs: number): number {
  return Math.max(0, Math.ceil(writes / limit) - 1) * windowMs;
}

export function parseArgs(args: string[]): BenchOptions {
  const opts: BenchOptions = { writes: 2000, scale: 20, latencyMs: 0, cases: ["a", "b"] };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--writes":
        opts.writes = positive(flag, value());
        break;
      case "--scale":
        opts.scale = positive(flag, value());
        break;
      case "--latency":
        opts.latencyMs = Math.max(0, Number(value()) || 0);
        break;
      case "--case": {
        const v = value();
        opts.cases = v === "both" ? ["a", "b"] : v === "a" || v === "b" ? [v] : fail(flag, v);
        break;
      }
      default:
        fail("argument", args[i]);
    }
  }
  return opts;
}

function positive(flag: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) fail(flag, v);
  return n;
}

function fail(flag: string, v: string | undefined): never {
  throw new Error(`rest_bench: bad ${flag}: ${v}`);
}

async function runCase(
  name: string,
  description: string,
  writes: number,
  limit: number,
  windowMs: number,
  emulatorOptions: Parameters<typeof startEmulator>[0],
): Promise<CaseResult> {
  const emu = await startEmulator({ guilds: [{ members: writes }], ...emulatorOptions });
  const rest = new RestClient({ token: emu.token, apiBase: emu.discordBase });
  try {
    const guild = emu.state.guild(GUILD);
    const roles = guild.ethosRoles!;
    const targets = guild.members.page("0", writes + 100).filter((m) => !m.bot).map((m) => m.id);
    for (const id of targets) emu.state.setMemberRoles(GUILD, id, []);
    const tiers = [roles.exemplary, roles.reputable, roles.neutral, roles.questionable];
    emu.stats.reset();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        modifyMemberRoles(
          rest,
          GUILD,
          targets[i % targets.length],
          [tiers[i % tiers.length]],
          "rest bench",
        )),
    );
    const elapsedMs = performance.now() - started;
    const bound = boundMs(writes, limit, windowMs);
    const stats = rest.stats();
    const rateLimited = stats.rateLimited.user + stats.rateLimited.global +
      stats.rateLimited.shared;
    const landed = emu.stats.writes.length;
    if (landed !== writes) throw new Error(`rest_bench: ${landed} of ${writes} writes landed`);
    const ratio = bound > 0 ? elapsedMs / bound : 1;
    return {
      name,
      description,
      writes,
      limit,
      windowMs,
      elapsedMs: Math.round(elapsedMs),
      boundMs: bound,
      ratio: Math.round(ratio * 1000) / 1000,
      rateLimited,
      emulator429s: emu.stats.statuses[429] ?? 0,
      retries: stats.retries,
      ok: rateLimited === 0 && (emu.stats.statuses[429] ?? 0) === 0 && ratio <= 1.1,
    };
  } finally {
    await rest.close();
    await emu.close();
  }
}

export async function main(args: string[] = []): Promise<CaseResult[]> {
  const opts = parseArgs(args);
  const faults = opts.latencyMs ? { faults: { latencyMs: opts.latencyMs } } : {};
  const results: CaseResult[] = [];
  console.log(
    `REST bench: ${opts.writes} member-role writes (PATCH /guilds/:id/members/:id) per case ` +
      `through the Discord emulator on loopback${
        opts.latencyMs ? `, +${opts.latencyMs} ms latency` : ""
      }`,
  );
  if (opts.cases.includes("a")) {
    const r = await runCase(
      "a",
      "every bucket and the global limit at 50/s",
      opts.writes,
      50,
      1000,
      { uniformRate: 50, ...faults },
    );
    results.push(r);
    print(r);
  }
  if (opts.cases.includes("b")) {
    const windowMs = Math.round(10_000 / opts.scale);
    const r = await runCase(
      "b",
      `member PATCH 10 per 10 s, window scaled down x${opts.scale} to 10 per ${windowMs} ms ` +
        `(unscaled bound ${fmtS(boundMs(opts.writes, 10, 10_000))}); global 50/s`,
      opts.writes,
      10,
      windowMs,
      { limits: { memberPatch: { limit: 10, windowMs }, global: 50 }, ...faults },
    );
    results.push(r);
    print(r);
  }
  const ok = results.every((r) => r.ok);
  console.log(`targets (0 429s, ratio <= 1.1): ${ok ? "met" : "MISSED"}`);
  console.log(JSON.stringify({
    bench: "rest",
    writes: opts.writes,
    scale: opts.scale,
    latencyMs: opts.latencyMs,
    ok,
    cases: results,
  }));
  return results;
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function print(r: CaseResult): void {
  console.log(
    `(${r.name}) ${r.description}\n` +
      `    elapsed ${fmtS(r.elapsedMs)}, bound ${fmtS(r.boundMs)}, ratio ${r.ratio.toFixed(3)} ` +
      `(target <= 1.1), 429s ${r.emulator429s} (target 0), retries ${r.retries}`,
  );
}

if (import.meta.main) {
  const results = await main(Deno.args);
  if (!results.every((r) => r.ok)) Deno.exitCode = 1;
}
