/** /help: categories in a select menu, pages with buttons; only the invoker can use them. */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  ApplicationCommandType,
  ButtonStyle,
  ComponentType,
} from "discord-api-types/v10";
import { defineCommand } from "./define.ts";
import type { Command } from "./define.ts";
import type { ComponentContext, InteractionContext } from "../interactions/context.ts";
import type { MessageData } from "../interactions/reply.ts";
import type { Registry } from "./registry.ts";
import { describeMissing } from "../interactions/permissions.ts";

export const HELP_PAGE_SIZE = 5;

export function categories(commands: readonly Command[]): string[] {
  return [...new Set(commands.map((c) => c.category))].sort();
}

function usage(c: Command): string[] {
  if (c.type === ApplicationCommandType.User) return [`Apps → ${c.name}`];
  if (c.root.kind === "leaf") return [`/${c.name}`];
  return Object.entries(c.root.subcommands).flatMap(([name, node]) =>
    node.kind === "leaf"
      ? [`/${c.name} ${name}`]
      : Object.keys(node.subcommands).map((s) => `/${c.name} ${name} ${s}`)
  );
}

interface HelpText {
  categories: string[];
  /** Per category, the entry of each command in it. */
  entries: string[][];
}

// The text depends only on the registry: built once, not on every /help (it is on the hot path).
const texts = new WeakMap<Registry, HelpText>();

function helpText(registry: Registry): HelpText {
  let text = texts.get(registry);
  if (!text) {
    const cats = categories(registry.commands);
    text = {
      categories: cats,
      entries: cats.map((cat) =>
        registry.commands.filter((c) => c.category === cat).map((c) => {
          const perms = c.permissions ? ` (needs ${describeMissing(c.permissions)})` : "";
          return `**${usage(c).map((u) => `\`${u}\``).join(", ")}**${perms}\n${c.description}`;
        })
      ),
    };
    texts.set(registry, text);
  }
  return text;
}

/** The message for one category page; state is `userId.category.page`. */
export async function helpPage(
  ctx: InteractionContext,
  ownerId: string,
  categoryIndex: number,
  page: number,
): Promise<MessageData> {
  const { categories: cats, entries } = helpText(ctx.registry);
  // Indices come from select values and custom-ID state: anything not a whole number is page 0.
  const index = (n: number) => Number.isSafeInteger(n) ? n : 0;
  categoryIndex = index(categoryIndex);
  page = index(page);
  const cat = Math.min(Math.max(categoryIndex, 0), cats.length - 1);
  const inCategory = entries[cat];
  const pages = Math.max(1, Math.ceil(inCategory.length / HELP_PAGE_SIZE));
  const p = Math.min(Math.max(page, 0), pages - 1);
  const embed: APIEmbed = {
    title: `Help: ${cats[cat]}`,
    description: inCategory.slice(p * HELP_PAGE_SIZE, (p + 1) * HELP_PAGE_SIZE).join("\n\n"),
    footer: { text: `Page ${p + 1} of ${pages} · ${inCategory.length} commands` },
  };
  const select: APIActionRowComponent<APIComponentInMessageActionRow> = {
    type: ComponentType.ActionRow,
    components: [{
      type: ComponentType.StringSelect,
      custom_id: await ctx.customId("category", ownerId),
      placeholder: "Choose a category",
      options: cats.slice(0, 25).map((name, i) => ({
        label: name,
        value: String(i),
        default: i === cat,
      })),
    }],
  };
  const buttons: APIActionRowComponent<APIComponentInMessageActionRow> = {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: "Previous",
        custom_id: await ctx.customId("page", `${ownerId}.${cat}.${p - 1}`),
        disabled: p === 0,
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: "Next",
        custom_id: await ctx.customId("page", `${ownerId}.${cat}.${p + 1}`),
        disabled: p >= pages - 1,
      },
    ],
  };
  return { embeds: [embed], components: [select, buttons] };
}

const NOT_YOURS = "Only the person who ran /help can use this menu. Run `/help` yourself.";

function owns(ctx: ComponentContext, ownerId: string): boolean {
  return ctx.user.id === ownerId;
}

export const help = defineCommand({
  name: "help",
  description: "Show what this bot can do, by category",
  category: "General",
  contexts: ["guild", "bot_dm"],
  // Rendered from memory and changes nothing: no idempotency record and no cooldown, so /help and
  // its buttons cost no KV operation at all (each is a network round trip and a billed unit on
  // Deploy).
  readOnly: true,
  cooldown: false,
  publicComponents: true,
  handler: async (ctx) => ctx.reply(await helpPage(ctx, ctx.user.id, 0, 0)),
  components: {
    category: async (ctx) => {
      if (!owns(ctx, ctx.state)) return ctx.ephemeral(NOT_YOURS);
      return ctx.update(await helpPage(ctx, ctx.state, Number(ctx.values[0] ?? 0), 0));
    },
    page: async (ctx) => {
      const [owner, cat, page] = ctx.state.split(".");
      if (!owns(ctx, owner)) return ctx.ephemeral(NOT_YOURS);
      return ctx.update(await helpPage(ctx, owner, Number(cat), Number(page)));
    },
  },
});
