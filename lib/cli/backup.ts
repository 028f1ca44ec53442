/**
 * `backup <command>`: the backup CLI. It only talks to the bot's HTTP API (`/backups...`, with
 * `Authorization: Bearer $SYNC_AUTH_TOKEN`) and never runs the engine itself; it shares the
 * response types with lib/backup and lib/jobs.
 *
 *   create [--label L]            start a capture and follow it to its end
 *   list                          the guild's backups, newest first
 *   view ID                       one backup's details
 *   verify ID                     recompute the checksum (exit 1 when it does not match)
 *   diff A [B]                    two backups, or A against the live server
 *   restore ID [--only roles,categories,channels,members,settings] [--rewind]
 *   export ID [--out FILE]        the backup as JSON (stdout unless --out)
 *
 * Every command takes --url (else $SYNC_URL, else http://localhost:8000), --token (else
 * $SYNC_AUTH_TOKEN), --guild (else $DISCORD_GUILD_ID, else the bot's default) and --json.
 * `create` and `restore` follow the job with a progress bar on a terminal (plain lines
 * otherwise); `create` prints the new backup's id alone on the last line.
 *
 * Exit codes: 0 success; 1 the operation ran and failed (capture or restore failed or stopped, a
 * restore with failures, a checksum mismatch); 2 it could not run (usage, bot unreachable, 401,
 * HTTP error, refused: cooldown, cap, busy). What it prints is lib/cli/backup_render.ts.
 */
import {
  type Answer,
  type BaseIO,
  callBot,
  type CallFailure,
  connection,
  DEFAULT_URL,
  defaultBaseIO,
  NO_TOKEN,
  parseArgs as parseOptions,
  type Style,
  usageError,
} from "./common.ts";
import {
  bytes,
  progressLine,
  renderDiff,
  renderList,
  renderView,
  reportLines,
} from "./backup_render.ts";
import type { BackupMeta, VerifyResult } from "../backup/store.ts";
import type { JobStatus } from "../backup/service.ts";
import type { BackupView, DiffView } from "../backup/views.ts";
import { RESTORE_PARTS } from "../backup/restore_plan.ts";
import { progressBar } from "../jobs/progress.ts";

export interface BackupCliIO extends BaseIO {
  /** Raw text to the terminal, no newline (the progress bar). */
  write(text: string): void;
  /** Raw bytes to stdout (export). */
  writeBytes(bytes: Uint8Array): Promise<void>;
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** How often a followed job is polled (default 1000 ms). */
  pollMs?: number;
}

export const EXIT = { ok: 0, failed: 1, error: 2 } as const;
const COMMANDS = ["create", "list", "view", "verify", "diff", "restore", "export"] as const;
type Command = typeof COMMANDS[number];

export const USAGE = `Usage: backup <command> [arguments] [options]

  create [--label L]       capture a backup and follow it; prints the new id on the last line
  list                     the backups of the guild, newest first
  view ID                  one backup's details
  verify ID                check its checksum (exit 1 when it does not match)
  diff A [B]               compare two backups, or A with the live server
  restore ID [--only roles,categories,channels,members,settings] [--rewind]
                           non-destructive restore, followed to its end
  export ID [--out FILE]   the backup as JSON (stdout unless --out)

Options:
  --url URL        the bot's base URL (default: $SYNC_URL, else ${DEFAULT_URL})
  --token TOKEN    operator token (default: $SYNC_AUTH_TOKEN)
  --guild ID       the guild (default: $DISCORD_GUILD_ID, else the bot's DISCORD_GUILD_ID)
  --json           machine-readable output
  --no-wait        create/restore: start the job and return
  --color, --no-color
  -h, --help

Exit codes: 0 success; 1 failed (job failed or stopped, restore failures, checksum mismatch);
2 could not run (usage, bot unreachable, 401, refused: cooldown, cap, busy).`;

interface Parsed {
  command?: string;
  args: string[];
  url?: string;
  token?: string;
  guild?: string;
  label?: string;
  only?: string;
  out?: string;
  rewind: boolean;
  json: boolean;
  wait: boolean;
  color?: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Parsed {
  let command: string | undefined;
  const args: string[] = [];
  const p = parseOptions(argv, {
    valued: ["guild", "label", "only", "out"],
    flags: ["rewind", "no-wait"],
    allowEmpty: true,
    positional: (arg) => {
      if (command === undefined) command = arg;
      else args.push(arg);
    },
  });
  return {
    command,
    args,
    url: p.values.url,
    token: p.values.token,
    guild: p.values.guild,
    label: p.values.label,
    only: p.values.only,
    out: p.values.out,
    rewind: p.flags.has("rewind"),
    json: p.json,
    wait: !p.flags.has("no-wait"),
    color: p.color,
    help: p.help,
  };
}

/** The bot's API as the commands use it (see callBot; two minutes for an answer). */
type Call = (
  method: string,
  path: string,
  body?: unknown,
  opts?: { raw?: boolean },
) => Promise<Answer | CallFailure>;

function defaultIO(): BackupCliIO {
  const encoder = new TextEncoder();
  return {
    ...defaultBaseIO(),
    write: (t) => void Deno.stdout.writeSync(encoder.encode(t)),
    writeBytes: async (b) => {
      let off = 0;
      try {
        while (off < b.length) off += await Deno.stdout.write(b.subarray(off));
      } catch (error) {
        // The reader went away (`| head`): nothing left to write to.
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      }
    },
    writeFile: (path, b) => Deno.writeFile(path, b),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

// --- the CLI ------------------------------------------------------------------------------------

/** Runs the CLI; resolves to the exit code (see the module comment). */
export async function runBackupCli(
  args: string[],
  partial: Partial<BackupCliIO> = {},
): Promise<number> {
  const io: BackupCliIO = { ...defaultIO(), ...partial };
  let o: Parsed;
  try {
    o = parseArgs(args);
  } catch (error) {
    return usageError(io, "backup", USAGE, (error as Error).message);
  }
  if (o.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  const usage = (message: string) => usageError(io, "backup", USAGE, message);
  if (!o.command) return usage("missing command");
  if (!(COMMANDS as readonly string[]).includes(o.command)) {
    return usage(`unknown command "${o.command}"`);
  }
  const command = o.command as Command;
  const arity: Record<Command, [number, number]> = {
    create: [0, 0],
    list: [0, 0],
    view: [1, 1],
    verify: [1, 1],
    diff: [1, 2],
    restore: [1, 1],
    export: [1, 1],
  };
  const [min, max] = arity[command];
  if (o.args.length < min) return usage(`${command} needs a backup id`);
  if (o.args.length > max) return usage(`unexpected argument ${o.args[max]}`);
  for (const id of o.args) {
    if (!/^[a-z0-9]{6,24}$/.test(id)) return usage(`"${id}" is not a backup id`);
  }
  if (o.label !== undefined && command !== "create") return usage("--label only applies to create");
  if ((o.only !== undefined || o.rewind) && command !== "restore") {
    return usage("--only and --rewind only apply to restore");
  }
  if (o.out !== undefined && command !== "export") return usage("--out only applies to export");
  let only: string[] | undefined;
  if (o.only !== undefined) {
    only = o.only.split(",").map((x) => x.trim()).filter(Boolean);
    const bad = only.filter((x) => !(RESTORE_PARTS as readonly string[]).includes(x));
    if (bad.length || only.length === 0) {
      return usage(`--only takes a comma-separated list of ${RESTORE_PARTS.join(", ")}`);
    }
  }
  const conn = connection(io, o, `backup ${command}`);
  if ("usage" in conn) return usage(conn.usage);
  const guild = o.guild ?? io.env("DISCORD_GUILD_ID");
  if (guild !== undefined && guild !== "" && !/^\d{17,20}$/.test(guild)) {
    return usage("--guild must be a Discord id");
  }
  const { base, token, s, fail } = conn;
  if (!token) return fail(NO_TOKEN);
  const q = (extra: Record<string, string> = {}) => {
    const params = new URLSearchParams({ ...(guild ? { guild } : {}), ...extra });
    const str = params.toString();
    return str ? `?${str}` : "";
  };
  const api: Call = (method, path, body, opts) =>
    callBot(io, base, token, method, path, body, { timeoutMs: 120_000, raw: opts?.raw });
  const print = (value: unknown, text: string) =>
    io.stdout(o.json ? JSON.stringify(value, null, 2) : text);

  switch (command) {
    case "list": {
      const a = await api("GET", `/backups${q()}`);
      if (!a.ok) return fail(a.message, a.status);
      const b = a.body as { guildId: string; backups: BackupMeta[] };
      print(b, renderList(b.guildId, b.backups, s));
      return EXIT.ok;
    }
    case "view": {
      const a = await api("GET", `/backups/${o.args[0]}${q()}`);
      if (!a.ok) return fail(a.message, a.status);
      print(a.body, renderView(a.body as BackupView, s));
      return EXIT.ok;
    }
    case "verify": {
      const a = await api("GET", `/backups/${o.args[0]}/verify${q()}`);
      if (!a.ok) return fail(a.message, a.status);
      const r = a.body as VerifyResult;
      print(
        r,
        r.ok ? s.green(`✔ ${r.backupId}: checksum matches (${r.expected})`) : s.red(
          `✖ ${r.backupId}: ${r.detail}\n  expected ${r.expected}\n  actual   ${
            r.actual ?? "unreadable"
          }`,
        ),
      );
      return r.ok ? EXIT.ok : EXIT.failed;
    }
    case "diff": {
      const against = o.args[1] ?? "live";
      const a = await api("GET", `/backups/${o.args[0]}/diff${q({ against })}`);
      if (!a.ok) return fail(a.message, a.status);
      print(a.body, renderDiff(a.body as DiffView, s));
      return EXIT.ok;
    }
    case "export": {
      const a = await api("GET", `/backups/${o.args[0]}/export${q()}`, undefined, { raw: true });
      if (!a.ok) return fail(a.message, a.status);
      if (o.out) {
        await io.writeFile(o.out, a.raw);
        io.stderr(`wrote ${bytes(a.raw.length)} to ${o.out}`);
      } else {
        await io.writeBytes(a.raw);
      }
      return EXIT.ok;
    }
    case "create": {
      const body = o.label !== undefined ? { label: o.label } : {};
      const a = await api("POST", `/backups${q()}`, body);
      if (!a.ok) return fail(a.message, a.status);
      const started = a.body as { backupId: string; runId: string; guildId: string };
      if (!o.wait) {
        print(started, `started capture ${started.runId} of backup ${started.backupId}`);
        io.stdout(started.backupId);
        return EXIT.ok;
      }
      const end = await follow(io, api, q({ job: "capture" }), started.runId, "capture", o, s);
      if (!end.ok) return fail(end.message);
      const st = end.status;
      const okay = st.progress.state === "completed";
      if (o.json) io.stdout(JSON.stringify(st));
      else if (okay) io.stderr(s.green(`✔ backup ${started.backupId} created`));
      else {
        io.stderr(
          s.red(
            `✖ capture ${st.progress.state}${
              st.progress.lastError ? `: ${st.progress.lastError}` : ""
            }`,
          ),
        );
      }
      if (!okay) return EXIT.failed;
      // The id alone on the last line: `make backup | tail -1`.
      io.stdout(started.backupId);
      return EXIT.ok;
    }
    case "restore": {
      const body = { ...(only ? { only } : {}), ...(o.rewind ? { rewind: true } : {}) };
      const a = await api("POST", `/backups/${o.args[0]}/restore${q()}`, body);
      if (!a.ok) return fail(a.message, a.status);
      const started = a.body as { runId: string };
      if (!o.wait) {
        print(started, `started restore ${started.runId}`);
        return EXIT.ok;
      }
      const end = await follow(io, api, q({ job: "restore" }), started.runId, "restore", o, s);
      if (!end.ok) return fail(end.message);
      const st = end.status;
      const failures = Object.values(st.report?.failed ?? {}).reduce((x, y) => x + y, 0);
      const okay = st.progress.state === "completed" && failures === 0;
      if (o.json) io.stdout(JSON.stringify(st, null, 2));
      else {
        const head = st.progress.state !== "completed"
          ? s.red(
            `✖ restore ${st.progress.state}${
              st.progress.lastError ? `: ${st.progress.lastError}` : ""
            }`,
          )
          : failures
          ? s.yellow(`▲ restore completed with ${failures} failures`)
          : s.green("✔ restore completed");
        io.stdout([head, ...(st.report ? reportLines(st.report, s) : [])].join("\n"));
      }
      return okay ? EXIT.ok : EXIT.failed;
    }
  }
}

/** Polls the job's status until its run ends; draws a bar on a terminal, plain lines otherwise. */
async function follow(
  io: BackupCliIO,
  api: Call,
  query: string,
  runId: string,
  kind: string,
  o: Parsed,
  s: Style,
): Promise<{ ok: true; status: JobStatus } | { ok: false; message: string }> {
  const pollMs = io.pollMs ?? 1000;
  let lastLine = "";
  let errors = 0;
  let drew = false;
  for (;;) {
    const a = await api("GET", `/backups/status${query}`);
    if (!a.ok) {
      if (a.status === 401 || ++errors >= 10) return { ok: false, message: a.message };
      await io.sleep(pollMs);
      continue;
    }
    errors = 0;
    const st = a.body as JobStatus;
    const p = st.progress;
    if (p.runId !== runId) {
      return { ok: false, message: `the ${kind} run ${runId} was replaced by ${p.runId}` };
    }
    const over = p.state === "completed" || p.state === "failed" || p.state === "stopped" ||
      p.state === "idle";
    if (!o.json) {
      const line = progressLine(kind, st);
      if (io.isTTY) {
        io.write(`\r${s.bold(progressBar(p, 30))} ${line}\x1b[K`);
        drew = true;
      } else if (line !== lastLine) {
        io.stderr(line);
      }
      lastLine = line;
    }
    if (over) {
      if (drew) io.write("\n");
      return { ok: true, status: st };
    }
    await io.sleep(pollMs);
  }
}
