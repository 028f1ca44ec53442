/**
 * The bot's own user id (lib/discord/bot_user.ts): asked of Discord once, then read from KV,
 * per application; a failed ask stores nothing.
 */
import assert from "node:assert/strict";
import { memoryLogger } from "../_log.ts";
import { withKv } from "../kv/_kv.ts";
import { botUserId } from "../../lib/discord/bot_user.ts";
import { DiscordApiError } from "../../lib/discord/errors.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { keys } from "../../lib/kv/keys.ts";
import { caught, FakeDiscord, json, ManualClock } from "./_fake_discord.ts";

const TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm";
const APP = "100000000000000001";
const BOT = "100000000000000099";

/** A client over a fake Discord that answers `GET /users/@me` with `me` (or `status`). */
function setup(status = 200) {
  const fake = new FakeDiscord(new ManualClock(), {
    respond: (call) =>
      call.path === "/users/@me" && status === 200
        ? json(200, { id: BOT, username: "Ethos Bot", bot: true })
        : json(status === 200 ? 404 : status, { message: "Unauthorized", code: 0 }),
  });
  const rest = new RestClient({
    token: TOKEN,
    apiBase: "https://discord.test/api/v10",
    fetch: fake.fetch,
    log: memoryLogger(),
    retryBaseMs: 1,
    retryMaxMs: 1,
  });
  return { fake, rest };
}

Deno.test("bot user: asked once, then kept in KV for later calls and other clients", async () => {
  await withKv(async (kv) => {
    const { fake, rest } = setup();
    try {
      assert.equal(await botUserId(kv, rest, APP), BOT);
      assert.deepStrictEqual(fake.calls.map((c) => `${c.method} ${c.path}`), ["GET /users/@me"]);
      assert.equal((await kv.get(keys.botUser(APP))).value, BOT);
      assert.equal(await botUserId(kv, rest, APP), BOT);
      assert.equal(fake.calls.length, 1, "the second call read KV");
      // Another client (another isolate) over the same KV does not ask again either.
      const other = setup();
      try {
        assert.equal(await botUserId(kv, other.rest, APP), BOT);
        assert.equal(other.fake.calls.length, 0);
      } finally {
        await other.rest.close();
      }
    } finally {
      await rest.close();
    }
  });
});

Deno.test("bot user: kept per application id", async () => {
  await withKv(async (kv) => {
    const { fake, rest } = setup();
    try {
      await kv.set(keys.botUser("100000000000000002"), "100000000000000777");
      assert.equal(await botUserId(kv, rest, "100000000000000002"), "100000000000000777");
      assert.equal(fake.calls.length, 0);
      assert.equal(await botUserId(kv, rest, APP), BOT, "another application asks Discord");
      assert.equal(fake.calls.length, 1);
      assert.equal((await kv.get(keys.botUser("100000000000000002"))).value, "100000000000000777");
    } finally {
      await rest.close();
    }
  });
});

Deno.test("bot user: a cached value that is not a string is asked again and replaced", async () => {
  await withKv(async (kv) => {
    const { fake, rest } = setup();
    try {
      await kv.set(keys.botUser(APP), { id: "not a string" });
      assert.equal(await botUserId(kv, rest, APP), BOT);
      assert.equal(fake.calls.length, 1);
      assert.equal((await kv.get(keys.botUser(APP))).value, BOT);
    } finally {
      await rest.close();
    }
  });
});

Deno.test("bot user: a failed ask throws the client's error and stores nothing", async () => {
  await withKv(async (kv) => {
    const { rest } = setup(401);
    try {
      const err = await caught(botUserId(kv, rest, APP));
      assert.ok(err instanceof DiscordApiError, String(err));
      assert.equal(err.status, 401);
      assert.equal((await kv.get(keys.botUser(APP))).value, null);
    } finally {
      await rest.close();
    }
  });
});

Deno.test("bot user: the caller's signal reaches the request", async () => {
  await withKv(async (kv) => {
    const { fake, rest } = setup();
    try {
      const reason = new Error("caller gave up");
      const err = await caught(botUserId(kv, rest, APP, AbortSignal.abort(reason)));
      assert.equal(err, reason);
      assert.equal(fake.calls.length, 0);
      assert.equal((await kv.get(keys.botUser(APP))).value, null);
    } finally {
      await rest.close();
    }
  });
});
