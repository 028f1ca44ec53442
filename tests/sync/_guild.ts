/**
 * One emulated guild (tests/emulator) and the deps bag pointed at it, for the sync modules' unit
 * tests that need real Discord and Ethos answers: in-memory KV, the system clock (the sync's
 * pacing sleeps on it), the environment's roles for the guild, and helpers to pick members.
 */
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { botEnvFor } from "../emulator/bot_env.ts";
import type { EthosRoleIds } from "../emulator/server.ts";
import { systemClock } from "../../lib/clock.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";

export const GUILD = "200000000000000001";

export interface GuildFixture {
  emu: Emulator;
  deps: AppDeps & { log: ReturnType<typeof memoryDeps>["log"] };
  roles: EthosRoleIds;
  /** Non-bot members holding the verified role and having an Ethos score. */
  verifiedScored(): string[];
}

/** Thresholds of the five tiers the emulator's roles stand for, highest first. */
export const TIER_MINS = { exemplary: 2000, reputable: 1800, neutral: 1200, questionable: 800 };

/** The tier role a score earns under the environment's tiers. */
export function tierRole(roles: EthosRoleIds, score: number): string {
  if (score >= TIER_MINS.exemplary) return roles.exemplary;
  if (score >= TIER_MINS.reputable) return roles.reputable;
  if (score >= TIER_MINS.neutral) return roles.neutral;
  if (score >= TIER_MINS.questionable) return roles.questionable;
  return roles.untrusted;
}

export async function withGuild(
  fn: (fx: GuildFixture) => Promise<void>,
  o: { members?: number; env?: Record<string, string> } = {},
): Promise<void> {
  const emu = await startEmulator({ uniformRate: 500, guilds: [{ members: o.members ?? 20 }] });
  try {
    await withKv(async (kv) => {
      const base = memoryDeps(kv, {
        env: botEnvFor(emu, "0".repeat(64), GUILD, o.env),
        fetch: globalThis.fetch.bind(globalThis),
      });
      const deps = { ...base, clock: systemClock, startedAt: Date.now() };
      const roles = emu.state.guild(GUILD).ethosRoles!;
      try {
        await fn({
          emu,
          deps,
          roles,
          verifiedScored: () =>
            [...emu.state.guild(GUILD).members.values()]
              .filter((m) =>
                !m.bot && m.roles.includes(roles.verified) && emu.state.score(m.id) !== undefined
              )
              .map((m) => m.id),
        });
      } finally {
        await deps.rest.close();
      }
    });
  } finally {
    await emu.close();
  }
}
