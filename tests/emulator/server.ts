/**
 * Starts the Discord REST and Ethos emulator on 127.0.0.1. Tests, benchmarks and `make demo`
 * point the bot's base URLs at it:
 *
 *   const emu = await startEmulator({ guilds: [{ members: 100 }] });
 *   // DISCORD_API_BASE = emu.discordBase, ETHOS_API_BASE = emu.ethosBase
 *   await emu.close();
 */
import { createDiscordHandler, DISCORD_PREFIX } from "./discord.ts";
import { ETHOS_PREFIX, handleEthos } from "./ethos.ts";
import { FaultInjector } from "./faults.ts";
import {
  type AllLimits,
  type BearerLimits,
  DEFAULT_LIMITS,
  type EmulatorLimits,
  InvalidRequestTracker,
  RateLimiter,
  uniformLimits,
} from "./ratelimit.ts";
import { handleAuthorize, OAUTH_AUTHORIZE_PATH } from "./routes_oauth.ts";
import type { SeedGuildOptions } from "./seed.ts";
import { EmulatorState } from "./state.ts";
import { EmulatorStats } from "./stats.ts";

export type { AllLimits, BearerLimits, BucketSpec, EmulatorLimits } from "./ratelimit.ts";
export { DEFAULT_LIMITS, uniformLimits } from "./ratelimit.ts";
export type { SeedGuildOptions, Tier } from "./seed.ts";
export { DEFAULT_GUILD_ID, DEFAULT_TIER_THRESHOLDS, tierForScore, TIERS } from "./seed.ts";
export { EmulatorState } from "./state.ts";
export type { EthosControls, Forced429, NewMember, UserRecord } from "./state.ts";
export { EmulatorStats } from "./stats.ts";
export type { OAuthStats, RateLimitScope, RoleConnectionPut, WriteRecord } from "./stats.ts";
export {
  ACCESS_TOKEN_LIFETIME_S,
  DEFAULT_CLIENT_SECRET,
  OAUTH_SCOPES,
  OAuthStore,
} from "./oauth.ts";
export type { AuthorizeRecord, OAuthGrant, TokenResponse } from "./oauth.ts";
export type { MetadataRecord, RoleConnection } from "./role_connections.ts";
export type { ChannelRecord, EmulatedGuild, EthosRoleIds } from "./guild.ts";
export type { MemberRecord } from "./members.ts";
export type { WebhookMessage } from "./interactions.ts";
export { discordUserkey, ethosLevel } from "./ethos.ts";

export const DEFAULT_TOKEN = "emulator-bot-token-0123456789";
export const DEFAULT_APPLICATION_ID = "100000000000000001";

export interface EmulatorOptions {
  /** 0 or undefined: a free port. */
  port?: number;
  /** Accepted bot token ("Authorization: Bot <token>"). */
  token?: string;
  applicationId?: string;
  /** Default: the application id, as for real bots. */
  botUserId?: string;
  limits?: Partial<EmulatorLimits> & BearerLimits;
  /** Preset: all buckets and the global limit at `n` per second (the "fast" benchmark case). */
  uniformRate?: number;
  /** Share of non-interaction Discord answers replaced by 500/502 (write not done), added latency. */
  faults?: { errorRate?: number; latencyMs?: number; seed?: number };
  seed?: number;
  /** Guilds to seed at start; default one guild of 50 members with id DEFAULT_GUILD_ID. */
  guilds?: SeedGuildOptions[];
  /** Invalid requests (401/403/429) in 10 minutes after which everything is refused; 10_000. */
  invalidRequestBanThreshold?: number;
  /** false: listing members answers 403 50001, as without the GUILD_MEMBERS intent. */
  membersIntent?: boolean;
  /** Clock for rate-limit windows, token lifetimes and timestamps; default Date.now. */
  clock?: { now(): number };
  /** OAuth2 client secret the token endpoint accepts; default DEFAULT_CLIENT_SECRET. */
  clientSecret?: string;
}

export interface Emulator {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** `${url}/api/v10` */
  discordBase: string;
  /** `${url}/ethos/api/v2` */
  ethosBase: string;
  /**
   * `${url}/oauth2/authorize`, the emulator's https://discord.com/oauth2/authorize (also served
   * at `${discordBase}/oauth2/authorize`). Token exchange: `${discordBase}/oauth2/token`.
   */
  oauthAuthorizeUrl: string;
  token: string;
  applicationId: string;
  botUserId: string;
  state: EmulatorState;
  stats: EmulatorStats;
  setLimits(limits: Partial<EmulatorLimits> & BearerLimits): void;
  setFaults(faults: { errorRate?: number; latencyMs?: number }): void;
  /** Empties every bucket, the global window, the invalid-request window and any ban. */
  resetRateLimits(): void;
  /** Current limits in force. */
  readonly limits: Readonly<AllLimits>;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const token = options.token ?? DEFAULT_TOKEN;
  const applicationId = options.applicationId ?? DEFAULT_APPLICATION_ID;
  const botUserId = options.botUserId ?? applicationId;
  const seed = options.seed ?? 1;
  const now = options.clock ? () => options.clock!.now() : () => Date.now();

  const state = new EmulatorState({
    applicationId,
    botUserId,
    botUsername: "Ethos Bot",
    seed,
    now,
  });
  state.membersIntent = options.membersIntent ?? true;
  if (options.clientSecret !== undefined) state.oauth.clientSecret = options.clientSecret;
  for (const g of options.guilds ?? [{ members: 50 }]) state.addGuild(g);

  const stats = new EmulatorStats();
  const base = options.uniformRate !== undefined
    ? uniformLimits(options.uniformRate)
    : { ...DEFAULT_LIMITS };
  const limiter = new RateLimiter({ ...base }, now);
  if (options.limits) limiter.setLimits(options.limits);
  const invalid = new InvalidRequestTracker(options.invalidRequestBanThreshold ?? 10_000, now);
  const faults = new FaultInjector(options.faults, seed);

  const timers = new Set<ReturnType<typeof setTimeout>>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const id = setTimeout(() => {
        timers.delete(id);
        resolve();
      }, ms);
      timers.add(id);
    });

  const discord = createDiscordHandler({
    state,
    stats,
    limiter,
    invalid,
    faults,
    token,
    applicationId,
    botUserId,
    sleep,
  });

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === OAUTH_AUTHORIZE_PATH || path === DISCORD_PREFIX + OAUTH_AUTHORIZE_PATH) {
      await req.body?.cancel();
      return handleAuthorize(req, url, { state, stats, applicationId });
    }
    if (path === DISCORD_PREFIX || path.startsWith(DISCORD_PREFIX + "/")) {
      return await discord(req, url);
    }
    if (path.startsWith(ETHOS_PREFIX + "/")) {
      return await handleEthos(req, url, state, stats, sleep);
    }
    await req.body?.cancel();
    return new Response(JSON.stringify({ message: "404: Not Found", code: 0 }), {
      status: 404,
      headers: { "content-type": "application/json" },
    });
  };

  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
    onError: (error) => {
      console.error("emulator: handler failed", error);
      return new Response(JSON.stringify({ message: "500: Internal Server Error", code: 0 }), {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    },
  }, handler);
  const addr = await listening.promise;
  const url = `http://127.0.0.1:${addr.port}`;

  let closed: Promise<void> | undefined;
  return {
    url,
    discordBase: url + DISCORD_PREFIX,
    ethosBase: url + ETHOS_PREFIX,
    oauthAuthorizeUrl: url + OAUTH_AUTHORIZE_PATH,
    token,
    applicationId,
    botUserId,
    state,
    stats,
    get limits() {
      return limiter.limits;
    },
    setLimits: (limits) => limiter.setLimits(limits),
    setFaults: (f) => faults.set(f),
    resetRateLimits() {
      limiter.reset();
      invalid.reset();
      state.clearForced429();
    },
    close() {
      closed ??= (async () => {
        await server.shutdown();
        for (const id of timers) clearTimeout(id);
        timers.clear();
      })();
      return closed;
    },
  };
}
