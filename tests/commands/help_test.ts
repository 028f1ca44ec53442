import { ComponentType, InteractionResponseType, MessageFlags } from "discord-api-types/v10";
import assert from "node:assert/strict";
import { commandInteraction, componentInteraction, createTestApp } from "../_harness.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import { help, HELP_PAGE_SIZE } from "../../lib/commands/help.ts";

// Seven commands in one category so it has two pages; two more categories for the menu.
const filler = Array.from(
  { length: 7 },
  (_, i) =>
    defineCommand({
      name: `alpha${i}`,
      description: `Alpha ${i}`,
      category: "Alpha",
      handler: (c) => c.reply(""),
    }),
);
const other = defineCommand({
  name: "beta",
  description: "Beta one",
  category: "Beta",
  handler: (c) => c.reply(""),
});

type Msg = {
  type: number;
  data: {
    content?: string;
    flags?: number;
    embeds: { title: string; description: string; footer: { text: string } }[];
    components: {
      components: {
        type: number;
        custom_id: string;
        disabled?: boolean;
        options?: { value: string; label: string }[];
      }[];
    }[];
  };
};

Deno.test("/help: select menu of categories and paging buttons, usable only by the invoker", async () => {
  const t = await createTestApp({ commands: [help, ...filler, other] });
  try {
    const post = async (p: unknown) => (await (await t.post(p)).json()) as Msg;
    const first = await post(commandInteraction("help"));
    assert.deepStrictEqual(first.type, InteractionResponseType.ChannelMessageWithSource);
    assert.deepStrictEqual(first.data.embeds[0].title, "Help: Alpha");
    assert.deepStrictEqual(first.data.embeds[0].footer.text, "Page 1 of 2 · 7 commands");
    const [menuRow, buttonRow] = first.data.components;
    const menu = menuRow.components[0];
    assert.deepStrictEqual(menu.type, ComponentType.StringSelect);
    assert.deepStrictEqual(menu.options!.map((o) => o.label), ["Alpha", "Beta", "General"]);
    const [prev, next] = buttonRow.components;
    assert.deepStrictEqual(prev.disabled, true);
    assert.deepStrictEqual(next.disabled, false);

    // Next page.
    const page2 = await post(componentInteraction(next.custom_id));
    assert.deepStrictEqual(page2.type, InteractionResponseType.UpdateMessage);
    assert.deepStrictEqual(page2.data.embeds[0].footer.text, "Page 2 of 2 · 7 commands");
    assert.ok(
      page2.data.embeds[0].description.includes(`/alpha${HELP_PAGE_SIZE}`),
      page2.data.embeds[0].description,
    );
    assert.deepStrictEqual(page2.data.components[1].components[1].disabled, true);

    // Choose another category from the menu.
    const beta = await post(componentInteraction(menu.custom_id, { values: ["1"] }));
    assert.deepStrictEqual(beta.data.embeds[0].title, "Help: Beta");
    assert.match(beta.data.embeds[0].description, /Beta one/);

    // Somebody else cannot drive the invoker's menu.
    const intruder = await post(
      componentInteraction(next.custom_id, { userId: "300000000000000099" }),
    );
    assert.deepStrictEqual(intruder.type, InteractionResponseType.ChannelMessageWithSource);
    assert.ok(((intruder.data.flags ?? 0) & MessageFlags.Ephemeral) !== 0);
    assert.match(intruder.data.content!, /Only the person who ran \/help/);
  } finally {
    await t.close();
  }
});
