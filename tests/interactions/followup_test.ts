/**
 * Follow-ups and edits of the original response (lib/interactions/followup.ts): the interaction
 * webhook routes, sent without the bot token and outside the global limit, with mentions off
 * unless asked. First against a recording fake, then against the Discord emulator.
 */
import assert from "node:assert/strict";
import { MessageFlags } from "discord-api-types/v10";
import { memoryLogger } from "../_log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { createFollowup, replyGone } from "../../lib/interactions/followup.ts";
import { DiscordApiError } from "../../lib/discord/errors.ts";
import { startEmulator } from "../emulator/server.ts";
import { type Call, caught, FakeDiscord, json, ManualClock } from "../discord/_fake_discord.ts";

const TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.GabcDE.fake-bot-token-0123456789abcdefghijklm";
const APP = "100000000000000001";
const ITOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnNlY3JldA";
const MESSAGE = "900000000000000005";

/**
 * A client over a fake Discord that answers webhooks with a message (204 for a DELETE) and
 * every other route with 429 global, so a follow-up that waited for the global limit would show.
 */
function setup() {
  const clock = new ManualClock();
  const fake = new FakeDiscord(clock, {
    globalLimit: 1,
    respond: (call: Call) =>
      call.method === "DELETE"
        ? new Response(null, { status: 204 })
        : json(200, { id: MESSAGE, content: JSON.parse(call.body ?? "{}").content ?? "" }),
  });
  const rest = new RestClient({
    token: TOKEN,
    apiBase: "https://discord.test/api/v10",
    fetch: fake.fetch,
    clock,
    log: memoryLogger(),
    globalLimit: 1,
  });
  const sent = () =>
    fake.calls.map((c) => ({
      line: `${c.method} ${c.path}`,
      auth: c.headers.get("authorization"),
      body: c.body === null ? undefined : JSON.parse(c.body),
    }));
  return { clock, fake, rest, sent };
}

Deno.test("followup: each call goes to the interaction's webhook, without the bot token", async () => {
  const { rest, sent } = setup();
  try {
    const f = createFollowup(rest, APP, ITOKEN);
    const base = `/webhooks/${APP}/${ITOKEN}`;
    const posted = await f.send("hello");
    assert.deepStrictEqual([posted.id, posted.content], [MESSAGE, "hello"]);
    await f.editOriginal({ content: "done", embeds: [] });
    await f.edit(MESSAGE, "edited");
    assert.equal(await f.deleteOriginal(), undefined);
    assert.deepStrictEqual(sent(), [
      {
        line: `POST ${base}`,
        auth: null,
        body: { content: "hello", allowed_mentions: { parse: [] } },
      },
      {
        line: `PATCH ${base}/messages/@original`,
        auth: null,
        body: { content: "done", embeds: [], allowed_mentions: { parse: [] } },
      },
      {
        line: `PATCH ${base}/messages/${MESSAGE}`,
        auth: null,
        body: { content: "edited", allowed_mentions: { parse: [] } },
      },
      { line: `DELETE ${base}/messages/@original`, auth: null, body: undefined },
    ]);
  } finally {
    await rest.close();
  }
});

Deno.test("followup: ephemeral only when asked, on top of the caller's flags and mentions", async () => {
  const { rest, sent } = setup();
  try {
    const f = createFollowup(rest, APP, ITOKEN);
    await f.send({ content: "secret" }, true);
    await f.send({
      content: "<@1>",
      flags: MessageFlags.SuppressEmbeds,
      allowed_mentions: { users: ["1"] },
    }, true);
    await f.send({ content: "public", flags: MessageFlags.SuppressEmbeds });
    assert.deepStrictEqual(sent().map((c) => c.body), [
      {
        content: "secret",
        allowed_mentions: { parse: [] },
        flags: MessageFlags.Ephemeral,
      },
      {
        content: "<@1>",
        flags: MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral,
        allowed_mentions: { users: ["1"] },
      },
      { content: "public", flags: MessageFlags.SuppressEmbeds, allowed_mentions: { parse: [] } },
    ]);
  } finally {
    await rest.close();
  }
});

Deno.test("followup: webhook calls are not held by the global limit", async () => {
  const { clock, fake, rest } = setup();
  try {
    // One request per second globally, just spent: the next bot-token request waits for the
    // clock to move; the webhook routes are exempt and go at once, on a clock that stands still.
    await rest.get("/users/@me");
    const t0 = clock.now();
    const held = caught(rest.get("/users/@me"));
    const f = createFollowup(rest, APP, ITOKEN);
    await Promise.all([f.send("a"), f.send("b"), f.editOriginal("c"), f.deleteOriginal()]);
    assert.equal(clock.now(), t0);
    assert.deepStrictEqual(fake.calls.map((c) => c.path.split("/")[1]), [
      "users",
      "webhooks",
      "webhooks",
      "webhooks",
      "webhooks",
    ]);
    assert.equal(fake.limited.global, 0);
    await rest.close();
    assert.ok(await held, "the bot-token request was still waiting");
  } finally {
    await rest.close();
  }
});

Deno.test("followup: a failed webhook call rejects with the client's error", async () => {
  const { fake, rest } = setup();
  try {
    fake.script.push((call) =>
      call.path.endsWith("/@original")
        ? json(404, { message: "Unknown Webhook", code: 10015 })
        : undefined
    );
    const err = await caught(createFollowup(rest, APP, ITOKEN).editOriginal("late"));
    assert.ok(err instanceof Error);
    assert.equal((err as { status?: number }).status, 404);
    // The interaction token never appears in what is thrown (it is a credential).
    assert.ok(!err.message.includes(ITOKEN), err.message);
  } finally {
    await rest.close();
  }
});

Deno.test("emulator: a follow-up edits, adds and deletes messages of the interaction", async () => {
  const emu = await startEmulator({ guilds: [{ members: 10 }] });
  const rest = new RestClient({
    token: emu.token,
    apiBase: emu.discordBase,
    retryBaseMs: 20,
    retryMaxMs: 200,
  });
  try {
    // The interaction webhook: edit the deferred original, follow up, delete the original.
    const token = "interaction-token-0123456789abcdefghijklmnop";
    emu.state.registerInteraction("400000000000000002", token);
    await rest.post(`/interactions/400000000000000002/${token}/callback`, {
      auth: false,
      body: { type: 5 },
    });
    const webhook = createFollowup(rest, emu.applicationId, token);
    const original = await webhook.editOriginal({ content: "done" });
    assert.deepStrictEqual([original.content, original.author.id], ["done", emu.botUserId]);
    const follow = await webhook.send({ content: "more" });
    assert.deepStrictEqual(follow.content, "more");
    assert.ok(follow.id !== original.id, "a follow-up is a new message");
    await webhook.deleteOriginal();
    const record = emu.state.interactions.get(token)!;
    assert.deepStrictEqual(
      record.messages.map((m) => [m.id, m.content, m.deleted ?? false]),
      [[original.id, "done", true], [follow.id, "more", false]],
    );
    const gone = await caught(
      rest.get(`/webhooks/${emu.applicationId}/${token}/messages/@original`, { auth: false }),
    );
    assert.deepStrictEqual((gone as { status?: number }).status, 404);
    // An edit of a message by id lands on that message.
    const edited = await webhook.edit(follow.id, "more, edited");
    assert.deepStrictEqual([edited.id, edited.content], [follow.id, "more, edited"]);
    assert.deepStrictEqual(
      emu.state.interactions.get(token)!.messages.map((m) => m.content),
      ["done", "more, edited"],
    );
    // Interaction writes stay out of the guild write log; nothing was rate limited.
    assert.deepStrictEqual(emu.stats.writes, []);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  } finally {
    await rest.close();
    await emu.close();
  }
});

Deno.test("replyGone: a 404 on the interaction's webhook, nothing else", () => {
  const err = (status: number, code: number, route: string) =>
    new DiscordApiError(status, code, "x", undefined, "PATCH", route);
  const original = "/webhooks/:app/:token/messages/@original";
  assert.ok(replyGone(err(404, 10008, original)));
  assert.ok(replyGone(err(404, 10015, original)));
  assert.ok(replyGone(err(404, 0, "/webhooks/:app/:token")));
  // Another status on the webhook, or a 404 elsewhere, is a real failure.
  assert.ok(!replyGone(err(400, 50035, original)));
  assert.ok(!replyGone(err(500, 0, original)));
  assert.ok(!replyGone(err(404, 10007, "/guilds/:guild/members/:user")));
  assert.ok(!replyGone(new Error("404 /webhooks/")));
});
