/**
 * routes/commands_sync.ts: POST /commands/sync {force?} behind the operator token, a sync when the
 * manifest changed (or always, forced), its report as the answer; bad bodies are 400.
 */
import assert from "node:assert/strict";
import type { SyncReport } from "../../lib/manifest/types.ts";
import { PUT_GLOBAL } from "../manifest/_env.ts";
import { assertFailsClosed, req, TOKEN, withBot } from "./_commands.ts";

Deno.test("POST /commands/sync answers 401 without the operator token, and fails closed", () =>
  assertFailsClosed("POST", "/commands/sync"));

Deno.test("POST /commands/sync: syncs, skips when unchanged, overwrites when forced", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    const synced = await t.handle(req("POST", "/commands/sync", TOKEN));
    assert.deepStrictEqual(synced.status, 200);
    const report: SyncReport = await synced.json();
    assert.deepStrictEqual(report.status, "ok");
    assert.deepStrictEqual(report.trigger, "operator");
    assert.deepStrictEqual(emu.stats.requests[PUT_GLOBAL], 1);

    const again: SyncReport = await (await t.handle(req("POST", "/commands/sync", TOKEN, {})))
      .json();
    assert.deepStrictEqual(again.status, "skipped");
    const forced: SyncReport =
      await (await t.handle(req("POST", "/commands/sync", TOKEN, { force: true }))).json();
    assert.deepStrictEqual(forced.forced, true);
    assert.deepStrictEqual(forced.status, "ok");
    assert.deepStrictEqual(emu.stats.requests[PUT_GLOBAL], 2);
  });
});

Deno.test("POST /commands/sync refuses bad bodies and other methods", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    const bad: [Request, number][] = [
      [req("POST", "/commands/sync", TOKEN, { force: "yes" }), 400],
      [req("POST", "/commands/sync", TOKEN, { force: true, extra: 1 }), 400],
      [req("POST", "/commands/sync", TOKEN, "{not json"), 400],
      [req("DELETE", "/commands/sync", TOKEN), 405],
    ];
    for (const [r, status] of bad) {
      const res = await t.handle(r);
      assert.deepStrictEqual(res.status, status, `${r.method} ${r.url}`);
      await res.body?.cancel();
    }
    assert.deepStrictEqual(emu.stats.totalRequests, 0);
  });
});
