/**
 * What the tests of the command routes share (commands_diff, commands_sync, commands_log): the app
 * with its command client pointed at the emulator, requests with or without the operator token,
 * and the check that a route fails closed.
 */
import assert from "node:assert/strict";
import { createTestApp, type TestApp } from "../_harness.ts";
import { setCommandRest } from "../../lib/manifest/env.ts";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { commandRestFor } from "../manifest/_env.ts";

export const TOKEN = "operator-token-0123456789";

export async function withBot(
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

export const req = (method: string, path: string, token?: string, body?: unknown) =>
  new Request(`http://bot.test${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

/**
 * The route answers 401 without the operator token or with a wrong one, calling Discord for
 * neither, and fails closed (401) when SYNC_AUTH_TOKEN is not set at all.
 */
export async function assertFailsClosed(method: string, path: string): Promise<void> {
  await withBot({ SYNC_AUTH_TOKEN: TOKEN }, async (t, emu) => {
    for (const token of [undefined, "wrong-token-0123456789"]) {
      const res = await t.handle(req(method, path, token));
      assert.deepStrictEqual(res.status, 401, `${method} ${path} with ${token ?? "no token"}`);
      assert.ok((await res.json()).error);
    }
    assert.deepStrictEqual(emu.stats.totalRequests, 0);
  });
  await withBot({}, async (t) => {
    const res = await t.handle(req(method, path, TOKEN));
    assert.deepStrictEqual(res.status, 401);
    assert.match((await res.json()).error, /SYNC_AUTH_TOKEN is not set/);
  });
}
