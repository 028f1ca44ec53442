import { ComponentType, InteractionResponseType, MessageFlags } from "discord-api-types/v10";
import { assert, assertEquals, assertStringIncludes } from "../_assert.ts";
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
    assertEquals(first.type, InteractionResponseType.ChannelMessageWithSource);
    assertEquals(first.data.embeds[0].title, "Help: Alpha");
    assertEquals(first.data.embeds[0].footer.text, "Page 1 of 2 · 7 commands");
    const [menuRow, buttonRow] = first.data.components;
    const menu = menuRow.components[0];
    assertEquals(menu.type, ComponentType.StringSelect);
    assertEquals(menu.options!.map((o) => o.label), ["Alpha", "Beta", "General"]);
    const [prev, next] = buttonRow.components;
    assertEquals(prev.disabled, true);
    assertEquals(next.disabled, false);

    // Next page.
    const page2 = await post(componentInteraction(next.custom_id));
    assertEquals(page2.type, InteractionResponseType.UpdateMessage);
    assertEquals(page2.data.embeds[0].footer.text, "Page 2 of 2 · 7 commands");
    assertStringIncludes(page2.data.embeds[0].description, `/alpha${HELP_PAGE_SIZE}`);
    assertEquals(page2.data.components[1].components[1].disabled, true);

    // Choose another category from the menu.
    const beta = await post(componentInteraction(menu.custom_id, { values: ["1"] }));
    assertEquals(beta.data.embeds[0].title, "Help: Beta");
    assertStringIncludes(beta.data.embeds[0].description, "Beta one");

    // Somebody else cannot drive the invoker's menu.
    const intruder = await post(
      componentInteraction(next.custom_id, { userId: "300000000000000099" }),
    );
    assertEquals(intruder.type, InteractionResponseType.ChannelMessageWithSource);
    assert(((intruder.data.flags ?? 0) & MessageFlags.Ephemeral) !== 0);
    assertStringIncludes(intruder.data.content!, "Only the person who ran /help");
  } finally {
    await t.close();
  }
});
