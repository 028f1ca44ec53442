/**
 * REST clients against the Discord emulator, for the tests that run lib/discord/ over real HTTP
 * (tests/discord/api_test.ts, tests/e2e/rest_emulator_test.ts): short retry waits, every client
 * closed with the emulator.
 */
import { RestClient, type RestClientOptions } from "../../lib/discord/rest.ts";
import { type Emulator, type EmulatorOptions, startEmulator } from "../emulator/server.ts";

export const GUILD = "200000000000000001";

export async function withEmu(
  options: EmulatorOptions,
  fn: (emu: Emulator, client: (o?: Partial<RestClientOptions>) => RestClient) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator(options);
  const clients: RestClient[] = [];
  const client = (o: Partial<RestClientOptions> = {}) => {
    const c = new RestClient({
      token: emu.token,
      apiBase: emu.discordBase,
      retryBaseMs: 20,
      retryMaxMs: 200,
      ...o,
    });
    clients.push(c);
    return c;
  };
  try {
    await fn(emu, client);
  } finally {
    for (const c of clients) await c.close();
    await emu.close();
  }
}

/** `n` ordinary members of the guild (not bots), ascending, stripped of their roles. */
export function humans(emu: Emulator, n: number): string[] {
  const g = emu.state.guild(GUILD);
  const ids = g.members.page("0", 100_000).filter((m) => !m.bot).slice(0, n).map((m) => m.id);
  for (const id of ids) emu.state.setMemberRoles(GUILD, id, []);
  return ids;
}
