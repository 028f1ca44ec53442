/**
 * sync-helper.ts as a subprocess against the real bot (served over HTTP in this process) and the
 * emulator; plus its argument parsing and its terminal progress bar, called in-process.
 */
import { assert, assertEquals, assertStringIncludes } from "./_assert.ts";
import { main, parseArgs, UsageError } from "../sync-helper.ts";
import { GUILD, outOfSync, startFixture, TOKEN } from "./e2e/sync_helpers.ts";
import { keys } from "../lib/kv/keys.ts";
import { leaseName } from "../lib/jobs/store.ts";
import { freePort } from "./e2e/sync_process.ts";

const CLI = new URL("../sync-helper.ts", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", CLI, ...args],
    env: { NO_COLOR: "1", SYNC_URL: "", SYNC_AUTH_TOKEN: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("sync-helper: arguments", () => {
  const a = parseArgs([
    "start",
    "--url",
    "http://x.test:8000/",
    "--chunk-size=30",
    "--start-index",
    "0",
    "--dry-run",
  ], {});
  assertEquals([a.command, a.url, a.chunkSize, a.startIndex, a.dryRun], [
    "start",
    "http://x.test:8000",
    30,
    0,
    true,
  ]);
  const b = parseArgs(["status", "--url=http://y.test"], {
    SYNC_URL: "http://z.test",
    SYNC_AUTH_TOKEN: "t",
  });
  assertEquals([b.url, b.token], ["http://y.test", "t"]);
  assertEquals(parseArgs([], { SYNC_URL: "http://z.test" }).url, "http://z.test");
  assertEquals(parseArgs([], {}).url, "http://localhost:8000");
  for (
    const bad of [["--chunk-size", "x"], ["--url"], ["--bogus"], ["a", "b"], ["--url", "ftp://x"], [
      "--chunk-size=0",
    ]]
  ) {
    let threw = false;
    try {
      parseArgs(bad, {});
    } catch (e) {
      threw = e instanceof UsageError;
    }
    assert(threw, `should refuse ${bad.join(" ")}`);
  }
});

Deno.test("sync-helper: no arguments prints help; unknown commands are usage errors", async () => {
  const help = await cli([]);
  assertEquals(help.code, 0);
  assertStringIncludes(help.stdout, "Usage: sync-helper.ts <command>");
  assertStringIncludes(help.stdout, "complete");
  const bad = await cli(["frobnicate"]);
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stderr, "unknown command");
});

Deno.test("sync-helper: clear messages for an unreachable URL and a bad token", async () => {
  const port = freePort();
  const down = await cli(["status", "--url", `http://127.0.0.1:${port}`]);
  assertEquals(down.code, 1);
  assertStringIncludes(down.stderr, "cannot reach the bot");
  const fx = await startFixture({ guilds: [{ members: 10 }] });
  try {
    const noToken = await cli(["status", "--url", fx.bot.url]);
    assertEquals(noToken.code, 1);
    assertStringIncludes(noToken.stderr, "unauthorized (401)");
    assertStringIncludes(noToken.stderr, "--token");
    const wrong = await cli(["complete", "--url", fx.bot.url, "--token", "not-the-token-000000"]);
    assertEquals(wrong.code, 1);
    assertStringIncludes(wrong.stderr, "does not match");
    const ok = await cli(["status"], { SYNC_URL: fx.bot.url, SYNC_AUTH_TOKEN: TOKEN });
    assertEquals(ok.code, 0);
    assertStringIncludes(ok.stdout, "No sync has run yet");
  } finally {
    await fx.close();
  }
});

Deno.test("sync-helper: complete drives a run chunk by chunk to the end (plain lines, exit 0)", async () => {
  const fx = await startFixture({ guilds: [{ members: 250 }] }, {
    env: { AUTO_CONTINUE_CHUNKS: "false" },
  });
  try {
    const r = await cli([
      "complete",
      "--url",
      fx.bot.url,
      "--token",
      TOKEN,
      "--chunk-size",
      "60",
      "--poll-ms",
      "50",
    ]);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertStringIncludes(r.stdout, "started chunk 1 of run");
    assertStringIncludes(r.stdout, "completed");
    assert(!r.stdout.includes("\r"), "no terminal control codes when not a TTY");
    assertEquals(outOfSync(fx.emu), []);
    const st = await fx.bot.status();
    assertEquals([st.state, st.chunkSize], ["completed", 60]);
    assert(st.chunk >= 5);
    const status = await cli(["status", "--url", fx.bot.url, "--token", TOKEN]);
    assertStringIncludes(status.stdout, "completed");
    const json = await cli(["status", "--json", "--url", fx.bot.url, "--token", TOKEN]);
    assertEquals(JSON.parse(json.stdout).state, "completed");
  } finally {
    await fx.close();
  }
});

Deno.test("sync-helper: complete follows a running chunk and continues a run whose chunk died", async () => {
  const fx = await startFixture({
    guilds: [{ members: 200 }],
    limits: { memberPatch: { limit: 3, windowMs: 100 }, memberRole: { limit: 3, windowMs: 100 } },
  }, { env: { AUTO_CONTINUE_CHUNKS: "false" } });
  try {
    const { bot } = fx;
    // A chunk already running: followed, not an error.
    const t = await bot.trigger({ chunkSize: 40 });
    assertEquals(t.status, 202);
    const r = await cli(["complete", "--url", bot.url, "--token", TOKEN, "--poll-ms", "50"]);
    assertEquals(r.code, 0, r.stderr + r.stdout);
    assertStringIncludes(r.stdout, "following run");
    assertEquals(outOfSync(fx.emu), []);

    // A run whose chunk died: marked running, lease lapsed.
    const t2 = await bot.trigger({ startIndex: 0, chunkSize: 50 }, "?wait=true");
    assertEquals(t2.body.state, "waiting");
    const entry = await bot.kv.get<Record<string, unknown>>(keys.jobRun("sync", GUILD));
    await bot.kv.set(keys.jobRun("sync", GUILD), {
      ...entry.value,
      state: "running",
      chunkStartedAt: Date.now(),
    });
    await bot.kv.set(keys.lease(leaseName("sync", GUILD)), {
      owner: "dead",
      expiresAt: Date.now() - 1,
      takenAt: 0,
    });
    const r2 = await cli(["complete", "--url", bot.url, "--token", TOKEN, "--poll-ms", "50"]);
    assertEquals(r2.code, 0, r2.stderr + r2.stdout);
    assertStringIncludes(r2.stdout, "its chunk died");
    const st = await bot.status();
    assertEquals([st.state, st.runId], ["completed", t2.body.runId]);
  } finally {
    await fx.close();
  }
});

Deno.test("sync-helper: a failed run exits 1 with its error; start and stop", async () => {
  const fx = await startFixture({ guilds: [{ members: 50 }] });
  try {
    const g = fx.emu.state.guild(GUILD);
    const botRole = g.roles.get(g.botRole!)!;
    const perms = botRole.permissions;
    botRole.permissions = "0";
    const r = await cli(["complete", "--url", fx.bot.url, "--token", TOKEN, "--poll-ms", "50"]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "failed: the bot lacks the Manage Roles permission");
    botRole.permissions = perms;
    await fx.bot.kv.delete(["cache", "sync_context", GUILD]);
    const start = await cli([
      "start",
      "--url",
      fx.bot.url,
      "--token",
      TOKEN,
      "--start-index",
      "0",
      "--chunk-size",
      "10",
    ]);
    assertEquals(start.code, 0, start.stderr);
    assertStringIncludes(start.stdout, "started chunk 1");
    await fx.bot.waitFor((p) => p.state === "waiting");
    const stop = await cli(["stop", "--url", fx.bot.url, "--token", TOKEN]);
    assertEquals(stop.code, 0);
    assertStringIncludes(stop.stdout, "stopped");
    const again = await cli(["stop", "--url", fx.bot.url, "--token", TOKEN]);
    assertStringIncludes(again.stdout, "nothing to stop");
  } finally {
    await fx.close();
  }
});

Deno.test("sync-helper: on a terminal, complete draws a live progress bar", async () => {
  const fx = await startFixture({ guilds: [{ members: 150 }] }, {
    env: { AUTO_CONTINUE_CHUNKS: "true" },
  });
  try {
    let screen = "";
    const lines: string[] = [];
    const code = await main(
      ["complete", "--url", fx.bot.url, "--token", TOKEN, "--chunk-size", "50", "--poll-ms", "30"],
      {},
      {
        tty: true,
        write: (s) => (screen += s),
        out: {
          log: (l) => lines.push(l),
          err: (l) => lines.push(l),
        },
      },
    );
    assertEquals(code, 0, lines.join("\n"));
    assertStringIncludes(screen, "\r\x1b[2K[");
    assert(/\[#+\.*\]/.test(screen), screen.slice(0, 200));
    assert(lines.some((l) => l.includes("completed")));
  } finally {
    await fx.close();
  }
});
