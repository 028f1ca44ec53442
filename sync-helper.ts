/**
 * sync-helper.ts: the operator command line, over the bot's authenticated HTTP API (it never runs
 * the engine): the role sync, the status-page link, and (delegated) the command manifest and
 * backups.
 *
 *   deno run --allow-net --allow-env sync-helper.ts <command> [options]
 *
 * Commands:
 *   start     start one chunk (or continue the unfinished run)
 *   complete  start or continue a run and follow it to the end (progress bar on a terminal)
 *   status    print the sync status
 *   stop      stop the running sync after its current batch
 *   status-link  a signed status-page link, valid one hour (alone on the last line)
 *   commands  diff|sync|log of the slash-command manifest (lib/cli/commands.ts)
 *   backup    create|list|view|verify|diff|restore|export (lib/cli/backup.ts)
 *   linked-roles  register|status of Ethos linked roles (lib/cli/linked_roles.ts)
 *
 * Options (`--name value` or `--name=value`):
 *   --url URL          the bot (SYNC_URL; default http://localhost:8000)
 *   --token TOKEN      the bot's SYNC_AUTH_TOKEN (env SYNC_AUTH_TOKEN)
 *   --chunk-size N     members per chunk
 *   --start-index N    members already processed: the run's checkpoint continues it,
 *                      0 starts a new run, another number skips that many members
 *   --dry-run          report what would change, change nothing
 *   --json             status: print the raw JSON
 *   --guild ID         the guild (default: the bot's DISCORD_GUILD_ID)
 *   --all              complete: every configured guild, side by side
 *
 * Exit status: 0 on success (for `complete`: only when the run completed), 1 when the run
 * failed or stopped or the bot refused, 2 on a usage error.
 */
import { cliEnv } from "./lib/config.ts";
import { runCommandsCli } from "./lib/cli/commands.ts";
import { runBackupCli } from "./lib/cli/backup.ts";
import { runLinkedRolesCli } from "./lib/cli/linked_roles.ts";
import {
  formatDuration,
  isStale,
  type JobProgress,
  progressBar,
  summaryLine,
  total,
} from "./lib/jobs/progress.ts";

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

export interface Options {
  command?: string;
  url: string;
  token?: string;
  chunkSize?: number;
  startIndex?: number;
  dryRun: boolean;
  json: boolean;
  pollMs: number;
  guild?: string;
  all: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], env: Record<string, string | undefined>): Options {
  const o: Options = {
    url: env.SYNC_URL || "http://localhost:8000",
    token: env.SYNC_AUTH_TOKEN || undefined,
    dryRun: false,
    json: false,
    pollMs: 2000,
    all: false,
  };
  const int = (name: string, v: string | undefined) => {
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${name} needs a whole number`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      if (o.command) throw new UsageError(`unexpected argument: ${arg}`);
      o.command = arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith("--"))) {
        throw new UsageError(`${name} needs a value`);
      }
      return v;
    };
    switch (name) {
      case "--url":
        o.url = value();
        break;
      case "--token":
        o.token = value();
        break;
      case "--chunk-size":
        o.chunkSize = int(name, value());
        if (o.chunkSize < 1) throw new UsageError("--chunk-size must be at least 1");
        break;
      case "--start-index":
        o.startIndex = int(name, value());
        break;
      case "--poll-ms":
        o.pollMs = int(name, value());
        break;
      case "--dry-run":
        o.dryRun = inline === undefined ? true : inline === "true";
        break;
      case "--json":
        o.json = true;
        break;
      case "--guild":
        o.guild = value();
        if (!/^\d{17,20}$/.test(o.guild)) throw new UsageError("--guild needs a Discord id");
        break;
      case "--all":
        o.all = true;
        break;
      case "--help":
        o.command = "help";
        break;
      default:
        throw new UsageError(`unknown option ${name}`);
    }
  }
  if (!/^https?:\/\/\S+$/.test(o.url)) {
    throw new UsageError(`--url must be an http(s) URL: ${o.url}`);
  }
  if (o.all && o.guild) throw new UsageError("--all and --guild do not go together");
  if (o.all && o.command !== "complete") throw new UsageError("--all goes with complete");
  o.url = o.url.replace(/\/+$/, "");
  return o;
}

class CliError extends Error {}

type Status = JobProgress & { guildId?: string };

interface Api {
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

function api(o: Options): Api {
  return {
    async call(method, path, body) {
      let res: Response;
      try {
        res = await fetch(o.url + path, {
          method,
          headers: {
            ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        throw new CliError(
          `cannot reach the bot at ${o.url}: ${error instanceof Error ? error.message : error}\n` +
            `Is it running, and is --url (or SYNC_URL) right?`,
        );
      }
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = text ? JSON.parse(text) : {};
      } catch {
        parsed = { error: text.slice(0, 200) };
      }
      if (res.status === 401) {
        throw new CliError(
          `unauthorized (401): ${parsed.error ?? "bad token"}.\n` +
            (o.token
              ? "The token does not match the bot's SYNC_AUTH_TOKEN."
              : "Pass --token or set SYNC_AUTH_TOKEN to the bot's SYNC_AUTH_TOKEN."),
        );
      }
      if (res.status === 404) {
        throw new CliError(`${o.url}${path} answered 404: is this the bot's URL?`);
      }
      if (res.status >= 500) {
        throw new CliError(`the bot answered ${res.status}: ${parsed.error ?? text.slice(0, 200)}`);
      }
      return { status: res.status, body: parsed };
    },
  };
}

const n = (x: number) => x.toLocaleString("en-US");

/** One progress line, as the bar shows it. */
export function progressLine(p: JobProgress, width = 24): string {
  const pct = p.total ? Math.floor(Math.min(1, p.processed / p.total) * 100) : null;
  const parts = [
    `[${progressBar(p, width, "#", ".")}]`,
    pct !== null ? `${String(pct).padStart(3)}%` : "",
    `${n(p.processed)}${p.total !== null ? `/${n(p.total)}` : ""}`,
    `changed ${n(p.counters["changed"] ?? 0)}`,
    `skipped ${n(total(p.counters, "skipped"))}`,
    `errors ${n(total(p.counters, "errors"))}`,
    p.ratePerSecond !== null ? `${p.ratePerSecond.toFixed(1)}/s` : "",
    p.etaSeconds !== null && p.state !== "completed" ? `ETA ${formatDuration(p.etaSeconds)}` : "",
    `chunk ${p.chunk}`,
    p.state !== "running" ? p.state : "",
  ];
  return parts.filter(Boolean).join("  ");
}

function describe(p: Status): string {
  if (!p.runId) return "No sync has run yet.";
  const lines = [
    `Run ${p.runId}${p.dryRun ? " (dry run)" : ""}${
      p.mode && p.mode !== "full" ? ` (${p.mode})` : ""
    }: ${p.state}${p.stopRequested ? " (stop requested)" : ""}`,
    `  ${summaryLine(p)}`,
    `  processed ${n(p.processed)}${
      p.total !== null ? ` of ${n(p.total)}` : ""
    }; next index ${p.nextIndex}; chunk ${p.chunk} (size ${p.chunkSize})`,
  ];
  const details = Object.entries(p.counters).filter(([k]) =>
    k.startsWith("skipped.") || k.startsWith("errors.")
  );
  if (details.length) lines.push(`  ${details.map(([k, v]) => `${k}: ${v}`).join(", ")}`);
  lines.push(
    `  started ${p.startedAt ?? "-"}; updated ${p.updatedAt ?? "-"}${
      p.finishedAt ? `; finished ${p.finishedAt}` : ""
    }`,
  );
  if (p.ratePerSecond !== null) {
    lines.push(
      `  ${p.ratePerSecond.toFixed(1)} members/s${
        p.etaSeconds !== null ? `, ETA ${formatDuration(p.etaSeconds)}` : ""
      }`,
    );
  }
  if (isStale(p)) {
    lines.push("  its chunk died (lease expired): `complete` or the watchdog will resume it");
  }
  if (p.lastError) lines.push(`  last error: ${p.lastError}`);
  for (const w of p.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n");
}

async function status(a: Api, guild?: string): Promise<Status> {
  const r = await a.call("GET", guild ? `/sync-status?guild=${guild}` : "/sync-status");
  if (r.status !== 200) throw new CliError(`status answered ${r.status}: ${r.body.error ?? ""}`);
  return r.body as unknown as Status;
}

interface Out {
  log(line: string): void;
  err(line: string): void;
}

async function trigger(
  a: Api,
  body: Record<string, unknown>,
  out: Out,
  guild?: string,
): Promise<
  { started: boolean; conflict: boolean; status?: Status; runId?: string; reason?: string }
> {
  const r = await a.call("POST", "/trigger-sync", guild ? { guildId: guild, ...body } : body);
  if (r.status === 202) {
    out.log(`started chunk ${r.body.chunk} of run ${r.body.runId}`);
    return {
      started: true,
      conflict: false,
      runId: String(r.body.runId),
      status: r.body.status as Status,
    };
  }
  if (r.status === 409) {
    return {
      started: false,
      conflict: true,
      status: r.body.status as Status,
      reason: String(r.body.error ?? ""),
    };
  }
  if (r.status === 200) return { started: false, conflict: false, status: r.body.status as Status };
  throw new CliError(`the bot refused to start: ${r.status} ${r.body.error ?? ""}`);
}

/** The trigger body of `start` and of a `complete` that does not continue a run. */
function newRunBody(o: Options): Record<string, unknown> {
  return {
    ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
    // A dry run is always a fresh walk (it never continues a run that writes).
    ...(o.startIndex !== undefined
      ? { startIndex: o.startIndex }
      : o.dryRun
      ? { startIndex: 0 }
      : {}),
    ...(o.dryRun ? { dryRun: true } : {}),
  };
}

/** Follows a run to its end, starting chunks when nobody else does. Returns the exit code. */
async function complete(
  o: Options,
  a: Api,
  out: Out,
  tty: boolean,
  write: (s: string) => void,
): Promise<number> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let st = await status(a, o.guild);
  const unfinished = ["running", "stopping", "waiting", "stopped", "failed"].includes(st.state);
  let runId: string | null = null;
  if (unfinished && o.startIndex === undefined && !o.dryRun) {
    runId = st.runId;
    if ((st.state === "running" || st.state === "stopping") && !isStale(st)) {
      out.log(`following run ${runId} (chunk ${st.chunk} is running)`);
    } else {
      out.log(
        `continuing run ${runId} from index ${st.nextIndex}${
          isStale(st) ? " (its chunk died)" : ""
        }`,
      );
      const t = await trigger(
        a,
        {
          runId,
          chunk: st.chunk + 1,
          ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
        },
        out,
        o.guild,
      );
      if (t.conflict) out.log("a chunk is already running; following it");
    }
  } else {
    const t = await trigger(
      a,
      newRunBody(o),
      out,
      o.guild,
    );
    if (t.conflict && t.status?.lease?.live) out.log("a chunk is already running; following it");
    else if (t.conflict) throw new CliError(`the bot refused: ${t.reason ?? "conflict"}`);
    runId = t.runId ?? t.status?.runId ?? null;
  }

  let lastLine = "";
  let lastPrint = 0;
  let waitingSince: { chunk: number; at: number } | null = null;
  for (;;) {
    await sleep(o.pollMs);
    st = await status(a, o.guild);
    if (runId && st.runId && st.runId !== runId) {
      out.log(`\nrun ${runId} was replaced by run ${st.runId}; following that one`);
      runId = st.runId;
    }
    const line = progressLine(st);
    if (tty) {
      write(`\r\x1b[2K${line}`);
    } else if (line !== lastLine && (Date.now() - lastPrint > 10_000 || st.state !== "running")) {
      out.log(line);
      lastPrint = Date.now();
    }
    lastLine = line;
    if (st.state === "completed") {
      if (tty) write("\n");
      out.log(`run ${st.runId} completed: ${summaryLine(st)}`);
      return 0;
    }
    if (st.state === "failed") {
      if (tty) write("\n");
      out.err(`run ${st.runId} failed: ${st.lastError ?? "unknown error"}`);
      out.err("Fix the cause, then run `complete` again to continue from the checkpoint.");
      return 1;
    }
    if (st.state === "stopped") {
      if (tty) write("\n");
      out.err(
        `run ${st.runId} was stopped at index ${st.nextIndex}; run \`complete\` again to continue it.`,
      );
      return 1;
    }
    const died = isStale(st);
    if (st.state === "waiting" || died) {
      // With auto-continue the bot chains chunks itself: give it a moment before stepping in.
      const grace = st.autoContinue && !died ? Math.max(10_000, 3 * o.pollMs) : 0;
      if (!waitingSince || waitingSince.chunk !== st.chunk) {
        waitingSince = { chunk: st.chunk, at: Date.now() };
      }
      if (Date.now() - waitingSince.at >= grace) {
        if (tty) write("\n");
        if (died) out.log(`chunk ${st.chunk} died (its lease expired); starting the next one`);
        const t = await trigger(
          a,
          {
            runId: st.runId,
            chunk: st.chunk + 1,
            ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
          },
          out,
          o.guild,
        );
        if (t.conflict && tty) write("");
        waitingSince = null;
      }
    } else {
      waitingSince = null;
    }
  }
}

/**
 * Every configured guild to the end, side by side, each guild's lines prefixed with its id (the
 * progress of each at most every 10 s, then its summary). Exit 0 only when every guild completed.
 */
async function completeAll(o: Options, a: Api, out: Out): Promise<number> {
  const r = await a.call("GET", "/guilds");
  if (r.status !== 200) throw new CliError(`guilds answered ${r.status}: ${r.body.error ?? ""}`);
  const guilds = (r.body.guilds as { guildId: string; configured: boolean }[]) ?? [];
  const ready = guilds.filter((g) => g.configured);
  for (const g of guilds.filter((g) => !g.configured)) {
    out.log(`[${g.guildId}] not set up yet (run /ethos_setup there); skipped`);
  }
  if (ready.length === 0) {
    out.err("no guild is set up: set DISCORD_GUILD_ID and the role ids, or use /ethos_setup");
    return 1;
  }
  out.log(`completing ${ready.length} guild${ready.length === 1 ? "" : "s"}`);
  const codes = await Promise.all(ready.map(async (g) => {
    const prefixed: Out = {
      log: (line) => out.log(`[${g.guildId}] ${line.trimStart()}`),
      err: (line) => out.err(`[${g.guildId}] ${line.trimStart()}`),
    };
    try {
      return await complete({ ...o, guild: g.guildId }, a, prefixed, false, () => {});
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      prefixed.err(`error: ${error.message}`);
      return 1;
    }
  }));
  const failed = codes.filter((c) => c !== 0).length;
  out.log(
    failed ? `${failed} of ${ready.length} guilds did not complete` : "every guild completed",
  );
  return failed ? 1 : 0;
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  io: { tty: boolean; write(s: string): void; out: Out },
): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.out.err(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (!o.command || o.command === "help") {
    io.out.log(USAGE);
    return 0;
  }
  const a = api(o);
  try {
    switch (o.command) {
      case "status": {
        const st = await status(a, o.guild);
        io.out.log(o.json ? JSON.stringify(st, null, 2) : describe(st));
        return 0;
      }
      case "start": {
        const t = await trigger(
          a,
          newRunBody(o),
          io.out,
          o.guild,
        );
        if (t.conflict) {
          const why = t.status?.lease?.live ? "a chunk is already running" : t.reason;
          io.out.err(`refused: ${why}\n${t.status ? describe(t.status) : ""}`);
          return 1;
        }
        if (!t.started) io.out.log(`nothing started${t.status ? `:\n${describe(t.status)}` : ""}`);
        else io.out.log(`follow it with: sync-helper.ts status --url ${o.url}`);
        return 0;
      }
      case "stop": {
        const r = await a.call("POST", o.guild ? `/stop-sync?guild=${o.guild}` : "/stop-sync");
        if (r.body.message) io.out.log(String(r.body.message));
        else io.out.log(r.body.stopped ? "stopped" : "stopping after the current batch");
        if (r.body.status) io.out.log(describe(r.body.status as Status));
        return 0;
      }
      case "complete":
        if (o.all) return await completeAll(o, a, io.out);
        return await complete(o, a, io.out, io.tty, io.write);
      case "status-link": {
        const r = await a.call("POST", "/status-link");
        io.out.log(`status page link, valid until ${r.body.expiresAt}:`);
        io.out.log(String(r.body.url));
        return 0;
      }
      default:
        io.out.err(`error: unknown command ${o.command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof CliError) {
      if (io.tty) io.write("\n");
      io.out.err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  // The other operator CLIs share this entry point (and its --url/--token conventions).
  if (command === "commands") Deno.exit(await runCommandsCli(rest));
  if (command === "backup") Deno.exit(await runBackupCli(rest));
  if (command === "linked-roles") Deno.exit(await runLinkedRolesCli(rest));
  const encoder = new TextEncoder();
  const code = await main(Deno.args, cliEnv(), {
    tty: Deno.stdout.isTerminal(),
    write: (s) => Deno.stdout.writeSync(encoder.encode(s)),
    out: { log: (l) => console.log(l), err: (l) => console.error(l) },
  });
  Deno.exit(code);
}
