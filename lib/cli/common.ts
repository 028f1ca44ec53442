/**
 * What the operator CLIs (sync-helper.ts and the lib/cli/ modules) share, so each reads its
 * options and talks to the bot the same way: ANSI styling, the one option parser, the connection
 * settings (--url/--token with their env fallbacks), the default IO, and the one authenticated
 * call to the bot's HTTP API with its messages for an unreachable bot, a refused token, a wrong
 * URL and an error answer.
 */
import { type CliEnv, cliEnv } from "../config.ts";

/** The IO every CLI needs; each CLI's own IO type extends it. */
export interface BaseIO {
  /** One line (or block) of normal output. */
  stdout(text: string): void;
  /** One line of diagnostics. */
  stderr(text: string): void;
  env(name: string): string | undefined;
  fetch: typeof fetch;
  /** Colour by default when true (and NO_COLOR is unset). */
  isTTY: boolean;
}

/** Exit code for "could not run" (usage, bot unreachable, 401, HTTP error). */
const EXIT_ERROR = 2;

export const DEFAULT_URL = "http://localhost:8000";

// --- styling ----------------------------------------------------------------------------------

export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** ANSI colours when `color`, the plain text otherwise. */
export function style(color: boolean): Style {
  const wrap = (code: string) => (s: string) => color ? `\x1b[${code}m${s}\x1b[0m` : s;
  return {
    green: wrap("32"),
    red: wrap("31"),
    yellow: wrap("33"),
    dim: wrap("2"),
    bold: wrap("1"),
  };
}

// --- option parsing ---------------------------------------------------------------------------

/** A bad command line: reported with the usage text, exit code 2. */
export class UsageError extends Error {}

export interface ArgSpec {
  /** Options besides --url and --token that take a value (`--name value` or `--name=value`). */
  valued: readonly string[];
  /** Switches besides --json, --color and --no-color; `--name=true|false` also sets or clears one. */
  flags: readonly string[];
  /** Whether an empty value (`--name=`) is accepted. */
  allowEmpty: boolean;
  /** Takes each positional argument in order; may throw a UsageError. */
  positional(arg: string): void;
}

export interface ParsedArgs {
  /** The valued options given (the last one wins), including url and token. */
  values: Record<string, string>;
  /** The switches of `ArgSpec.flags` given. */
  flags: Set<string>;
  json: boolean;
  /** --color / --no-color, the last one wins; undefined when neither. */
  color?: boolean;
  help: boolean;
}

/** Parses `argv` by `spec`; throws a UsageError on an unknown or malformed option. */
export function parseArgs(argv: string[], spec: ArgSpec): ParsedArgs {
  const out: ParsedArgs = { values: {}, flags: new Set(), json: false, help: false };
  const valued = new Set(["url", "token", ...spec.valued]);
  const flags = new Set(spec.flags);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") {
      out.help = true;
      continue;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (valued.has(name)) {
        const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
        if (
          value === undefined || (!spec.allowEmpty && value === "") ||
          (eq < 0 && value.startsWith("--"))
        ) {
          throw new UsageError(`--${name} needs a value`);
        }
        out.values[name] = value;
        continue;
      }
      if (eq >= 0) {
        const value = arg.slice(eq + 1);
        if (!flags.has(name) || (value !== "true" && value !== "false")) {
          throw new UsageError(
            flags.has(name) ? `--${name} takes true or false` : `--${name} takes no value`,
          );
        }
        if (value === "true") out.flags.add(name);
        else out.flags.delete(name);
        continue;
      }
      if (name === "json") out.json = true;
      else if (name === "color") out.color = true;
      else if (name === "no-color") out.color = false;
      else if (flags.has(name)) out.flags.add(name);
      else throw new UsageError(`unknown option ${arg}`);
      continue;
    }
    spec.positional(arg);
  }
  return out;
}

/** Prints `${cli}: message`, a blank line and the usage text to stderr; returns exit code 2. */
export function usageError(io: BaseIO, cli: string, usage: string, message: string): number {
  io.stderr(`${cli}: ${message}\n\n${usage}`);
  return EXIT_ERROR;
}

// --- connection -------------------------------------------------------------------------------

/** Where and how a CLI talks to the bot, and how it reports errors once the options are read. */
export interface Connection {
  /** --url, else $SYNC_URL, else DEFAULT_URL; without trailing slashes. */
  base: string;
  /** --token, else $SYNC_AUTH_TOKEN; check it with `NO_TOKEN`. */
  token: string | undefined;
  s: Style;
  /**
   * Reports an error and returns exit code 2: `{error, status}` on stdout with --json, else
   * `${prefix}: message` in red on stderr.
   */
  fail(message: string, status?: number): number;
}

/**
 * The bot's base URL: --url, else $SYNC_URL, else DEFAULT_URL (an empty $SYNC_URL counts as
 * unset), without trailing slashes. Throws a UsageError unless it is an http(s) URL.
 */
export function baseUrl(url: string | undefined, env: BaseIO["env"]): string {
  const base = (url ?? (env("SYNC_URL") || DEFAULT_URL)).replace(/\/+$/, "");
  if (!/^https?:\/\/\S+$/.test(base)) {
    throw new UsageError(`--url must be an http(s) URL, got ${base}`);
  }
  return base;
}

/** The operator token: --token, else $SYNC_AUTH_TOKEN (an empty one counts as unset). */
export function operatorToken(token: string | undefined, env: BaseIO["env"]): string | undefined {
  return token ?? (env("SYNC_AUTH_TOKEN") || undefined);
}

/**
 * The connection for the parsed options, or `{ usage }` (a usage message) when the base URL is
 * not http(s). `prefix` heads the error lines (`backup list`, `commands sync`).
 */
export function connection(
  io: BaseIO,
  opts: { url?: string; token?: string; json: boolean; color?: boolean },
  prefix: string,
): Connection | { usage: string } {
  let base: string;
  try {
    base = baseUrl(opts.url, io.env);
  } catch (error) {
    return { usage: (error as UsageError).message };
  }
  const token = operatorToken(opts.token, io.env);
  const color = opts.color ?? (io.isTTY && !io.env("NO_COLOR"));
  const s = style(!opts.json && color);
  const fail = (message: string, status?: number) => {
    if (opts.json) io.stdout(JSON.stringify({ error: message, ...(status ? { status } : {}) }));
    else io.stderr(s.red(`${prefix}: ${message}`));
    return EXIT_ERROR;
  };
  return { base, token, s, fail };
}

export const NO_TOKEN = "no operator token: pass --token or set SYNC_AUTH_TOKEN";

// --- default IO -------------------------------------------------------------------------------

/** The process's IO: console lines, the CLI environment, global fetch, stdout's terminal-ness. */
export function defaultBaseIO(): BaseIO {
  let isTTY = false;
  try {
    isTTY = Deno.stdout.isTerminal();
  } catch {
    // no terminal information: plain output
  }
  return {
    stdout: (t) => console.log(t),
    stderr: (t) => console.error(t),
    env: (name) => cliEnv()[name as keyof CliEnv],
    fetch: (input, init) => fetch(input, init),
    isTTY,
  };
}

// --- HTTP ---------------------------------------------------------------------------------------

/** The call did not get a usable answer (see `request` and `callBot` for which). */
export interface CallFailure {
  ok: false;
  message: string;
  status?: number;
}

/** The bot answered (any status but 401): the status, the raw body and its JSON when parsed. */
export interface Reply {
  ok: true;
  status: number;
  /** Whether the status is 2xx. */
  httpOk: boolean;
  raw: Uint8Array;
  /** The body as JSON; undefined when empty, not JSON, or not parsed (see `parse`). */
  json: unknown;
}

/**
 * Sends `method path` to the bot with the bearer token when there is one (and `body` as JSON when
 * given), waiting at most `timeoutMs` for the whole answer. The body is parsed as JSON unless
 * `parse` is false and the status is 2xx. Fails when the bot is unreachable or answers 401; every
 * other answer is the caller's to read.
 */
export async function request(
  io: BaseIO,
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  body: unknown,
  opts: { timeoutMs: number; parse?: boolean },
): Promise<Reply | CallFailure> {
  const { timeoutMs, parse = true } = opts;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    let res: Response;
    try {
      res = await io.fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctl.signal,
      });
    } catch (error) {
      const why = ctl.signal.aborted
        ? `no answer within ${timeoutMs / 1000} s`
        : error instanceof Error
        ? error.message
        : String(error);
      return {
        ok: false,
        message: `cannot reach the bot at ${base} (${why}). Is it running? Set --url or SYNC_URL.`,
      };
    }
    const raw = new Uint8Array(await res.arrayBuffer());
    let json: unknown;
    if (parse || !res.ok) {
      try {
        json = raw.length ? JSON.parse(new TextDecoder().decode(raw)) : undefined;
      } catch {
        json = undefined;
      }
    }
    if (res.status === 401) {
      return { ok: false, status: 401, message: unauthorized(errorField(json), token) };
    }
    return { ok: true, status: res.status, httpOk: res.ok, raw, json };
  } finally {
    clearTimeout(timer);
  }
}

/** The message for a 401: what the bot said, and what to fix (it depends on whether a token went). */
function unauthorized(detail: string | undefined, token: string | undefined): string {
  return `unauthorized (401): ${detail ?? "bad token"}. ` +
    (token === undefined
      ? "Pass --token or set SYNC_AUTH_TOKEN to the bot's SYNC_AUTH_TOKEN."
      : "The token does not match the bot's SYNC_AUTH_TOKEN (check --token or SYNC_AUTH_TOKEN).");
}

/** The `error` field of an error answer's JSON, when there is one. */
function errorField(json: unknown): string | undefined {
  const error = (json as { error?: unknown } | undefined)?.error;
  return typeof error === "string" ? error : undefined;
}

/**
 * The failure for an answer that is not 2xx: the bot's own error, or for a 404 on a path the bot
 * does not know (no error of its own, or its router's "not found") a hint that --url is wrong.
 */
export function errorAnswer(base: string, path: string, reply: Reply): CallFailure {
  const detail = errorField(reply.json);
  if (reply.status === 404 && (detail === undefined || detail === "not found")) {
    return {
      ok: false,
      status: 404,
      message: `${base}${path} answered 404: is this the bot's URL?`,
    };
  }
  const text = detail ?? new TextDecoder().decode(reply.raw.slice(0, 200));
  return { ok: false, status: reply.status, message: `the bot answered ${reply.status}: ${text}` };
}

/** A 2xx answer: its JSON (`body`), and its bytes. */
export interface Answer {
  ok: true;
  status: number;
  body: unknown;
  raw: Uint8Array;
}

/**
 * `request` for an answer that is only of use when it succeeds: any status but 2xx is a failure
 * (see `errorAnswer`), and so is a 2xx answer that is not JSON, unless `raw` (then `body` is
 * undefined and the bytes are the answer).
 */
export async function callBot(
  io: BaseIO,
  base: string,
  token: string,
  method: string,
  path: string,
  body: unknown,
  opts: { timeoutMs: number; raw?: boolean },
): Promise<Answer | CallFailure> {
  const a = await request(io, base, token, method, path, body, {
    timeoutMs: opts.timeoutMs,
    parse: !opts.raw,
  });
  if (!a.ok) return a;
  if (!a.httpOk) return errorAnswer(base, path, a);
  if (!opts.raw && a.json === undefined) {
    return { ok: false, status: a.status, message: `the bot answered ${path} without JSON` };
  }
  return { ok: true, status: a.status, body: a.json, raw: a.raw };
}

// --- formatting ---------------------------------------------------------------------------------

/** A time as `YYYY-MM-DD HH:MM:SS UTC`; "-" for none. */
export function utcTime(ms: number | null): string {
  return ms === null
    ? "-"
    : new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}
