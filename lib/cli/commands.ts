/**
 * `commands diff|sync|log`: the command-manifest CLI. It only talks to the bot's HTTP API
 * (GET /commands/diff, POST /commands/sync, GET /commands/log with `Authorization: Bearer
 * $SYNC_AUTH_TOKEN`) and never runs the engine; it shares the response types with lib/manifest.
 *
 * Exit codes:
 * - diff: 0 in sync, 1 drift;
 * - sync: 0 synced or skipped (unchanged, cooldown, another sync running), 1 failed or degraded
 *   (global failed, per-guild fallback used);
 * - log: 0;
 * - every sub-command: 2 when it could not run (usage, bot unreachable, 401, HTTP error).
 */
import {
  type BaseIO,
  callBot,
  connection,
  DEFAULT_URL,
  defaultBaseIO,
  NO_TOKEN,
  parseArgs as parseOptions,
  type Style,
  UsageError,
  usageError,
  utcTime,
} from "./common.ts";
import type {
  CommandChange,
  DiffReport,
  LogReport,
  ScopeResult,
  SyncLogEntry,
  SyncReport,
} from "../manifest/types.ts";

/** The CLI's IO: exactly the shared one (see lib/cli/common.ts). */
export type CliIO = BaseIO;

export const EXIT = { ok: 0, drift: 1, failed: 1, error: 2 } as const;

export const USAGE = `Usage: commands <diff|sync|log> [options]

  diff            compare the code's command manifest with Discord's (exit 0 in sync, 1 drift)
  sync            sync the manifest when it changed (exit 0 synced or skipped, 1 failed)
  log             the newest sync attempts

Options:
  --url URL       the bot's base URL (default: $SYNC_URL, else ${DEFAULT_URL})
  --token TOKEN   operator token (default: $SYNC_AUTH_TOKEN)
  --json          print the API's JSON answer
  --force         sync: overwrite even when unchanged (a command deleted on Discord's side)
  --guild ID      diff: compare one guild's commands instead of the target scope
  --limit N       log: how many entries (default 20)
  --color, --no-color
  -h, --help

Exit code 2: the command could not run (bad usage, bot unreachable, 401, HTTP error).`;

interface Parsed {
  sub?: string;
  url?: string;
  token?: string;
  json: boolean;
  force: boolean;
  guild?: string;
  limit?: string;
  color?: boolean;
  help: boolean;
}

function parseArgs(args: string[]): Parsed {
  let sub: string | undefined;
  const p = parseOptions(args, {
    valued: ["guild", "limit"],
    flags: ["force"],
    allowEmpty: false,
    positional: (arg) => {
      if (sub !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      sub = arg;
    },
  });
  return {
    sub,
    url: p.values.url,
    token: p.values.token,
    json: p.json,
    force: p.flags.has("force"),
    guild: p.values.guild,
    limit: p.values.limit,
    color: p.color,
    help: p.help,
  };
}

// --- formatting -----------------------------------------------------------------------------

const short = (fp: string | null | undefined) => (fp ? fp.slice(0, 12) : "none");
const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? "undefined" : s.length > 120 ? `${s.slice(0, 117)}...` : s;
};
const cmdName = (c: { name: string; type: number }) =>
  c.type === 1 ? `/${c.name}` : `${c.name} (type ${c.type})`;

// --- rendering ------------------------------------------------------------------------------

export function renderDiff(r: DiffReport, s: Style): string {
  const lines = [
    s.bold(`Command manifest · scope ${r.scope}`),
    `  code     ${short(r.fingerprint)}  (${r.counts.code} commands)`,
    `  discord  ${short(r.discordFingerprint)}  (${r.counts.discord} registered)`,
    `  synced   ${short(r.syncedFingerprint)}` +
    (r.syncedAt !== null ? s.dim(`  at ${utcTime(r.syncedAt)}`) : s.dim("  (no sync recorded)")),
  ];
  if (r.inSync) {
    lines.push(s.green(`✔ In sync: ${r.diff.unchanged} commands match.`));
    return lines.join("\n");
  }
  const d = r.diff;
  const counts = [
    d.added.length ? `${d.added.length} added` : "",
    d.removed.length ? `${d.removed.length} removed` : "",
    d.changed.length ? `${d.changed.length} changed` : "",
  ].filter(Boolean).join(", ");
  lines.push(s.red(`✖ Drift: ${counts}`) + s.dim(` (${d.unchanged} unchanged)`));
  const width = Math.max(
    8,
    ...[...d.added, ...d.removed, ...d.changed].map((c) => cmdName(c).length),
  );
  for (const c of d.added) {
    lines.push(
      `  ${s.green("+")} ${cmdName(c).padEnd(width)}  ${
        s.dim("in the code, not on Discord (a sync creates it)")
      }`,
    );
  }
  for (const c of d.removed) {
    lines.push(
      `  ${s.red("-")} ${cmdName(c).padEnd(width)}  ${
        s.dim("on Discord, not in the code (a sync deletes it)")
      }`,
    );
  }
  for (const c of d.changed) lines.push(...renderChange(c, s));
  const unchangedFp = r.syncedFingerprint === r.fingerprint;
  lines.push(
    unchangedFp
      ? s.yellow(
        "The code has not changed since the last sync, so a plain sync skips: " +
          "run `commands sync --force` to overwrite Discord's copy.",
      )
      : "Run `commands sync` to apply.",
  );
  return lines.join("\n");
}

function renderChange(c: CommandChange, s: Style): string[] {
  const out = [`  ${s.yellow("~")} ${cmdName(c)}`];
  for (const f of c.fields) {
    out.push(`      ${s.bold(f.path)}`);
    out.push(`        ${s.dim("discord:")} ${s.red(show(f.discord))}`);
    out.push(`        ${s.dim("code:   ")} ${s.green(show(f.code))}`);
  }
  return out;
}

function resultDetail(r: ScopeResult): string {
  const parts: string[] = [];
  if (r.diff) {
    const d = r.diff;
    const kinds = [
      d.added ? `${d.added} added` : "",
      d.removed ? `${d.removed} removed` : "",
      d.changed ? `${d.changed} changed` : "",
    ].filter(Boolean);
    parts.push(kinds.length ? kinds.join(", ") : "no changes");
  }
  if (r.cooldownUntil) parts.push(`cooldown until ${utcTime(r.cooldownUntil)}`);
  if (r.error) parts.push(r.error);
  return parts.join("; ");
}

function outcomeColor(outcome: string, s: Style): (t: string) => string {
  if (outcome === "synced" || outcome === "in_sync" || outcome === "cleared") return s.green;
  if (outcome === "unchanged" || outcome === "cooldown" || outcome === "busy") return s.yellow;
  return s.red;
}

function renderSync(r: SyncReport, s: Style): string {
  const head = r.status === "ok"
    ? s.green("✔ ok")
    : r.status === "skipped"
    ? s.yellow("• skipped")
    : r.status === "degraded"
    ? s.yellow("▲ degraded")
    : s.red("✖ failed");
  const lines = [
    `${head}  ${r.message}`,
    s.dim(
      `  fingerprint ${short(r.fingerprint)} · ${r.calls} Discord calls · trigger ${r.trigger}` +
        (r.forced ? " · forced" : "") + (r.fallback ? " · per-guild fallback" : ""),
    ),
  ];
  const width = Math.max(...r.results.map((x) => x.scope.length));
  for (const x of r.results) {
    const outcome = outcomeColor(x.outcome, s)(x.outcome.padEnd(12));
    lines.push(
      `  ${x.scope.padEnd(width)}  ${outcome}  ${String(x.calls).padStart(2)} calls  ${
        resultDetail(x)
      }`.trimEnd(),
    );
  }
  for (const p of r.problems ?? []) lines.push(`  ${s.red("-")} ${p}`);
  if (r.results.some((x) => x.outcome === "unchanged") && r.status === "skipped") {
    lines.push(
      s.dim("  Nothing changed in the code. `commands diff` compares with Discord itself."),
    );
  }
  return lines.join("\n");
}

function renderLog(r: LogReport, s: Style): string {
  if (r.entries.length === 0) return "No sync attempts recorded yet.";
  const rows = r.entries.map((e: SyncLogEntry) => [
    utcTime(e.at),
    e.scope,
    e.outcome,
    String(e.calls),
    short(e.fingerprint),
    e.trigger + (e.forced ? "!" : ""),
    resultDetail(e),
  ]);
  const header = ["TIME", "SCOPE", "RESULT", "CALLS", "FINGERPRINT", "TRIGGER", "DETAIL"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[], paint: (i: number, t: string) => string) =>
    cells.map((c, i) => paint(i, i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ")
      .trimEnd();
  return [
    s.bold(line(header, (_, t) => t)),
    ...rows.map((row) => line(row, (i, t) => (i === 2 ? outcomeColor(row[2], s)(t) : t))),
    s.dim(`(${r.entries.length} newest of at most ${r.cap} kept; "!" = forced)`),
  ].join("\n");
}

/** Runs the CLI; resolves to the exit code (see the module comment). */
export async function runCommandsCli(
  args: string[],
  partial: Partial<CliIO> = {},
): Promise<number> {
  const io: CliIO = { ...defaultBaseIO(), ...partial };
  let opts: Parsed;
  try {
    opts = parseArgs(args);
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  if (opts.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  if (!opts.sub || !["diff", "sync", "log"].includes(opts.sub)) {
    return usage(io, opts.sub ? `unknown sub-command "${opts.sub}"` : "missing sub-command");
  }
  if (opts.force && opts.sub !== "sync") return usage(io, "--force only applies to sync");
  if (opts.guild && opts.sub !== "diff") return usage(io, "--guild only applies to diff");
  if (opts.guild && !/^\d{17,20}$/.test(opts.guild)) {
    return usage(io, "--guild must be a Discord id");
  }
  if (opts.limit && opts.sub !== "log") return usage(io, "--limit only applies to log");
  if (opts.limit && !/^\d{1,3}$/.test(opts.limit)) return usage(io, "--limit must be a number");

  const conn = connection(io, opts, `commands ${opts.sub}`);
  if ("usage" in conn) return usage(io, conn.usage);
  const { base, token, s, fail } = conn;
  if (!token) return fail(NO_TOKEN);

  if (opts.sub === "diff") {
    const q = opts.guild ? `?guild=${opts.guild}` : "";
    const a = await callBot(io, base, token, "GET", `/commands/diff${q}`, undefined, {
      timeoutMs: 60_000,
    });
    if (!a.ok) return fail(a.message, a.status);
    const report = a.body as DiffReport;
    io.stdout(opts.json ? JSON.stringify(report, null, 2) : renderDiff(report, s));
    return report.inSync ? EXIT.ok : EXIT.drift;
  }
  if (opts.sub === "sync") {
    const body = opts.force ? { force: true } : {};
    // Long enough for the per-guild fallback's spacing.
    const a = await callBot(io, base, token, "POST", "/commands/sync", body, {
      timeoutMs: 10 * 60_000,
    });
    if (!a.ok) return fail(a.message, a.status);
    const report = a.body as SyncReport;
    io.stdout(opts.json ? JSON.stringify(report, null, 2) : renderSync(report, s));
    return report.status === "ok" || report.status === "skipped" ? EXIT.ok : EXIT.failed;
  }
  const limit = opts.limit ? `?limit=${opts.limit}` : "";
  const a = await callBot(io, base, token, "GET", `/commands/log${limit}`, undefined, {
    timeoutMs: 60_000,
  });
  if (!a.ok) return fail(a.message, a.status);
  const report = a.body as LogReport;
  io.stdout(opts.json ? JSON.stringify(report, null, 2) : renderLog(report, s));
  return EXIT.ok;
}

function usage(io: CliIO, message: string): number {
  return usageError(io, "commands", USAGE, message);
}
