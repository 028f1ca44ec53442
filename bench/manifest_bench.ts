/**
 * Command manifest sync: Discord calls and time for a manifest of 100 commands, unchanged and
 * changed, against the emulator (local HTTP, no added latency), next to their bounds and to the
 * naive baseline (a bulk overwrite on every start), measured in the same run.
 *
 *   deno run -A bench/manifest_bench.ts [--commands 100] [--runs 20] [--latency 100]
 *
 * Prints one line per case, then one JSON line.
 */
import type { RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import { systemClock } from "../lib/clock.ts";
import { silentLogger } from "../lib/log/log.ts";
import { RestClient } from "../lib/discord/rest.ts";
import { bulkOverwriteCommands } from "../lib/discord/api.ts";
import { validateManifest } from "../lib/manifest/validate.ts";
import { fingerprint } from "../lib/manifest/canonical.ts";
import { DEFAULT_TUNING, type ManifestEnv } from "../lib/manifest/env.ts";
import { diffCommands, syncCommands } from "../lib/manifest/sync.ts";
import { startEmulator } from "../tests/emulator/server.ts";

const PUT = "PUT /applications/:app/commands";

/** `n` valid chat-input commands with a few options each, like a real bot's. */
export function syntheticManifest(n: number): RESTPostAPIApplicationCommandsJSONBody[] {
  return Array.from({ length: n }, (_, i) => {
    const id = String(i).padStart(3, "0");
    return {
      type: 1,
      name: `bench_${id}`,
      description: `Synthetic command number ${id} for the manifest benchmark`,
      default_member_permissions: i % 4 === 0 ? "32" : null,
      contexts: [0],
      integration_types: [0],
      nsfw: false,
      options: [
        {
          type: 3,
          name: "mode",
          description: "How to run it",
          required: true,
          choices: [{ name: "Fast", value: "fast" }, { name: "Careful", value: "careful" }],
        },
        { type: 4, name: "count", description: "How many", min_value: 1, max_value: 100 },
        { type: 6, name: "user", description: "Who it is about" },
      ],
    } as RESTPostAPIApplicationCommandsJSONBody;
  });
}

interface Case {
  name: string;
  /** Discord requests (emulator count). */
  calls: number;
  bulkCalls: number;
  creates: number;
  ms: number;
  bound: string;
  ok: boolean;
}

function arg(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function main(): Promise<Case[]> {
  const n = arg("commands", 100);
  const runs = arg("runs", 20);
  const manifest = syntheticManifest(n);
  const problems = validateManifest(manifest);
  if (problems.length) throw new Error(`synthetic manifest invalid: ${problems.join("; ")}`);

  const emu = await startEmulator({ guilds: [{ members: 1 }], uniformRate: 10_000 });
  const kv = await Deno.openKv(":memory:");
  const rest = new RestClient({
    token: emu.token,
    apiBase: emu.discordBase,
    maxRateLimitRetries: 0,
    globalLimit: 10_000,
  });
  const env: ManifestEnv = {
    kv,
    clock: systemClock,
    log: silentLogger,
    rest,
    applicationId: emu.applicationId,
    manifest,
    guildIds: [],
    forceSync: false,
    autoSync: false,
    syncOnStart: false,
    tuning: { ...DEFAULT_TUNING },
  };
  const cases: Case[] = [];
  const measure = async (
    name: string,
    bound: string,
    check: (c: Omit<Case, "name" | "bound" | "ok">) => boolean,
    fn: () => Promise<unknown>,
    repeat = 1,
  ) => {
    const times: number[] = [];
    let calls = 0;
    let bulkCalls = 0;
    let creates = 0;
    for (let i = 0; i < repeat; i++) {
      const before = emu.stats.totalRequests;
      const puts = emu.stats.requests[PUT] ?? 0;
      const made = emu.state.commands.createsToday("global");
      const t0 = performance.now();
      await fn();
      times.push(performance.now() - t0);
      calls = emu.stats.totalRequests - before;
      bulkCalls = (emu.stats.requests[PUT] ?? 0) - puts;
      creates = emu.state.commands.createsToday("global") - made;
    }
    const c = { calls, bulkCalls, creates, ms: Math.round(median(times) * 100) / 100 };
    const result: Case = { name, ...c, bound, ok: check(c) };
    cases.push(result);
    console.log(
      `${result.ok ? "ok  " : "MISS"} ${name.padEnd(44)} ${String(c.calls).padStart(2)} calls ` +
        `(${c.bulkCalls} bulk, ${c.creates} creates)  ${c.ms.toFixed(2).padStart(8)} ms  ` +
        `bound: ${bound}`,
    );
  };

  try {
    console.log(`manifest of ${n} commands; times are medians of ${runs} runs where repeated`);
    await measure(
      "fingerprint (canonical form + SHA-256)",
      "0 calls",
      (c) => c.calls === 0,
      () => fingerprint(manifest),
      runs,
    );
    await measure(
      "first sync (all new)",
      `2 calls, 1 bulk, ${n} creates`,
      (c) => c.calls === 2 && c.bulkCalls === 1 && c.creates === n,
      () => syncCommands(env, { trigger: "bench" }),
    );
    await measure(
      "unchanged manifest (every later start)",
      "0 calls",
      (c) => c.calls === 0,
      () => syncCommands(env, { trigger: "bench" }),
      runs,
    );
    const ids = new Set(emu.state.commandList().map((c) => c.id));
    let version = 0;
    await measure(
      "changed manifest (1 description edited)",
      "2 calls, 1 bulk, 0 creates",
      (c) => c.calls === 2 && c.bulkCalls === 1 && c.creates === 0,
      () => {
        env.manifest = manifest.map((c, i) =>
          i === 7 ? { ...c, description: `Edited description, version ${++version}` } : c
        );
        return syncCommands(env, { trigger: "bench" });
      },
      runs,
    );
    const kept = emu.state.commandList().every((c) => ids.has(c.id));
    await measure(
      "diff against Discord",
      "1 call",
      (c) => c.calls === 1,
      () => diffCommands(env),
      runs,
    );
    await measure(
      "baseline: bulk overwrite on every start",
      "1 call, 1 bulk (what the sync avoids)",
      (c) => c.calls === 1,
      () => bulkOverwriteCommands(rest, emu.applicationId, env.manifest),
      runs,
    );
    // The same with a Discord-like round trip on every request.
    const latency = arg("latency", 100);
    emu.setFaults({ latencyMs: latency });
    const few = Math.max(1, Math.min(runs, 5));
    await measure(
      `unchanged, ${latency} ms Discord latency`,
      "0 calls",
      (c) => c.calls === 0,
      () => syncCommands(env, { trigger: "bench" }),
      few,
    );
    await measure(
      `changed, ${latency} ms Discord latency`,
      "2 calls, 1 bulk, 0 creates",
      (c) => c.calls === 2 && c.bulkCalls === 1 && c.creates === 0,
      () => {
        env.manifest = manifest.map((c, i) =>
          i === 7 ? { ...c, description: `Edited description, version ${++version}` } : c
        );
        return syncCommands(env, { trigger: "bench" });
      },
      few,
    );
    await measure(
      `baseline, ${latency} ms Discord latency`,
      "1 call, 1 bulk (what the sync avoids)",
      (c) => c.calls === 1,
      () => bulkOverwriteCommands(rest, emu.applicationId, env.manifest),
      few,
    );
    emu.setFaults({ latencyMs: 0 });
    console.log(`ids kept across changed syncs: ${kept ? "yes" : "NO"}`);
    const ok = kept && cases.every((c) => c.ok);
    console.log(`targets (calls within bounds, ids kept): ${ok ? "met" : "MISSED"}`);
    console.log(
      JSON.stringify({
        bench: "manifest",
        commands: n,
        runs,
        latencyMs: latency,
        ok,
        idsKept: kept,
        cases,
      }),
    );
    return cases;
  } finally {
    await rest.close();
    kv.close();
    await emu.close();
  }
}

if (import.meta.main) {
  const cases = await main();
  if (!cases.every((c) => c.ok)) Deno.exitCode = 1;
}
