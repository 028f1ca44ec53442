/**
 * routes/commands_diff.ts: GET /commands/diff[?guild=<id>] behind the operator token, the code's
 * manifest against Discord's target scope or a given guild; 502 when Discord cannot be asked.
 */
import assert from "node:assert/strict";
import type { DiffReport } from "../../lib/manifest/types.ts";
import { G1 } from "../manifest/_env.ts";
import { assertFailsClosed, req, TOKEN, withBot } from "./_commands.ts";

Deno.test("GET /commands/diff answers 401 without the operator token, and fails closed", () =>
  assertFailsClosed("GET", "/commands/diff"));

Deno.test("GET /commands/diff: the target scope before and after a sync, or a given guild", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t) => {
    const before = await t.handle(req("GET", "/commands/diff", TOKEN));
    assert.deepStrictEqual(before.status, 200);
    const drift: DiffReport = await before.json();
    assert.deepStrictEqual(drift.scope, "global");
    assert.deepStrictEqual(drift.inSync, false);
    assert.deepStrictEqual(drift.diff.added.length, t.app.registry.commands.length);

    const synced = await t.handle(req("POST", "/commands/sync", TOKEN));
    assert.deepStrictEqual(synced.status, 200);
    await synced.body?.cancel();

    const after: DiffReport = await (await t.handle(req("GET", "/commands/diff", TOKEN))).json();
    assert.deepStrictEqual(after.inSync, true);
    const guild: DiffReport =
      await (await t.handle(req("GET", `/commands/diff?guild=${G1}`, TOKEN))).json();
    assert.deepStrictEqual(guild.scope, `guild:${G1}`);
    assert.deepStrictEqual(guild.counts.discord, 0);
  });
});

Deno.test("GET /commands/diff refuses a guild that is no id and reports an unreachable Discord", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    const bad = await t.handle(req("GET", "/commands/diff?guild=abc", TOKEN));
    assert.deepStrictEqual(bad.status, 400);
    await bad.body?.cancel();
    await emu.close();
    const res = await t.handle(req("GET", "/commands/diff", TOKEN));
    assert.deepStrictEqual(res.status, 502);
    assert.match((await res.json()).error, /could not read the registered commands/);
  });
});
