/**
 * The role-sync CLI, sync-helper.ts's own commands: start, complete, status, stop and
 * status-link, over the bot's authenticated HTTP API (it never runs the engine). Its usage text
 * is also the top-level help of sync-helper.ts, which hands the other commands to their CLIs.
 *
 * Exit status: 0 on success (for `complete`: only when the run completed), 1 when the run failed
 * or stopped or the bot refused (unreachable, 401, an error answer), 2 on a usage error.
 */
import {
  type BaseIO,
  baseUrl,
  defaultBaseIO,
  operatorToken,
  parseArgs,
  UsageError,
} from "./common.ts";
import { type Status, syncApi, SyncCliError } from "./sync_api.ts";
import { describe } from "./sync_format.ts";
import {
  complete,
  completeAll,
  type FollowIO,
  newRunBody,
  type RunOptions,
  startChunk,
} from "./sync_follow.ts";

export const USAGE = `Usage: sync-helper.ts <command> [options]

Commands:
  start      start one chunk (or continue the unfinished run)
  complete   start or continue a run and follow it to the end
  status     print the sync status
  stop       stop the running sync after its current batch
  status-link  print a signed link to the status page (valid one hour), alone on the last line
  commands   diff|sync|log of the slash-command manifest (see: sync-helper.ts commands --help)
  backup     guild backups: create, list, view, verify, diff, restore, export (backup --help)
  linked-roles  register the Ethos linked-role records; status (linked-roles --help)

Options:
  --url URL          the bot's URL (env SYNC_URL; default http://localhost:8000)
  --token TOKEN      SYNC_AUTH_TOKEN of the bot (env SYNC_AUTH_TOKEN)
  --chunk-size N     members per chunk
  --start-index N    members already processed (0: new run)
  --dry-run          report what would change, change nothing
  --json             status: print the raw JSON
  --guild ID         the guild to act on (default: the bot's DISCORD_GUILD_ID)
  --all              complete: every configured guild to the end, a progress line each
  --poll-ms N        complete: status poll interval (default 2000)

Examples:
  sync-helper.ts complete --url https://my-bot.deno.dev --chunk-size 500
  sync-helper.ts start --start-index 0 --chunk-size 50
  SYNC_URL=http://localhost:8000 sync-helper.ts status`;

/** The CLI's IO: the shared one, plus the terminal and the wait that following a run needs. */
export interface SyncCliIO extends BaseIO, FollowIO {}

export interface Options extends RunOptions {
  command?: string;
  /** The bot's base URL, without trailing slashes. */
  url: string;
  token?: string;
  json: boolean;
  all: boolean;
}

/** Reads the command line (and $SYNC_URL, $SYNC_AUTH_TOKEN); throws a UsageError. */
export function parseSyncArgs(argv: string[], env: BaseIO["env"]): Options {
  let command: string | undefined;
  const p = parseArgs(argv, {
    valued: ["chunk-size", "start-index", "poll-ms", "guild"],
    flags: ["dry-run", "all"],
    allowEmpty: false,
    positional: (arg) => {
      if (command) throw new UsageError(`unexpected argument: ${arg}`);
      command = arg;
    },
  });
  const int = (name: string) => {
    const v = p.values[name];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} needs a whole number`);
    return Number(v);
  };
  const chunkSize = int("chunk-size");
  if (chunkSize !== undefined && chunkSize < 1) {
    throw new UsageError("--chunk-size must be at least 1");
  }
  const guild = p.values.guild;
  if (guild !== undefined && !/^\d{17,20}$/.test(guild)) {
    throw new UsageError("--guild needs a Discord id");
  }
  const o: Options = {
    command: p.help ? "help" : command,
    url: baseUrl(p.values.url, env),
    token: operatorToken(p.values.token, env),
    chunkSize,
    startIndex: int("start-index"),
    pollMs: int("poll-ms") ?? 2000,
    dryRun: p.flags.has("dry-run"),
    json: p.json,
    guild,
    all: p.flags.has("all"),
  };
  if (o.all && o.guild) throw new UsageError("--all and --guild do not go together");
  if (o.all && o.command !== "complete") throw new UsageError("--all goes with complete");
  return o;
}

/** Runs the CLI; resolves to the exit code (see the module comment). */
export async function runSyncCli(
  argv: string[],
  partial: Partial<SyncCliIO> = {},
): Promise<number> {
  const io: SyncCliIO = {
    ...defaultBaseIO(),
    write: (text) => void Deno.stdout.writeSync(new TextEncoder().encode(text)),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ...partial,
  };
  let o: Options;
  try {
    o = parseSyncArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`error: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (!o.command || o.command === "help") {
    io.stdout(USAGE);
    return 0;
  }
  const api = syncApi(io, o.url, o.token);
  try {
    switch (o.command) {
      case "status": {
        const st = await api.status(o.guild);
        io.stdout(o.json ? JSON.stringify(st, null, 2) : describe(st));
        return 0;
      }
      case "start": {
        const t = await startChunk(api, newRunBody(o), io, o.guild);
        if (t.kind === "conflict") {
          const why = t.status?.lease?.live ? "a chunk is already running" : t.reason;
          io.stderr(`refused: ${why}\n${t.status ? describe(t.status) : ""}`);
          return 1;
        }
        if (t.kind === "nothing") {
          io.stdout(`nothing started${t.status ? `:\n${describe(t.status)}` : ""}`);
        } else io.stdout(`follow it with: sync-helper.ts status --url ${o.url}`);
        return 0;
      }
      case "stop": {
        const r = await api.stop(o.guild);
        if (r.message) io.stdout(String(r.message));
        else io.stdout(r.stopped ? "stopped" : "stopping after the current batch");
        if (r.status) io.stdout(describe(r.status as Status));
        return 0;
      }
      case "complete":
        return o.all ? await completeAll(o, api, io) : await complete(o, api, io);
      case "status-link": {
        const link = await api.statusLink();
        io.stdout(`status page link, valid until ${link.expiresAt}:`);
        io.stdout(link.url);
        return 0;
      }
      default:
        io.stderr(`error: unknown command ${o.command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (!(error instanceof SyncCliError)) throw error;
    if (io.isTTY) io.write("\n");
    io.stderr(`error: ${error.message}`);
    return 1;
  }
}
