import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { InteractionResponseType, MessageFlags, Routes } from "discord-api-types/v10";
import type { WebhookMessage } from "./interactions.ts";
import { api, withEmulator } from "./test_helpers.ts";

const ID = "300000000000000001";
const opts = { guilds: [{ members: 1 }] };
type Err = { code: number; message: string };

Deno.test("callback needs no token, records the reply and refuses a second ack", async () => {
  await withEmulator(opts, async (emu) => {
    const cb = await api(emu, "POST", Routes.interactionCallback(ID, "tok-1"), {
      auth: false,
      body: {
        type: InteractionResponseType.ChannelMessageWithSource,
        data: { content: "Score: 1500", flags: 64 },
      },
    });
    strictEqual(cb.status, 204);
    const [message] = emu.state.webhookMessages("tok-1");
    strictEqual(message.content, "Score: 1500");
    strictEqual(message.flags & MessageFlags.Ephemeral, MessageFlags.Ephemeral);
    strictEqual(emu.state.interactionCallbacks("tok-1")[0].type, 4);
    const again = await api<Err>(emu, "POST", Routes.interactionCallback(ID, "tok-1"), {
      auth: false,
      body: { type: 4, data: { content: "again" } },
    });
    strictEqual(again.status, 400);
    strictEqual(again.body.code, 40060);
    // Interaction writes stay out of the REST write log.
    strictEqual(emu.stats.writes.length, 0);
  });
});

Deno.test("callback validation: empty message 50006, bad type 50035", async () => {
  await withEmulator(opts, async (emu) => {
    const empty = await api<Err>(emu, "POST", Routes.interactionCallback(ID, "t"), {
      auth: false,
      body: { type: 4, data: {} },
    });
    strictEqual(empty.body.code, 50006);
    const bad = await api<Err>(emu, "POST", Routes.interactionCallback(ID, "t"), {
      auth: false,
      body: { type: 42 },
    });
    strictEqual(bad.body.code, 50035);
    const long = await api<Err>(emu, "POST", Routes.interactionCallback(ID, "t"), {
      auth: false,
      body: { type: 4, data: { content: "x".repeat(2001) } },
    });
    strictEqual(long.body.code, 50035);
    // None of those acknowledged it.
    strictEqual(
      (await api(emu, "POST", Routes.interactionCallback(ID, "t"), {
        auth: false,
        body: { type: 5 },
      })).status,
      204,
    );
  });
});

Deno.test("deferred reply, edit @original, follow-ups and delete", async () => {
  await withEmulator(opts, async (emu) => {
    const app = emu.applicationId;
    const token = "tok-2";
    const withResponse = await api<
      { interaction: { response_message_loading: boolean }; resource: { message: WebhookMessage } }
    >(
      emu,
      "POST",
      `${Routes.interactionCallback(ID, token)}?with_response=true`,
      { auth: false, body: { type: InteractionResponseType.DeferredChannelMessageWithSource } },
    );
    strictEqual(withResponse.status, 200);
    strictEqual(withResponse.body.interaction.response_message_loading, true);
    const edited = await api<WebhookMessage>(emu, "PATCH", Routes.webhookMessage(app, token), {
      auth: false,
      body: { content: "Synced 10 members" },
    });
    strictEqual(edited.status, 200);
    strictEqual(edited.body.content, "Synced 10 members");
    strictEqual(edited.body.flags & MessageFlags.Loading, 0);
    ok(edited.body.edited_timestamp);
    strictEqual((edited.body as { original?: boolean }).original, undefined);

    const follow = await api<WebhookMessage>(emu, "POST", Routes.webhook(app, token), {
      auth: false,
      body: { content: "Done", embeds: [{ title: "Summary" }] },
    });
    strictEqual(follow.status, 200);
    strictEqual(follow.body.webhook_id, app);
    const got = await api<WebhookMessage>(
      emu,
      "GET",
      Routes.webhookMessage(app, token, follow.body.id),
      { auth: false },
    );
    strictEqual(got.body.content, "Done");
    deepStrictEqual(emu.state.webhookMessages(token).map((m) => m.content), [
      "Synced 10 members",
      "Done",
    ]);

    strictEqual(
      (await api(emu, "DELETE", Routes.webhookMessage(app, token, follow.body.id), { auth: false }))
        .status,
      204,
    );
    strictEqual(
      (await api<Err>(emu, "GET", Routes.webhookMessage(app, token, follow.body.id), {
        auth: false,
      })).body.code,
      10008,
    );
    strictEqual(emu.state.webhookMessages(token).length, 1);
    const empty = await api<Err>(emu, "POST", Routes.webhook(app, token), {
      auth: false,
      body: {},
    });
    strictEqual(empty.body.code, 50006);
  });
});

Deno.test("webhook routes: unknown token 10015, expired token 50027, follow-ups 5 per 2 s", async () => {
  await withEmulator(opts, async (emu) => {
    const app = emu.applicationId;
    const unknown = await api<Err>(emu, "POST", Routes.webhook(app, "never"), {
      auth: false,
      body: { content: "x" },
    });
    strictEqual(unknown.status, 404);
    strictEqual(unknown.body.code, 10015);
    await api(emu, "POST", Routes.interactionCallback(ID, "tok-3"), {
      auth: false,
      body: { type: 5 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await api(emu, "POST", Routes.webhook(app, "tok-3"), {
          auth: false,
          body: { content: `m${i}` },
        })).status,
      );
    }
    deepStrictEqual(statuses, [200, 200, 200, 200, 200, 429]);
    emu.state.expireInteraction("tok-3");
    const expired = await api<Err>(emu, "GET", Routes.webhookMessage(app, "tok-3"), {
      auth: false,
    });
    strictEqual(expired.status, 401);
    strictEqual(expired.body.code, 50027);
  });
});
