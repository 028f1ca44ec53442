/** A logger that keeps its lines in memory, for tests that assert on what was logged. */
import { createLogger, type LogFields, type Logger, type LogLevel } from "../lib/log/log.ts";

/** Collects the parsed (and so already redacted) lines; `level` filters as a real logger does. */
export function memoryLogger(level: LogLevel = "debug"): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ level, sink: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}
