/**
 * The commands CLI against the real bot handler, served over HTTP, backed by the emulator: the CLI
 * only speaks HTTP, so this is the whole path an operator uses.
 */
import assert from "node:assert/strict";
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
    assert.deepStrictEqual(drift.code, 1);
    assert.match(drift.out, /Command manifest · scope global/);
    assert.match(drift.out, /✖ Drift:/);
    assert.match(drift.out, /\+ \/help/);
    assert.match(drift.out, /Run `commands sync` to apply\./);
    assert.ok(!drift.out.includes("\x1b["), "plain output when not a terminal");

    const sync = await cli(["sync"]);
    assert.deepStrictEqual(sync.code, 0, sync.out + sync.err);
    assert.match(sync.out, /✔ ok/);
    assert.match(sync.out, /global: synced/);
    assert.deepStrictEqual(emu.stats.requests[PUT_GLOBAL], 1);

    const again = await cli(["sync"]);
    assert.deepStrictEqual(again.code, 0);
    assert.match(again.out, /• skipped/);
    assert.match(again.out, /unchanged/);
    assert.deepStrictEqual(emu.stats.requests[PUT_GLOBAL], 1);

    const clean = await cli(["diff"]);
    assert.deepStrictEqual(clean.code, 0);
    assert.match(clean.out, /✔ In sync/);

    const log = await cli(["log", "--limit", "5"]);
    assert.deepStrictEqual(log.code, 0);
    assert.match(log.out, /RESULT/);
    assert.match(log.out, /synced/);
    assert.match(log.out, /unchanged/);
  });
});

Deno.test("cli: a field changed on Discord's side is shown with both values; --force fixes it", async () => {
  await withBot(async ({ cli, emu }) => {
    assert.deepStrictEqual((await cli(["sync"])).code, 0);
    const help = emu.state.commandList().find((c) => c.name === "help")!;
    emu.state.commands.edit("global", help.id, { description: "Edited by hand" });
    const diff = await cli(["diff"]);
    assert.deepStrictEqual(diff.code, 1);
    assert.match(diff.out, /~ \/help/);
    assert.match(diff.out, /discord: "Edited by hand"/);
    assert.match(diff.out, /code: {4}"Show what this bot can do, by category"/);
    assert.match(diff.out, /commands sync --force/);
    const forced = await cli(["sync", "--force", "--json"]);
    assert.deepStrictEqual(forced.code, 0);
    assert.deepStrictEqual(JSON.parse(forced.out).results[0].outcome, "synced");
    assert.deepStrictEqual((await cli(["diff"])).code, 0);
  });
});

Deno.test("cli: --json prints the API's answer", async () => {
  await withBot(async ({ cli }) => {
    const diff = await cli(["diff", "--json"]);
    assert.deepStrictEqual(diff.code, 1);
    const body = JSON.parse(diff.out);
    assert.deepStrictEqual(body.inSync, false);
    assert.deepStrictEqual(body.scope, "global");
    const sync = JSON.parse((await cli(["sync", "--json"])).out);
    assert.deepStrictEqual(sync.status, "ok");
    const log = JSON.parse((await cli(["log", "--json"])).out);
    assert.deepStrictEqual(log.entries.length, 1);
  });
});

Deno.test("cli: a failed sync exits 1", async () => {
  await withBot(async ({ cli, emu }) => {
    emu.state.force429({ route: PUT_GLOBAL, scope: "user", retryAfter: 3600 });
    const res = await cli(["sync"]);
    assert.deepStrictEqual(res.code, 1);
    assert.match(res.out, /✖ failed/);
    assert.match(res.out, /rate_limited/);
    const skipped = await cli(["sync"]);
    assert.deepStrictEqual(skipped.code, 0, "a cooldown skip is not a failure");
    assert.match(skipped.out, /cooldown until/);
  });
});

Deno.test("cli: 401, unreachable bot and bad usage exit 2 with a clear message", async () => {
  await withBot(async ({ cli, url }) => {
    const denied = await cli(["diff", "--token", "wrong-token-0123456789", "--url", url]);
    assert.deepStrictEqual(denied.code, 2);
    assert.match(denied.err, /401/);
    assert.match(denied.err, /SYNC_AUTH_TOKEN/);
    const deniedJson = await cli(["diff", "--json", "--token=wrong-token-0123456789"]);
    assert.deepStrictEqual(deniedJson.code, 2);
    assert.deepStrictEqual(JSON.parse(deniedJson.out).status, 401);

    const closed = await cli(["sync", "--url=http://127.0.0.1:9"]);
    assert.deepStrictEqual(closed.code, 2);
    assert.ok(closed.err.includes("cannot reach the bot at http://127.0.0.1:9"), closed.err);

    const noToken = await cli(["diff"], { env: { SYNC_URL: url } });
    assert.deepStrictEqual(noToken.code, 2);
    assert.match(noToken.err, /no operator token/);

    for (
      const args of [[], ["nope"], ["diff", "--bogus"], ["diff", "--url"], ["log", "--force"], [
        "diff",
        "--guild",
        "x",
      ]]
    ) {
      const r = await cli(args);
      assert.deepStrictEqual(r.code, 2, args.join(" "));
      assert.match(r.err, /Usage: commands/);
    }
    const help = await cli(["--help"]);
    assert.deepStrictEqual(help.code, 0);
    assert.match(help.out, /exit 0 in sync, 1 drift/);
  });
});

Deno.test("cli: colour on a terminal, none with NO_COLOR or --no-color", async () => {
  await withBot(async ({ cli, url }) => {
    const env = { SYNC_URL: url, SYNC_AUTH_TOKEN: TOKEN };
    const colored = (await cli(["diff"], { tty: true, env })).out;
    assert.ok(colored.includes("\x1b[31m"), colored);
    const noColor = await cli(["diff"], { tty: true, env: { ...env, NO_COLOR: "1" } });
    assert.ok(!noColor.out.includes("\x1b["));
    assert.ok(!(await cli(["diff", "--no-color"], { tty: true, env })).out.includes("\x1b["));
    assert.ok((await cli(["diff", "--color"], { env })).out.includes("\x1b["));
  });
});
