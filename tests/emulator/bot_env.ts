/**
 * The environment that points the bot at an emulator: Discord and Ethos base URLs, the token,
 * and the seeded guild's role ids. Used by `make demo`, end-to-end tests and benchmarks.
 */
import type { Emulator } from "./server.ts";
import { DEFAULT_GUILD_ID } from "./seed.ts";

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
