import { createLogger, type LogLevel, silentLogger } from "../../lib/log/log.ts";
import { memoryLogger } from "../_log.ts";
import { registerSecret } from "../../lib/log/redact.ts";
import assert from "node:assert/strict";

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB";

/** A logger writing raw lines (and their levels) into an array. */
function capture(level?: LogLevel) {
  const lines: { line: string; level: LogLevel }[] = [];
  const log = createLogger({
    level,
    now: () => T0,
    sink: (line, l) => lines.push({ line, level: l }),
  });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l.line)) };
}

/** Replaces console.log/console.error while `fn` runs and returns what each received. */
function withConsole(fn: () => void): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => out.push(args.join(" "));
  console.error = (...args: unknown[]) => err.push(args.join(" "));
  try {
    fn();
  } finally {
    console.log = log;
    console.error = error;
  }
  return { out, err };
}

Deno.test("log: one JSON line per event with level, time, msg and fields", () => {
  const { log, lines } = capture();
  log.info("guild synced", { guildId: "123456789012345678", members: 42, ok: true });
  assert.deepStrictEqual(lines.length, 1);
  const { line, level } = lines[0];
  assert.deepStrictEqual(level, "info");
  assert.ok(!line.includes("\n"), "a single line");
  assert.deepStrictEqual(JSON.parse(line), {
    level: "info",
    time: "2026-01-02T03:04:05.678Z",
    msg: "guild synced",
    guildId: "123456789012345678",
    members: 42,
    ok: true,
  });
  assert.deepStrictEqual(Object.keys(JSON.parse(line)).slice(0, 3), ["level", "time", "msg"]);
});

Deno.test("log: a message with newlines still makes one line", () => {
  const { log, lines } = capture();
  log.warn("first\nsecond", { detail: "a\nb" });
  assert.deepStrictEqual(lines.length, 1);
  assert.ok(!lines[0].line.includes("\n"));
  assert.deepStrictEqual(JSON.parse(lines[0].line).msg, "first\nsecond");
});

Deno.test("log: fields cannot overwrite level, time or msg", () => {
  const { log, parsed } = capture();
  log.info("real message", { level: "error", time: "yesterday", msg: "fake", extra: 1 });
  const [entry] = parsed();
  assert.deepStrictEqual(entry.level, "info");
  assert.deepStrictEqual(entry.time, "2026-01-02T03:04:05.678Z");
  assert.deepStrictEqual(entry.msg, "real message");
  assert.deepStrictEqual(entry.extra, 1);
});

Deno.test("log: the level filters, info by default", () => {
  const levels: LogLevel[] = ["debug", "info", "warn", "error"];
  const expectations: [LogLevel | undefined, string[]][] = [
    [undefined, ["info", "warn", "error"]],
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
  ];
  for (const [min, expected] of expectations) {
    const { log, parsed, lines } = capture(min);
    for (const l of levels) log[l](`at ${l}`);
    assert.deepStrictEqual(parsed().map((e) => e.level), expected, `level ${min}`);
    assert.deepStrictEqual(lines.map((l) => l.level), expected);
    assert.deepStrictEqual(parsed().map((e) => e.msg), expected.map((l) => `at ${l}`));
  }
});

Deno.test("log: child loggers merge fields; later ones win; the parent is unchanged", () => {
  const { log, parsed } = capture();
  const child = log.child({ requestId: "r1", guildId: "g1" });
  const grandchild = child.child({ step: "fetch", guildId: "g2" });
  grandchild.info("deep", { attempt: 2, step: "retry" });
  child.info("mid");
  log.info("top");
  const [deep, mid, top] = parsed();
  assert.deepStrictEqual(deep, {
    level: "info",
    time: "2026-01-02T03:04:05.678Z",
    msg: "deep",
    requestId: "r1",
    guildId: "g2",
    step: "retry",
    attempt: 2,
  });
  assert.deepStrictEqual(mid, {
    level: "info",
    time: deep.time,
    msg: "mid",
    requestId: "r1",
    guildId: "g1",
  });
  assert.deepStrictEqual(top, { level: "info", time: deep.time, msg: "top" });
});

Deno.test("log: children keep the level and sink of their parent", () => {
  const { log, lines } = capture("warn");
  const child = log.child({ a: 1 });
  child.info("dropped");
  child.error("kept");
  assert.deepStrictEqual(lines.length, 1);
  assert.deepStrictEqual(JSON.parse(lines[0].line).a, 1);
});

Deno.test("log: messages and fields are redacted", () => {
  const secret = "log-test-registered-secret-91x";
  registerSecret(secret);
  const { log, lines } = capture();
  log.error(`login with ${BOT_TOKEN} failed (${secret})`, {
    token: "field-token-value",
    headers: { authorization: "Bot abc" },
    url: "https://discord.com/api/webhooks/1/hookTokenValue1234567890",
    nested: [{ note: `again ${secret}` }],
    err: new Error(`request with Bearer abc.def.123456 failed`),
  });
  const line = lines[0].line;
  for (
    const leaked of [BOT_TOKEN, secret, "field-token-value", "hookTokenValue", "abc.def.123456"]
  ) {
    assert.ok(!line.includes(leaked), `${leaked} leaked into ${line}`);
  }
  const entry = JSON.parse(line);
  assert.deepStrictEqual(entry.msg, "login with [redacted] failed ([redacted])");
  assert.deepStrictEqual(entry.token, "[redacted]");
  assert.deepStrictEqual(entry.headers, { authorization: "[redacted]" });
  assert.deepStrictEqual(entry.url, "[redacted]");
  assert.deepStrictEqual(entry.nested, [{ note: "again [redacted]" }]);
  assert.deepStrictEqual(entry.err, {
    name: "Error",
    message: "request with Bearer [redacted] failed",
  });
});

Deno.test("log: child fields are redacted too", () => {
  const { log, parsed } = capture();
  log.child({ interactionToken: "aW50ZXJhY3Rpb246MTIzOmFiYw", sync_token: "x" }).info("hi");
  const [entry] = parsed();
  assert.deepStrictEqual(entry.interactionToken, "[redacted]");
  assert.deepStrictEqual(entry.sync_token, "[redacted]");
});

Deno.test("log: bigints are written as strings", () => {
  const { log, parsed } = capture();
  log.info("counts", { total: 12345678901234567890n, nested: { n: 1n }, list: [2n] });
  const [entry] = parsed();
  assert.deepStrictEqual(entry.total, "12345678901234567890");
  assert.deepStrictEqual(entry.nested, { n: "1" });
  assert.deepStrictEqual(entry.list, ["2"]);
});

Deno.test("log: Dates are written in ISO form", () => {
  const { log, parsed } = capture();
  log.info("when", { at: new Date(T0) });
  assert.deepStrictEqual(parsed()[0].at, "2026-01-02T03:04:05.678Z");
});

Deno.test("log: a field that cannot be read never breaks the caller", () => {
  const { log, parsed } = capture();
  const bad = {
    get boom(): string {
      throw new Error("getter failed");
    },
  };
  log.warn(`careful ${BOT_TOKEN}`, { bad });
  const [entry] = parsed();
  assert.deepStrictEqual(entry, {
    level: "warn",
    time: "2026-01-02T03:04:05.678Z",
    msg: "careful [redacted]",
    note: "unserialisable",
  });
});

Deno.test("log: circular fields are written without throwing", () => {
  const { log, lines } = capture();
  // deno-lint-ignore no-explicit-any
  const loop: any = { name: "loop" };
  loop.self = loop;
  log.info("cycle", { loop });
  assert.deepStrictEqual(lines.length, 1);
  assert.match(lines[0].line, /"name":"loop"/);
});

Deno.test("log: the default sink writes info to stdout and warnings to stderr", () => {
  const log = createLogger({ level: "debug", now: () => T0 });
  const { out, err } = withConsole(() => {
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
  });
  assert.deepStrictEqual(out.map((l) => JSON.parse(l).msg), ["d", "i"]);
  assert.deepStrictEqual(err.map((l) => JSON.parse(l).msg), ["w", "e"]);
});

Deno.test("log: the clock defaults to the real time", () => {
  const lines: string[] = [];
  const before = Date.now();
  createLogger({ sink: (l) => lines.push(l) }).info("now");
  const t = Date.parse(JSON.parse(lines[0]).time);
  assert.ok(t >= before && t <= Date.now());
});

Deno.test("log: silentLogger writes nothing", () => {
  const { out, err } = withConsole(() => {
    silentLogger.error("nothing", { a: 1 });
    silentLogger.child({ b: 2 }).info("nothing");
  });
  assert.deepStrictEqual(out, []);
  assert.deepStrictEqual(err, []);
});

Deno.test("log: memoryLogger collects parsed lines, debug and up by default", () => {
  const log = memoryLogger();
  log.debug("one", { n: 1 });
  log.child({ run: "r" }).error("two");
  assert.deepStrictEqual(log.lines.length, 2);
  assert.deepStrictEqual(log.lines.map((l) => [l.level, l.msg]), [["debug", "one"], [
    "error",
    "two",
  ]]);
  assert.deepStrictEqual(log.lines[0].n, 1);
  assert.deepStrictEqual(log.lines[1].run, "r");
  assert.deepStrictEqual(typeof log.lines[0].time, "string");

  const quiet = memoryLogger("warn");
  quiet.info("dropped");
  quiet.warn("kept", { token: "memory-token" });
  assert.deepStrictEqual(quiet.lines.map((l) => l.msg), ["kept"]);
  assert.deepStrictEqual(quiet.lines[0].token, "[redacted]");
});
