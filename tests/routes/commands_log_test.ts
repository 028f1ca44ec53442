/**
 * routes/commands_log.ts: GET /commands/log[?limit=N] behind the operator token, the newest sync
 * attempts first; a limit outside 1..LOG_CAP is 400.
 */
import assert from "node:assert/strict";
import type { LogReport } from "../../lib/manifest/types.ts";
import { assertFailsClosed, req, TOKEN, withBot } from "./_commands.ts";

Deno.test("GET /commands/log answers 401 without the operator token, and fails closed", () =>
  assertFailsClosed("GET", "/commands/log"));

Deno.test("GET /commands/log: the newest attempts first, as many as asked", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t) => {
    for (const body of [undefined, {}, { force: true }]) {
      const res = await t.handle(req("POST", "/commands/sync", TOKEN, body));
      assert.deepStrictEqual(res.status, 200);
      await res.body?.cancel();
    }
    const log: LogReport = await (await t.handle(req("GET", "/commands/log?limit=2", TOKEN)))
      .json();
    assert.deepStrictEqual(log.entries.map((e) => [e.outcome, e.forced]), [["synced", true], [
      "unchanged",
      false,
    ]]);
  });
});

Deno.test("GET /commands/log refuses a limit outside 1 to the cap", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t) => {
    for (const limit of ["0", "9999"]) {
      const res = await t.handle(req("GET", `/commands/log?limit=${limit}`, TOKEN));
      assert.deepStrictEqual(res.status, 400, limit);
      await res.body?.cancel();
    }
  });
});
