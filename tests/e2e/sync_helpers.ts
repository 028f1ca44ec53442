/**
 * End-to-end fixture for the role sync: the Discord + Ethos emulator, and the bot built
 * in-process against it (real RestClient, real HTTP server for SELF_URL self-chaining, in-memory
 * KV), driven through its HTTP routes. Also the rule, re-derived independently from the
 * emulator's state, to check every member's final roles.
 */
import type { Emulator } from "../emulator/server.ts";
import type { Logger } from "../../lib/log/log.ts";
import type { JobProgress } from "../../lib/jobs/progress.ts";
import {
  type BotFixture,
  emulatorCallback,
  fixtureStarter,
  type InProcessBot,
  pollUntil,
  startInProcessBot,
} from "../_bot.ts";

export const GUILD = "200000000000000001";
export const TOKEN = "sync-test-token-0123456789abcdef";

export interface BotOptions {
  env?: Record<string, string>;
  /** Serve over HTTP and set SELF_URL (self-chaining continuations). Default true. */
  serve?: boolean;
  kv?: Deno.Kv;
  /** The REST client keeps bucket state and learned limits in the KV, as the deployed bot does. */
  restKv?: boolean;
  log?: Logger;
}

export interface TestBot extends InProcessBot {
  trigger(
    body?: unknown,
    query?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  status(): Promise<JobProgress & { guildId: string }>;
  stop(): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Polls the status until `pred` holds (default: the run completed). */
  waitFor(pred?: (p: JobProgress) => boolean, timeoutMs?: number): Promise<JobProgress>;
  /**
   * Posts a signed interaction, as Discord would. The emulator is told about the interaction
   * first (a deferred callback), so follow-ups and edits of the original land there.
   */
  interact(payload: { id: string; token: string }): Promise<Record<string, unknown>>;
}

export type Fixture = BotFixture<TestBot>;

/** Fast defaults: every bucket and the global limit at 200/s, small chunks, quick checkpoints. */
export const startFixture = fixtureStarter(
  { uniformRate: 200, guilds: [{ members: 200 }] },
  startBot,
);

export async function startBot(emu: Emulator, o: BotOptions = {}): Promise<TestBot> {
  const serve = o.serve ?? true;
  const { bot: base, postInteraction } = await startInProcessBot(emu, {
    guildId: GUILD,
    token: TOKEN,
    serve,
    selfUrl: serve,
    kv: o.kv,
    restKv: o.restKv,
    log: o.log,
    env: {
      SYNC_PATCH_LIMIT: `${emu.limits.memberPatch.limit}/${emu.limits.memberPatch.windowMs}ms`,
      SYNC_ROLE_LIMIT: `${emu.limits.memberRole.limit}/${emu.limits.memberRole.windowMs}ms`,
      ETHOS_CLIENT: "ethos-discord-bot-tests@0.1.0",
      ...o.env,
    },
  });
  const { request } = base;
  const bot: TestBot = {
    ...base,
    async trigger(body = {}, query = "") {
      const res = await request("POST", `/trigger-sync${query}`, body);
      return { status: res.status, body: await res.json() };
    },
    async status() {
      const res = await request("GET", "/sync-status");
      if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
      return await res.json();
    },
    async stop() {
      const res = await request("POST", "/stop-sync");
      return { status: res.status, body: await res.json() };
    },
    waitFor(pred = (p) => p.state === "completed", timeoutMs = 60_000) {
      return pollUntil<JobProgress>(
        () => bot.status(),
        pred,
        timeoutMs,
        25,
        (last) => new Error(`timed out waiting; last status: ${JSON.stringify(last)}`),
      );
    },
    async interact(payload) {
      await emulatorCallback(emu, payload, { type: 5, data: { flags: 64 } });
      const res = await postInteraction(payload);
      if (res.status !== 200) {
        throw new Error(`interaction answered ${res.status}: ${await res.text()}`);
      }
      return await res.json();
    },
  };
  return bot;
}

// --- the rule, re-derived from the emulator's state ------------------------------------------

export interface RuleEnv {
  verified: string;
  profile?: string;
  tiers: { roleId: string; minScore: number }[];
}

export function ruleEnvOf(emu: Emulator, guildId = GUILD): RuleEnv {
  const r = emu.state.guild(guildId).ethosRoles!;
  return {
    verified: r.verified,
    profile: r.profile,
    tiers: [
      { roleId: r.exemplary, minScore: 2000 },
      { roleId: r.reputable, minScore: 1800 },
      { roleId: r.neutral, minScore: 1200 },
      { roleId: r.questionable, minScore: 800 },
      { roleId: r.untrusted, minScore: 0 },
    ],
  };
}

/** The managed roles a member should hold, or null for members the rule leaves alone (bots). */
export function expectedManaged(emu: Emulator, userId: string, env: RuleEnv, guildId = GUILD) {
  const m = emu.state.member(guildId, userId);
  if (!m || m.bot) return null;
  if (!m.roles.includes(env.verified)) return [];
  const score = emu.state.score(userId);
  if (score === undefined) return [];
  const tier = [...env.tiers].sort((a, b) => b.minScore - a.minScore).find((t) =>
    score >= t.minScore
  );
  return [...(tier ? [tier.roleId] : []), ...(env.profile ? [env.profile] : [])].sort();
}

export function managedSet(env: RuleEnv): Set<string> {
  return new Set([...env.tiers.map((t) => t.roleId), ...(env.profile ? [env.profile] : [])]);
}

/** Members whose managed roles differ from the rule: [] when the guild is in sync. */
export function outOfSync(emu: Emulator, guildId = GUILD, exclude: Set<string> = new Set()) {
  const env = ruleEnvOf(emu, guildId);
  const managed = managedSet(env);
  const bad: { id: string; has: string[]; want: string[] }[] = [];
  for (const m of emu.state.guild(guildId).members.values()) {
    if (exclude.has(m.id)) continue;
    const want = expectedManaged(emu, m.id, env, guildId);
    if (want === null) continue;
    const has = m.roles.filter((r) => managed.has(r)).sort();
    if (has.join() !== want.join()) bad.push({ id: m.id, has, want });
  }
  return bad;
}

/** How many member writes a perfect run needs: members whose managed roles differ. */
export function membersNeedingChange(emu: Emulator, guildId = GUILD): number {
  return outOfSync(emu, guildId).length;
}

/** Every member's full role list, for before/after comparisons. */
export function snapshotRoles(emu: Emulator, guildId = GUILD): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of emu.state.guild(guildId).members.values()) out.set(m.id, [...m.roles].sort());
  return out;
}

/** Member role writes per member id (PATCH and PUT/DELETE). */
export function writesByMember(emu: Emulator): Map<string, number> {
  const out = new Map<string, number>();
  for (const w of emu.stats.writes) {
    const m = /\/guilds\/\d+\/members\/(\d+)/.exec(w.path);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + 1);
  }
  return out;
}
