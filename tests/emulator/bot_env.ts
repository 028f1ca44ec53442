/**
 * The environment that points the bot at an emulator: Discord and Ethos base URLs, the token,
 * and the seeded guild's role ids. Used by `make demo`, end-to-end tests and benchmarks.
 */
import type { Emulator, EthosRoleIds } from "./server.ts";
import { DEFAULT_GUILD_ID } from "./seed.ts";
import type { Clock } from "../../lib/clock.ts";
import { updateSetup } from "../../lib/guilds/setup.ts";

export function botEnvFor(
  emu: Emulator,
  publicKeyHex: string,
  guildId = DEFAULT_GUILD_ID,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const roles = emu.state.guild(guildId).ethosRoles;
  if (!roles) throw new Error(`guild ${guildId} has no Ethos roles`);
  return {
    DISCORD_PUBLIC_KEY: publicKeyHex,
    DISCORD_APPLICATION_ID: emu.applicationId,
    DISCORD_TOKEN: emu.token,
    DISCORD_API_BASE: emu.discordBase,
    DISCORD_GUILD_ID: guildId,
    ETHOS_API_BASE: emu.ethosBase,
    VERIFIED_ROLE_ID: roles.verified,
    ETHOS_VERIFIED_PROFILE_ROLE_ID: roles.profile,
    ETHOS_ROLE_EXEMPLARY: roles.exemplary,
    ETHOS_ROLE_REPUTABLE: roles.reputable,
    ETHOS_ROLE_NEUTRAL: roles.neutral,
    ETHOS_ROLE_QUESTIONABLE: roles.questionable,
    ETHOS_ROLE_UNTRUSTED: roles.untrusted,
    ...overrides,
  };
}

/**
 * Sets a guild up from Discord, as `/ethos_setup map` stores it: the emulated guild's own Ethos
 * roles in KV, nothing from the environment. For guilds beyond the environment's.
 */
export async function mapEmulatedGuild(
  deps: { kv: Deno.Kv; clock: Clock },
  guildId: string,
  r: EthosRoleIds,
  by = "300000000000000001",
): Promise<void> {
  await updateSetup(deps, guildId, { id: by }, "map", (s) => ({
    ...s,
    roles: {
      ...s.roles,
      exemplary: r.exemplary,
      reputable: r.reputable,
      neutral: r.neutral,
      questionable: r.questionable,
      untrusted: r.untrusted,
      profile: r.profile,
      verified: r.verified,
    },
  }));
}
