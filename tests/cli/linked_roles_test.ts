/**
 * `linked-roles register|status` against the real bot over HTTP (the e2e bot on the emulator):
 * what an operator runs after setting DISCORD_CLIENT_SECRET.
 */
import assert from "node:assert/strict";
import { runLinkedRolesCli } from "../../lib/cli/linked_roles.ts";
import { startEmulator } from "../emulator/server.ts";
import { startBot, TOKEN } from "../e2e/sync_helpers.ts";

async function run(url: string, args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLinkedRolesCli(args, {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: (name) => ({ SYNC_URL: url, SYNC_AUTH_TOKEN: TOKEN, ...env })[name],
    isTTY: false,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("linked-roles CLI: register once, then unchanged; status shows the setup", async () => {
  const emu = await startEmulator({
    uniformRate: 300,
    guilds: [{ members: 3 }],
    clientSecret: "cs-0123456789",
  });
  const bot = await startBot(emu, { env: { DISCORD_CLIENT_SECRET: "cs-0123456789" } });
  try {
    const before = await run(bot.url, ["status"]);
    assert.deepStrictEqual(before.code, 0);
    assert.match(before.out, /never registered \(run register\)/);
    assert.ok(before.out.includes(`${bot.url}/linked-role`), before.out);
    const first = await run(bot.url, ["register"]);
    assert.deepStrictEqual(first.code, 0, first.err);
    assert.match(first.out, /Registered 4 records: score, level, validator, human\./);
    const again = await run(bot.url, ["register"]);
    assert.match(again.out, /Unchanged/);
    const json = JSON.parse((await run(bot.url, ["status", "--json"])).out);
    assert.deepStrictEqual([json.enabled, json.registered.current, json.linkedUsers], [
      true,
      true,
      0,
    ]);
    // Usage and auth errors exit 2.
    assert.deepStrictEqual((await run(bot.url, ["status", "--force"])).code, 2);
    assert.deepStrictEqual((await run(bot.url, ["nope"])).code, 2);
    const denied = await run(bot.url, ["status"], { SYNC_AUTH_TOKEN: "wrong-token-000000" });
    assert.deepStrictEqual(denied.code, 2);
    assert.match(denied.err, /401/);
  } finally {
    await bot.close();
    await emu.close();
  }
});
