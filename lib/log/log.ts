/** Structured logging: one JSON line per event, redacted, with level filtering. */
import { redact, redactString } from "./redact.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (request, interaction or run id). */
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to console (stderr for warn/error). */
  sink?: (line: string, level: LogLevel) => void;
  now?: () => number;
}

function defaultSink(line: string, level: LogLevel): void {
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const sink = options.sink ?? defaultSink;
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const time = new Date(now()).toISOString();
    let line: string;
    try {
      // level, time and msg come first and cannot be overwritten by a field of the same name.
      const core = { level, time, msg };
      const entry = redact(Object.assign({}, core, base, fields, core));
      line = JSON.stringify(entry, (_k, v) => typeof v === "bigint" ? v.toString() : v);
    } catch {
      // A field that cannot be read or serialised (a throwing getter) must not break the caller.
      line = JSON.stringify({ level, time, msg: redactString(msg), note: "unserialisable" });
    }
    sink(line, level);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** Drops everything: the default of clients given no logger, and for tests that ignore logs. */
export const silentLogger: Logger = createLogger({ sink: () => {} });
