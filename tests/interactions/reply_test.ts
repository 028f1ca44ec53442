/** lib/interactions/reply.ts: the responses handlers return, mentions off unless asked for. */
import assert from "node:assert/strict";
import { InteractionResponseType, MessageFlags } from "discord-api-types/v10";
import {
  autocompleteResult,
  deferred,
  deferredUpdate,
  ephemeral,
  message,
  modal,
  toData,
  update,
} from "../../lib/interactions/reply.ts";

const NO_MENTIONS = { parse: [] };

Deno.test("toData: text becomes content, and nobody is pinged by default", () => {
  assert.deepEqual(toData("hi @everyone"), {
    content: "hi @everyone",
    allowed_mentions: NO_MENTIONS,
  });
});

Deno.test("toData: a handler's own allowed_mentions and flags are kept; the input is not changed", () => {
  const input = {
    content: "<@1>",
    allowed_mentions: { users: ["1"] },
    flags: MessageFlags.SuppressEmbeds,
  };
  const data = toData(input, true);
  assert.deepEqual(data.allowed_mentions, { users: ["1"] });
  assert.equal(data.flags, MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral);
  assert.deepEqual(input, {
    content: "<@1>",
    allowed_mentions: { users: ["1"] },
    flags: MessageFlags.SuppressEmbeds,
  });
  assert.equal(toData({ embeds: [] }).flags, undefined, "public: no flags added");
});

Deno.test("message and ephemeral: a channel message, ephemeral only when asked", () => {
  assert.deepEqual(message("x"), {
    type: InteractionResponseType.ChannelMessageWithSource,
    data: { content: "x", allowed_mentions: NO_MENTIONS },
  });
  assert.deepEqual(ephemeral("x"), {
    type: InteractionResponseType.ChannelMessageWithSource,
    data: { content: "x", allowed_mentions: NO_MENTIONS, flags: MessageFlags.Ephemeral },
  });
});

Deno.test("deferred: Discord's 'thinking…', ephemeral or not", () => {
  assert.deepEqual(deferred(true), {
    type: InteractionResponseType.DeferredChannelMessageWithSource,
    data: { flags: MessageFlags.Ephemeral },
  });
  assert.deepEqual(deferred(false), {
    type: InteractionResponseType.DeferredChannelMessageWithSource,
    data: {},
  });
});

Deno.test("update, deferredUpdate and modal: a component's answers", () => {
  assert.deepEqual(update("edited"), {
    type: InteractionResponseType.UpdateMessage,
    data: { content: "edited", allowed_mentions: NO_MENTIONS },
  });
  assert.deepEqual(deferredUpdate(), { type: InteractionResponseType.DeferredMessageUpdate });
  const form = { custom_id: "c", title: "T", components: [] };
  assert.deepEqual(modal(form), { type: InteractionResponseType.Modal, data: form });
});

Deno.test("autocompleteResult: at most Discord's 25 choices; none is an empty list", () => {
  const choices = Array.from({ length: 30 }, (_, i) => ({ name: `n${i}`, value: i }));
  const res = autocompleteResult(choices) as { type: number; data: { choices: unknown[] } };
  assert.equal(res.type, InteractionResponseType.ApplicationCommandAutocompleteResult);
  assert.deepEqual(res.data.choices, choices.slice(0, 25));
  assert.deepEqual(autocompleteResult(undefined), {
    type: InteractionResponseType.ApplicationCommandAutocompleteResult,
    data: { choices: [] },
  });
});
