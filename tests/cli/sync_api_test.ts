/**
 * The sync endpoints as the CLI calls them (lib/cli/sync_api.ts), against a fake fetch: what is
 * sent, which answers come back as values and which are thrown with what to fix.
 */
import assert from "node:assert/strict";
import { syncApi, SyncCliError } from "../../lib/cli/sync_api.ts";
import type { BaseIO } from "../../lib/cli/common.ts";

interface Sent {
  method: string;
  url: string;
  auth: string | null;
  body: unknown;
}

/** A BaseIO whose fetch answers `status` with `text`, recording what was sent. */
function fakeIO(status: number, text: string, sent: Sent[] = []): BaseIO {
  return {
    stdout: () => {},
    stderr: () => {},
    env: () => undefined,
    isTTY: false,
    fetch: (input, init) => {
      sent.push({
        method: init?.method ?? "GET",
        url: String(input),
        auth: new Headers(init?.headers).get("authorization"),
        body: init?.body ? JSON.parse(String(init.body)) : undefined,
      });
      return Promise.resolve(new Response(text, { status }));
    },
  };
}

const BASE = "http://bot.test";

async function thrown(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof SyncCliError, String(error));
    return error.message;
  }
  assert.fail("expected a SyncCliError");
}

Deno.test("sync api: the token goes as a bearer header, the guild in the query or the body", async () => {
  const sent: Sent[] = [];
  const api = syncApi(fakeIO(200, JSON.stringify({ state: "idle" }), sent), BASE, "tok");
  assert.equal((await api.status("200000000000000001")).state, "idle");
  await api.trigger({ chunkSize: 5 }, "200000000000000001");
  await api.stop();
  assert.deepEqual(sent.map((s) => [s.method, s.url, s.auth]), [
    ["GET", `${BASE}/sync-status?guild=200000000000000001`, "Bearer tok"],
    ["POST", `${BASE}/trigger-sync`, "Bearer tok"],
    ["POST", `${BASE}/stop-sync`, "Bearer tok"],
  ]);
  assert.deepEqual(sent[1].body, { guildId: "200000000000000001", chunkSize: 5 });
  const anonymous: Sent[] = [];
  await syncApi(fakeIO(200, "{}", anonymous), BASE, undefined).status();
  assert.equal(anonymous[0].auth, null);
});

Deno.test("sync api: trigger tells started, conflict and nothing apart", async () => {
  const started = await syncApi(fakeIO(202, '{"runId":"r1","chunk":3}'), BASE, "t").trigger({});
  assert.deepEqual(started, { kind: "started", runId: "r1", chunk: 3, status: undefined });
  const conflict = await syncApi(fakeIO(409, '{"error":"busy"}'), BASE, "t").trigger({});
  assert.deepEqual(conflict, { kind: "conflict", reason: "busy", status: undefined });
  const nothing = await syncApi(fakeIO(200, "{}"), BASE, "t").trigger({});
  assert.equal(nothing.kind, "nothing");
  const refused = await thrown(syncApi(fakeIO(400, '{"error":"no guild"}'), BASE, "t").trigger({}));
  assert.equal(refused, "the bot refused to start: 400 no guild");
});

Deno.test("sync api: unreachable, 401, 404 and 5xx are thrown with what to fix", async () => {
  const down: BaseIO = {
    ...fakeIO(200, ""),
    fetch: () => Promise.reject(new TypeError("refused")),
  };
  assert.match(
    await thrown(syncApi(down, BASE, "t").status()),
    /^cannot reach the bot at http:\/\/bot\.test \(refused\)\. Is it running\?/,
  );
  assert.equal(
    await thrown(syncApi(fakeIO(401, '{"error":"unauthorized"}'), BASE, undefined).status()),
    "unauthorized (401): unauthorized. Pass --token or set SYNC_AUTH_TOKEN to the bot's " +
      "SYNC_AUTH_TOKEN.",
  );
  assert.match(
    await thrown(syncApi(fakeIO(401, ""), BASE, "wrong").status()),
    /^unauthorized \(401\): bad token\. The token does not match the bot's SYNC_AUTH_TOKEN/,
  );
  assert.equal(
    await thrown(syncApi(fakeIO(404, '{"error":"not found"}'), BASE, "t").guilds()),
    "http://bot.test/guilds answered 404: is this the bot's URL?",
  );
  assert.equal(
    await thrown(syncApi(fakeIO(502, "Bad Gateway"), BASE, "t").stop()),
    "the bot answered 502: Bad Gateway",
  );
  assert.equal(
    await thrown(syncApi(fakeIO(403, '{"error":"no"}'), BASE, "t").status()),
    "status answered 403: no",
  );
});
