/**
 * The sync CLI (lib/cli/sync.ts) in-process: its command line, and its commands against a fake
 * fetch (the whole path against the real bot is tests/sync_helper_test.ts; the calls, the
 * following and the wording are tested in tests/cli/sync_api, sync_follow and sync_format).
 */
import assert from "node:assert/strict";
import { type Options, parseSyncArgs, runSyncCli } from "../../lib/cli/sync.ts";
import { UsageError } from "../../lib/cli/common.ts";
import { idleProgress } from "../../lib/jobs/progress.ts";

const parse = (argv: string[], env: Record<string, string> = {}): Options =>
  parseSyncArgs(argv, (name) => env[name]);

Deno.test("sync cli: arguments", () => {
  const a = parse([
    "start",
    "--url",
    "http://x.test:8000/",
    "--chunk-size=30",
    "--start-index",
    "0",
    "--dry-run",
  ]);
  assert.deepEqual([a.command, a.url, a.chunkSize, a.startIndex, a.dryRun], [
    "start",
    "http://x.test:8000",
    30,
    0,
    true,
  ]);
  const b = parse(["status", "--url=http://y.test"], {
    SYNC_URL: "http://z.test",
    SYNC_AUTH_TOKEN: "t",
  });
  assert.deepEqual([b.url, b.token], ["http://y.test", "t"]);
  assert.equal(parse([], { SYNC_URL: "http://z.test" }).url, "http://z.test");
  assert.equal(parse([]).url, "http://localhost:8000");
  assert.equal(parse([], { SYNC_URL: "" }).url, "http://localhost:8000");
  assert.equal(parse(["start", "--dry-run=false"]).dryRun, false);
  assert.equal(parse(["start", "--dry-run=true"]).dryRun, true);
  assert.equal(parse(["--help"]).command, "help");
  assert.equal(parse(["status"]).pollMs, 2000);
  for (
    const bad of [
      ["--chunk-size", "x"],
      ["--url"],
      ["--bogus"],
      ["a", "b"],
      ["--url", "ftp://x"],
      ["--chunk-size=0"],
      ["start", "--dry-run=yes"],
      ["status", "--all"],
      ["complete", "--all", "--guild", "200000000000000001"],
      ["status", "--guild", "x"],
    ]
  ) {
    assert.throws(() => parse(bad), UsageError, `should refuse ${bad.join(" ")}`);
  }
});

interface Call {
  method: string;
  url: string;
  auth: string | null;
  body: unknown;
}

/** The CLI against a fake bot: `answer` gives each call's status and JSON (or text). */
async function run(
  args: string[],
  answer: (c: Call) => { status: number; json?: unknown; text?: string },
) {
  const calls: Call[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSyncCli(args, {
    env: (name) => ({ SYNC_URL: "http://bot.test" } as Record<string, string>)[name],
    isTTY: false,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    write: () => {},
    sleep: () => Promise.resolve(),
    fetch: (input, init) => {
      const c: Call = {
        method: init?.method ?? "GET",
        url: String(input),
        auth: new Headers(init?.headers).get("authorization"),
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
      };
      calls.push(c);
      const a = answer(c);
      return Promise.resolve(
        new Response(a.text ?? JSON.stringify(a.json ?? {}), { status: a.status }),
      );
    },
  });
  return { code, calls, out: out.join("\n"), err: err.join("\n") };
}

const progress = (over: Record<string, unknown>) => ({ ...idleProgress("sync", "g"), ...over });

Deno.test("sync cli: a refused token exits 1 with what to fix; a usage error exits 2", async () => {
  const noToken = await run(["status"], () => ({ status: 401, json: { error: "unauthorized" } }));
  assert.equal(noToken.code, 1);
  assert.match(noToken.err, /^error: unauthorized \(401\): unauthorized\. Pass --token/);

  const usage = await run(["frobnicate"], () => ({ status: 200 }));
  assert.equal(usage.code, 2);
  assert.match(usage.err, /unknown command frobnicate\n\nUsage: sync-helper\.ts/);
  assert.equal(usage.calls.length, 0);
});

Deno.test("sync cli: start sends the run's options; a conflict exits 1; status-link", async () => {
  const started = await run(
    ["start", "--token", "t", "--chunk-size", "7", "--dry-run", "--guild", "200000000000000001"],
    () => ({ status: 202, json: { runId: "r1", chunk: 1 } }),
  );
  assert.equal(started.code, 0, started.err);
  assert.deepEqual(started.calls[0].body, {
    guildId: "200000000000000001",
    chunkSize: 7,
    startIndex: 0,
    dryRun: true,
  });
  assert.match(started.out, /started chunk 1 of run r1\nfollow it with: sync-helper\.ts status/);

  const busy = await run(["start", "--token", "t"], () => ({
    status: 409,
    json: { error: "busy", status: progress({ runId: "r0", lease: { live: true } }) },
  }));
  assert.equal(busy.code, 1);
  assert.match(busy.err, /refused: a chunk is already running/);

  const link = await run(["status-link", "--token", "t"], () => ({
    status: 200,
    json: { url: "http://bot.test/status?t=x", expiresAt: "2026-01-01T01:00:00Z" },
  }));
  assert.equal(link.code, 0);
  assert.equal(link.out.split("\n").at(-1), "http://bot.test/status?t=x", "alone on the last line");
});
