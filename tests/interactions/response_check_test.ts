/** lib/interactions/response_check.ts: only plain response objects of allowed types pass. */
import assert from "node:assert/strict";
import { InteractionResponseType } from "discord-api-types/v10";
import { isInteractionResponse } from "../../lib/interactions/response_check.ts";

Deno.test("response check: plain objects of the response types a handler may return", () => {
  for (
    const type of [
      InteractionResponseType.ChannelMessageWithSource,
      InteractionResponseType.DeferredChannelMessageWithSource,
      InteractionResponseType.DeferredMessageUpdate,
      InteractionResponseType.UpdateMessage,
      InteractionResponseType.ApplicationCommandAutocompleteResult,
      InteractionResponseType.Modal,
    ]
  ) {
    assert.equal(isInteractionResponse({ type }), true, String(type));
    assert.equal(isInteractionResponse({ type, data: { content: "x" } }), true, String(type));
  }
  const bare = Object.assign(Object.create(null), { type: 4, data: Object.create(null) });
  assert.equal(isInteractionResponse(bare), true, "null-prototype objects are plain");
});

Deno.test("response check: anything else is refused", () => {
  class Secret {
    type = 4;
  }
  const refused: unknown[] = [
    null,
    undefined,
    "hello",
    4,
    [],
    new Secret(),
    { type: InteractionResponseType.Pong },
    { type: 99 },
    { type: "4" },
    { type: 4, data: new Map() },
    { type: 4, data: "text" },
    { type: 4, data: null },
  ];
  for (const value of refused) assert.equal(isInteractionResponse(value), false, String(value));
});
