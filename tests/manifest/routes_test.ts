import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
import { createTestApp, type TestApp } from "../_harness.ts";
import { setCommandRest } from "../../lib/manifest/env.ts";
import type { DiffReport, LogReport, SyncReport } from "../../lib/manifest/types.ts";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { commandRestFor, G1, PUT_GLOBAL } from "./_env.ts";

const TOKEN = "operator-token-0123456789";

async function withBot(
  env: Record<string, string>,
  fn: (t: TestApp, emu: Emulator) => Promise<void>,
): Promise<void> {
  const emu = await startEmulator({ guilds: [{ members: 1 }] });
  const t = await createTestApp({ env });
  setCommandRest(t.app.deps, commandRestFor(emu));
  try {
    await fn(t, emu);
  } finally {
    await t.close();
    await emu.close();
  }
}

const req = (method: string, path: string, token?: string, body?: unknown) =>
  new Request(`http://bot.test${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

const ROUTES: [string, string][] = [
  ["GET", "/commands/diff"],
  ["POST", "/commands/sync"],
  ["GET", "/commands/log"],
];

Deno.test("the command routes answer 401 without the operator token, and fail closed", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    for (const [method, path] of ROUTES) {
      for (const token of [undefined, "wrong-token-0123456789"]) {
        const res = await t.handle(req(method, path, token));
        assertEquals(res.status, 401, `${method} ${path} with ${token ?? "no token"}`);
        assert((await res.json()).error);
      }
    }
    assertEquals(emu.stats.totalRequests, 0);
  });
  await withBot({}, async (t) => {
    for (const [method, path] of ROUTES) {
      const res = await t.handle(req(method, path, TOKEN));
      assertEquals(res.status, 401);
      assertStringIncludes((await res.json()).error, "SYNC_AUTH_TOKEN is not set");
    }
  });
});

Deno.test("diff, sync and log over HTTP", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    const before = await t.handle(req("GET", "/commands/diff", TOKEN));
    assertEquals(before.status, 200);
    const drift: DiffReport = await before.json();
    assertEquals(drift.scope, "global");
    assertEquals(drift.inSync, false);
    assertEquals(drift.diff.added.length, t.app.registry.commands.length);

    const synced = await t.handle(req("POST", "/commands/sync", TOKEN));
    assertEquals(synced.status, 200);
    const report: SyncReport = await synced.json();
    assertEquals(report.status, "ok");
    assertEquals(report.trigger, "operator");
    assertEquals(emu.stats.requests[PUT_GLOBAL], 1);

    const again: SyncReport = await (await t.handle(req("POST", "/commands/sync", TOKEN, {})))
      .json();
    assertEquals(again.status, "skipped");
    const forced: SyncReport =
      await (await t.handle(req("POST", "/commands/sync", TOKEN, { force: true }))).json();
    assertEquals(forced.forced, true);
    assertEquals(forced.status, "ok");
    assertEquals(emu.stats.requests[PUT_GLOBAL], 2);

    const after: DiffReport = await (await t.handle(req("GET", "/commands/diff", TOKEN))).json();
    assertEquals(after.inSync, true);
    const guild: DiffReport =
      await (await t.handle(req("GET", `/commands/diff?guild=${G1}`, TOKEN))).json();
    assertEquals(guild.scope, `guild:${G1}`);
    assertEquals(guild.counts.discord, 0);

    const log: LogReport = await (await t.handle(req("GET", "/commands/log?limit=2", TOKEN)))
      .json();
    assertEquals(log.entries.map((e) => [e.outcome, e.forced]), [["synced", true], [
      "unchanged",
      false,
    ]]);
  });
});

Deno.test("the command routes refuse bad input and report an unreachable Discord", async () => {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    const bad: [Request, number][] = [
      [req("POST", "/commands/sync", TOKEN, { force: "yes" }), 400],
      [req("POST", "/commands/sync", TOKEN, { force: true, extra: 1 }), 400],
      [req("POST", "/commands/sync", TOKEN, "{not json"), 400],
      [req("GET", "/commands/diff?guild=abc", TOKEN), 400],
      [req("GET", "/commands/log?limit=0", TOKEN), 400],
      [req("GET", "/commands/log?limit=9999", TOKEN), 400],
      [req("DELETE", "/commands/sync", TOKEN), 405],
    ];
    for (const [r, status] of bad) {
      const res = await t.handle(r);
      assertEquals(res.status, status, `${r.method} ${r.url}`);
      await res.body?.cancel();
    }
    await emu.close();
    const res = await t.handle(req("GET", "/commands/diff", TOKEN));
    assertEquals(res.status, 502);
    assertStringIncludes((await res.json()).error, "could not read the registered commands");
  });
});
