/**
 * Test helpers for the manifest engine: an emulator, in-memory KV, a manual clock and a
 * `ManifestEnv` wired to them. The engine's RestClient does not retry 429s, as in production.
 */
import { validateManifest } from "../../lib/manifest/validate.ts";
import { type RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { DEFAULT_TUNING, type ManifestEnv } from "../../lib/manifest/env.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/server.ts";
import { createRegistry } from "../../lib/interactions/registry.ts";
import { commands } from "../../lib/commands/mod.ts";

export const G1 = "200000000000000001";
export const G2 = "200000000000000002";
export const PUT_GLOBAL = "PUT /applications/:app/commands";
export const GET_GLOBAL = "GET /applications/:app/commands";
export const PUT_GUILD = "PUT /applications/:app/guilds/:guild/commands";

/** The bot's real manifest. */
export function botManifest(): RESTPostAPIApplicationCommandsJSONBody[] {
  return createRegistry(commands, validateManifest).manifest();
}

export function commandRestFor(
  emu: Emulator,
  opts: { fetch?: typeof fetch } = {},
): RestClient {
  return new RestClient({
    token: emu.token,
    apiBase: emu.discordBase,
    maxRateLimitRetries: 0,
    maxRetries: 0,
    fetch: opts.fetch,
  });
}

export interface Ctx {
  emu: Emulator;
  kv: Deno.Kv;
  clock: ManualClock;
  log: ReturnType<typeof memoryLogger>;
  env: ManifestEnv;
  /** A fresh client, as a new isolate would have (the old one may hold a paused bucket). */
  newRest(opts?: { fetch?: typeof fetch }): RestClient;
  /** Discord requests on a route key ("PUT /applications/:app/commands"), or all. */
  requests(route?: string): number;
}

export async function withManifest(
  opts: {
    emulator?: EmulatorOptions;
    env?: Partial<ManifestEnv>;
    fetch?: typeof fetch;
  },
  fn: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({ guilds: [{ members: 1 }], ...opts.emulator });
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(Date.UTC(2026, 10, 22, 12));
  const log = memoryLogger();
  const env: ManifestEnv = {
    kv,
    clock,
    log,
    rest: commandRestFor(emu, { fetch: opts.fetch }),
    applicationId: emu.applicationId,
    manifest: botManifest(),
    guildIds: [],
    forceSync: false,
    autoSync: false,
    syncOnStart: false,
    tuning: { ...DEFAULT_TUNING, guildSpacingMs: 1_000 },
    ...opts.env,
  };
  try {
    await fn({
      emu,
      kv,
      clock,
      log,
      env,
      newRest: (o) => commandRestFor(emu, o),
      requests: (route) => route ? emu.stats.requests[route] ?? 0 : emu.stats.totalRequests,
    });
  } finally {
    kv.close();
    await emu.close();
  }
}

/**
 * Awaits `promise` while moving the manual clock through the engine's sleeps (the per-guild
 * spacing), recording each step.
 */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, stepMs: number) {
  let settled = false;
  const steps: number[] = [];
  const done = promise.finally(() => settled = true);
  while (!settled) {
    await new Promise((r) => setTimeout(r, 1));
    if (!settled && clock.pending > 0) {
      steps.push(clock.now());
      clock.advance(stepMs);
    }
  }
  return { value: await done, steps };
}
