/**
 * sync-helper.ts as a subprocess against the real bot (served over HTTP in this process) and the
 * emulator; plus its terminal progress bar, called in-process. The sync CLI's parts are tested
 * one by one in tests/cli/sync_test.ts.
 */
import assert from "node:assert/strict";
import { main } from "../sync-helper.ts";
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

Deno.test("sync-helper: no arguments prints help; unknown commands are usage errors", async () => {
  const help = await cli([]);
  assert.deepStrictEqual(help.code, 0);
  assert.match(help.stdout, /Usage: sync-helper\.ts <command>/);
  assert.match(help.stdout, /complete/);
  const bad = await cli(["frobnicate"]);
  assert.deepStrictEqual(bad.code, 2);
  assert.match(bad.stderr, /unknown command/);
});

Deno.test("sync-helper: clear messages for an unreachable URL and a bad token", async () => {
  const port = freePort();
  const down = await cli(["status", "--url", `http://127.0.0.1:${port}`]);
  assert.deepStrictEqual(down.code, 1);
  assert.match(down.stderr, /cannot reach the bot/);
  const fx = await startFixture({ guilds: [{ members: 10 }] });
  try {
    const noToken = await cli(["status", "--url", fx.bot.url]);
    assert.deepStrictEqual(noToken.code, 1);
    assert.match(noToken.stderr, /unauthorized \(401\)/);
    assert.match(noToken.stderr, /--token/);
    const wrong = await cli(["complete", "--url", fx.bot.url, "--token", "not-the-token-000000"]);
    assert.deepStrictEqual(wrong.code, 1);
    assert.match(wrong.stderr, /does not match/);
    const ok = await cli(["status"], { SYNC_URL: fx.bot.url, SYNC_AUTH_TOKEN: TOKEN });
    assert.deepStrictEqual(ok.code, 0);
    assert.match(ok.stdout, /No sync has run yet/);
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
    assert.deepStrictEqual(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /started chunk 1 of run/);
    assert.match(r.stdout, /completed/);
    assert.ok(!r.stdout.includes("\r"), "no terminal control codes when not a TTY");
    assert.deepStrictEqual(outOfSync(fx.emu), []);
    const st = await fx.bot.status();
    assert.deepStrictEqual([st.state, st.chunkSize], ["completed", 60]);
    assert.ok(st.chunk >= 5);
    const status = await cli(["status", "--url", fx.bot.url, "--token", TOKEN]);
    assert.match(status.stdout, /completed/);
    const json = await cli(["status", "--json", "--url", fx.bot.url, "--token", TOKEN]);
    assert.deepStrictEqual(JSON.parse(json.stdout).state, "completed");
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
    assert.deepStrictEqual(t.status, 202);
    const r = await cli(["complete", "--url", bot.url, "--token", TOKEN, "--poll-ms", "50"]);
    assert.deepStrictEqual(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /following run/);
    assert.deepStrictEqual(outOfSync(fx.emu), []);

    // A run whose chunk died: marked running, lease lapsed.
    const t2 = await bot.trigger({ startIndex: 0, chunkSize: 50 }, "?wait=true");
    assert.deepStrictEqual(t2.body.state, "waiting");
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
    assert.deepStrictEqual(r2.code, 0, r2.stderr + r2.stdout);
    assert.match(r2.stdout, /its chunk died/);
    const st = await bot.status();
    assert.deepStrictEqual([st.state, st.runId], ["completed", t2.body.runId]);
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
    assert.deepStrictEqual(r.code, 1);
    assert.match(r.stderr, /failed: the bot lacks the Manage Roles permission/);
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
    assert.deepStrictEqual(start.code, 0, start.stderr);
    assert.match(start.stdout, /started chunk 1/);
    await fx.bot.waitFor((p) => p.state === "waiting");
    const stop = await cli(["stop", "--url", fx.bot.url, "--token", TOKEN]);
    assert.deepStrictEqual(stop.code, 0);
    assert.match(stop.stdout, /stopped/);
    const again = await cli(["stop", "--url", fx.bot.url, "--token", TOKEN]);
    assert.match(again.stdout, /nothing to stop/);
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
      {
        env: () => undefined,
        isTTY: true,
        write: (s) => (screen += s),
        stdout: (l) => lines.push(l),
        stderr: (l) => lines.push(l),
      },
    );
    assert.deepStrictEqual(code, 0, lines.join("\n"));
    assert.ok(screen.includes("\r\x1b[2K["), screen);
    assert.ok(/\[#+\.*\]/.test(screen), screen.slice(0, 200));
    assert.ok(lines.some((l) => l.includes("completed")));
  } finally {
    await fx.close();
  }
});
