/** lib/interactions/response_check.ts: only plain response objects of allowed types pass. */
import assert from "node:assert/strict";
import { InteractionResponseType } from "discord-api-types/v10";
import { isInteractionResponse } from "../../lib/interactions/response_check.ts";

/** Every response type discord-api-types knows, as [name, value]. */
const ALL_TYPES = Object.entries(InteractionResponseType).filter((e): e is [string, number] =>
  typeof e[1] === "number"
);

Deno.test("response check: of every response type, exactly those a handler may return pass", () => {
  const passing = ALL_TYPES.filter(([, type]) => isInteractionResponse({ type }));
  assert.deepStrictEqual(passing.map(([name]) => name), [
    "ChannelMessageWithSource",
    "DeferredChannelMessageWithSource",
    "DeferredMessageUpdate",
    "UpdateMessage",
    "ApplicationCommandAutocompleteResult",
    "Modal",
  ]);
  for (const [name, type] of passing) {
    assert.equal(isInteractionResponse({ type, data: { content: "x" } }), true, name);
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
