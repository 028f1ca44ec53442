/**
 * Standalone emulator for benchmarks and `make demo`:
 *
 *   deno run --allow-net tests/emulator/main.ts --members 100000 --seed 7 --discord-like
 *
 * Prints one JSON line (URLs, token, ids) once listening, then serves until SIGINT/SIGTERM.
 * Without --discord-like every bucket and the global limit run at --rate per second (1000).
 */
import { DEFAULT_GUILD_ID, type EmulatorOptions, startEmulator } from "./server.ts";

export interface CliOptions {
  port: number;
  members: number;
  seed: number;
  guild: string;
  discordLike: boolean;
  rate: number;
  faultRate: number;
  latencyMs: number;
  token?: string;
}

const USAGE = `usage: main.ts [--port N] [--members N] [--seed N] [--guild ID] [--discord-like]
                [--rate N] [--fault-rate 0..1] [--latency-ms N] [--token T]`;

export function parseArgs(args: string[]): CliOptions {
  const out: CliOptions = {
    port: 0,
    members: 1000,
    seed: 1,
    guild: DEFAULT_GUILD_ID,
    discordLike: false,
    rate: 1000,
    faultRate: 0,
    latencyMs: 0,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const num = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
      return n;
    };
    switch (flag) {
      case "--port":
        out.port = num();
        break;
      case "--members":
        out.members = Math.floor(num());
        break;
      case "--seed":
        out.seed = Math.floor(num());
        break;
      case "--guild":
        out.guild = value();
        break;
      case "--discord-like":
        out.discordLike = true;
        break;
      case "--rate":
        out.rate = num();
        break;
      case "--fault-rate":
        out.faultRate = num();
        break;
      case "--latency-ms":
        out.latencyMs = num();
        break;
      case "--token":
        out.token = value();
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        throw new Error(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  return out;
}

export function toOptions(cli: CliOptions): EmulatorOptions {
  return {
    port: cli.port,
    seed: cli.seed,
    token: cli.token,
    guilds: [{ id: cli.guild, members: cli.members }],
    ...(cli.discordLike ? {} : { uniformRate: cli.rate }),
    faults: { errorRate: cli.faultRate, latencyMs: cli.latencyMs, seed: cli.seed },
  };
}

if (import.meta.main) {
  let cli: CliOptions;
  try {
    cli = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  const emu = await startEmulator(toOptions(cli));
  const guild = emu.state.guild(cli.guild);
  console.log(JSON.stringify({
    url: emu.url,
    discordBase: emu.discordBase,
    ethosBase: emu.ethosBase,
    oauthAuthorizeUrl: emu.oauthAuthorizeUrl,
    clientSecret: emu.state.oauth.clientSecret,
    token: emu.token,
    applicationId: emu.applicationId,
    botUserId: emu.botUserId,
    guildId: guild.id,
    members: guild.members.size,
    ethosRoles: guild.ethosRoles,
    botRole: guild.botRole,
    aboveBotRole: guild.aboveBotRole,
    managedRole: guild.managedRole,
    limits: cli.discordLike ? "discord-like" : `uniform ${cli.rate}/s`,
  }));
  const stop = async () => {
    await emu.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
