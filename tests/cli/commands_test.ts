/**
 * The commands CLI against the real bot handler, served over HTTP, backed by the emulator: the CLI
 * only speaks HTTP, so this is the whole path an operator uses.
 */
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { createTestApp, type TestApp } from "../_harness.ts";
import { type CliIO, runCommandsCli } from "../../lib/cli/commands.ts";
import { setCommandRest } from "../../lib/manifest/env.ts";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { commandRestFor, PUT_GLOBAL } from "../manifest/_env.ts";

const TOKEN = "operator-token-0123456789";

interface Bot {
  t: TestApp;
  emu: Emulator;
  url: string;
  /** Runs the CLI; returns its exit code and what it printed. */
  cli(
    args: string[],
    o?: { env?: Record<string, string>; tty?: boolean },
  ): Promise<{ code: number; out: string; err: string }>;
}

async function withBot(fn: (bot: Bot) => Promise<void>): Promise<void> {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  const t = await createTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN } });
  setCommandRest(t.app.deps, commandRestFor(emu));
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
  }, (req) => t.handle(req));
  const url = `http://127.0.0.1:${(await listening.promise).port}`;
  try {
    await fn({
      t,
      emu,
      url,
      async cli(args, o = {}) {
        const out: string[] = [];
        const err: string[] = [];
        const env: Record<string, string> = o.env ?? { SYNC_URL: url, SYNC_AUTH_TOKEN: TOKEN };
        const io: Partial<CliIO> = {
          stdout: (s) => out.push(s),
          stderr: (s) => err.push(s),
          env: (name) => env[name],
          isTTY: o.tty ?? false,
        };
        const code = await runCommandsCli(args, io);
        return { code, out: out.join("\n"), err: err.join("\n") };
      },
    });
  } finally {
    await server.shutdown();
    await t.close();
    await emu.close();
  }
}

Deno.test("cli: diff shows drift (exit 1), sync applies it (exit 0), then diff is clean", async () => {
  await withBot(async ({ cli, emu }) => {
    const drift = await cli(["diff"]);
    assertEquals(drift.code, 1);
    assertStringIncludes(drift.out, "Command manifest · scope global");
    assertStringIncludes(drift.out, "✖ Drift:");
    assertStringIncludes(drift.out, "+ /help");
    assertStringIncludes(drift.out, "Run `commands sync` to apply.");
    assert(!drift.out.includes("\x1b["), "plain output when not a terminal");

    const sync = await cli(["sync"]);
    assertEquals(sync.code, 0, sync.out + sync.err);
    assertStringIncludes(sync.out, "✔ ok");
    assertStringIncludes(sync.out, "global: synced");
    assertEquals(emu.stats.requests[PUT_GLOBAL], 1);

    const again = await cli(["sync"]);
    assertEquals(again.code, 0);
    assertStringIncludes(again.out, "• skipped");
    assertStringIncludes(again.out, "unchanged");
    assertEquals(emu.stats.requests[PUT_GLOBAL], 1);

    const clean = await cli(["diff"]);
    assertEquals(clean.code, 0);
    assertStringIncludes(clean.out, "✔ In sync");

    const log = await cli(["log", "--limit", "5"]);
    assertEquals(log.code, 0);
    assertStringIncludes(log.out, "RESULT");
    assertStringIncludes(log.out, "synced");
    assertStringIncludes(log.out, "unchanged");
  });
});

Deno.test("cli: a field changed on Discord's side is shown with both values; --force fixes it", async () => {
  await withBot(async ({ cli, emu }) => {
    assertEquals((await cli(["sync"])).code, 0);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.edit("global", help.id, { description: "Edited by hand" });
    const diff = await cli(["diff"]);
    assertEquals(diff.code, 1);
    assertStringIncludes(diff.out, "~ /help");
    assertStringIncludes(diff.out, 'discord: "Edited by hand"');
    assertStringIncludes(diff.out, 'code:    "Show what this bot can do, by category"');
    assertStringIncludes(diff.out, "commands sync --force");
    const forced = await cli(["sync", "--force", "--json"]);
    assertEquals(forced.code, 0);
    assertEquals(JSON.parse(forced.out).results[0].outcome, "synced");
    assertEquals((await cli(["diff"])).code, 0);
  });
});

Deno.test("cli: --json prints the API's answer", async () => {
  await withBot(async ({ cli }) => {
    const diff = await cli(["diff", "--json"]);
    assertEquals(diff.code, 1);
    const body = JSON.parse(diff.out);
    assertEquals(body.inSync, false);
    assertEquals(body.scope, "global");
    const sync = JSON.parse((await cli(["sync", "--json"])).out);
    assertEquals(sync.status, "ok");
    const log = JSON.parse((await cli(["log", "--json"])).out);
    assertEquals(log.entries.length, 1);
  });
});

Deno.test("cli: a failed sync exits 1", async () => {
  await withBot(async ({ cli, emu }) => {
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 3600 });
    const res = await cli(["sync"]);
    assertEquals(res.code, 1);
    assertStringIncludes(res.out, "✖ failed");
    assertStringIncludes(res.out, "rate_limited");
    const skipped = await cli(["sync"]);
    assertEquals(skipped.code, 0, "a cooldown skip is not a failure");
    assertStringIncludes(skipped.out, "cooldown until");
  });
});

Deno.test("cli: 401, unreachable bot and bad usage exit 2 with a clear message", async () => {
  await withBot(async ({ cli, url }) => {
    const denied = await cli(["diff", "--token", "wrong-token-0123456789", "--url", url]);
    assertEquals(denied.code, 2);
    assertStringIncludes(denied.err, "401");
    assertStringIncludes(denied.err, "SYNC_AUTH_TOKEN");
    const deniedJson = await cli(["diff", "--json", "--token=wrong-token-0123456789"]);
    assertEquals(deniedJson.code, 2);
    assertEquals(JSON.parse(deniedJson.out).status, 401);

    const closed = await cli(["sync", "--url=http://127.0.0.1:9"]);
    assertEquals(closed.code, 2);
    assertStringIncludes(closed.err, "cannot reach the bot at http://127.0.0.1:9");

    const noToken = await cli(["diff"], { env: { SYNC_URL: url } });
    assertEquals(noToken.code, 2);
    assertStringIncludes(noToken.err, "no operator token");

    for (
      const args of [[], ["nope"], ["diff", "--bogus"], ["diff", "--url"], ["log", "--force"], [
        "diff",
        "--guild",
        "x",
      ]]
    ) {
      const r = await cli(args);
      assertEquals(r.code, 2, args.join(" "));
      assertStringIncludes(r.err, "Usage: commands");
    }
    const help = await cli(["--help"]);
    assertEquals(help.code, 0);
    assertStringIncludes(help.out, "exit 0 in sync, 1 drift");
  });
});

Deno.test("cli: colour on a terminal, none with NO_COLOR or --no-color", async () => {
  await withBot(async ({ cli, url }) => {
    const env = { SYNC_URL: url, SYNC_AUTH_TOKEN: TOKEN };
    assertStringIncludes((await cli(["diff"], { tty: true, env })).out, "\x1b[31m");
    const noColor = await cli(["diff"], { tty: true, env: { ...env, NO_COLOR: "1" } });
    assert(!noColor.out.includes("\x1b["));
    assert(!(await cli(["diff", "--no-color"], { tty: true, env })).out.includes("\x1b["));
    assert((await cli(["diff", "--color"], { env })).out.includes("\x1b["));
  });
});
