/** /help: categories in a select menu, pages with buttons; only the invoker can use them. */
import {
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
  ApplicationCommandType,
  ButtonStyle,
  ComponentType,
} from "discord-api-types/v10";
import { defineCommand, own } from "../interactions/define.ts";
import type { Command } from "../interactions/define.ts";
import type { ComponentContext, InteractionContext } from "../interactions/context.ts";
import type { MessageData } from "../interactions/reply.ts";
import type { Registry } from "../interactions/registry.ts";
import { describeMissing } from "../interactions/permissions.ts";
import {
  described,
  formatCount,
  type Language,
  localized,
  type MessageKey,
  t,
} from "../i18n/mod.ts";

export const HELP_PAGE_SIZE = 5;

export function categories(commands: readonly Command[]): string[] {
  return [...new Set(commands.map((c) => c.category))].sort();
}

/** The catalogue's names of the categories commands declare; any other shows as declared. */
const CATEGORY_KEYS: Readonly<Record<string, MessageKey>> = {
  Admin: "help.category.admin",
  Backups: "help.category.backups",
  Ethos: "help.category.ethos",
  General: "help.category.general",
  "Role sync": "help.category.role_sync",
};

function categoryName(category: string, language: Language): string {
  const key = own(CATEGORY_KEYS, category);
  return key ? t(language, key) : category;
}

function usage(c: Command, language: Language): string[] {
  if (c.type === ApplicationCommandType.User) {
    const json = c.json as { name_localizations?: Record<string, string> | null };
    return [
      `${t(language, "help.apps")} → ${localized(json.name_localizations, language, c.name)}`,
    ];
  }
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

// The text depends only on the registry and the language: built once each, not on every /help
// (it is on the hot path).
const texts = new WeakMap<Registry, Map<Language, HelpText>>();

function helpText(registry: Registry, language: Language): HelpText {
  let byLanguage = texts.get(registry);
  if (!byLanguage) texts.set(registry, byLanguage = new Map());
  let text = byLanguage.get(language);
  if (!text) {
    // Ordered by the declared (English) names, so a category index in a custom ID means the
    // same category whatever the language of whoever clicks.
    const cats = categories(registry.commands);
    text = {
      categories: cats.map((cat) => categoryName(cat, language)),
      entries: cats.map((cat) =>
        registry.commands.filter((c) => c.category === cat).map((c) => {
          const perms = c.permissions
            ? ` (${t(language, "help.needs", { permissions: describeMissing(c.permissions) })})`
            : "";
          const usages = usage(c, language).map((u) => `\`${u}\``).join(", ");
          const description = localized(c.descriptionLocalizations, language, c.description);
          return `**${usages}**${perms}\n${description}`;
        })
      ),
    };
    byLanguage.set(language, text);
  }
  return text;
}

/** What a page shows apart from its signed custom IDs: the same for every member. */
interface PageParts {
  cat: number;
  p: number;
  pages: number;
  embed: APIEmbed;
  placeholder: string;
  options: { label: string; value: string; default: boolean }[];
  previous: string;
  next: string;
}

// Rendered once per registry, language, category and page: /help is on the hot path, and only its
// three custom IDs (owner, expiry) differ between members.
const pageParts = new WeakMap<Registry, Map<string, PageParts>>();

function partsOf(registry: Registry, language: Language, categoryIndex: number, page: number) {
  const { categories: cats, entries } = helpText(registry, language);
  const cat = Math.min(Math.max(categoryIndex, 0), cats.length - 1);
  const inCategory = entries[cat];
  const pages = Math.max(1, Math.ceil(inCategory.length / HELP_PAGE_SIZE));
  const p = Math.min(Math.max(page, 0), pages - 1);
  let byKey = pageParts.get(registry);
  if (!byKey) pageParts.set(registry, byKey = new Map());
  const key = `${language}.${cat}.${p}`;
  let parts = byKey.get(key);
  if (!parts) {
    parts = {
      cat,
      p,
      pages,
      embed: {
        title: t(language, "help.title", { category: cats[cat] }),
        description: inCategory.slice(p * HELP_PAGE_SIZE, (p + 1) * HELP_PAGE_SIZE).join("\n\n"),
        footer: {
          text: t(language, "help.footer", {
            page: formatCount(language, p + 1),
            pages: formatCount(language, pages),
            count: formatCount(language, inCategory.length),
          }),
        },
      },
      placeholder: t(language, "help.choose_category"),
      options: cats.slice(0, 25).map((name, i) => ({
        label: name,
        value: String(i),
        default: i === cat,
      })),
      previous: t(language, "common.previous"),
      next: t(language, "common.next"),
    };
    byKey.set(key, parts);
  }
  return parts;
}

/** The message for one category page; state is `userId.category.page`. */
async function helpPage(
  ctx: InteractionContext,
  ownerId: string,
  categoryIndex: number,
  page: number,
): Promise<MessageData> {
  // Indices come from select values and custom-ID state: anything not a whole number is page 0.
  const index = (n: number) => Number.isSafeInteger(n) ? n : 0;
  const { cat, p, pages, embed, placeholder, options, previous, next } = partsOf(
    ctx.registry,
    ctx.language,
    index(categoryIndex),
    index(page),
  );
  const select: APIActionRowComponent<APIComponentInMessageActionRow> = {
    type: ComponentType.ActionRow,
    components: [{
      type: ComponentType.StringSelect,
      custom_id: await ctx.customId("category", ownerId),
      placeholder,
      options,
    }],
  };
  const buttons: APIActionRowComponent<APIComponentInMessageActionRow> = {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: previous,
        custom_id: await ctx.customId("page", `${ownerId}.${cat}.${p - 1}`),
        disabled: p === 0,
      },
      {
        type: ComponentType.Button,
        style: ButtonStyle.Secondary,
        label: next,
        custom_id: await ctx.customId("page", `${ownerId}.${cat}.${p + 1}`),
        disabled: p >= pages - 1,
      },
    ],
  };
  return { embeds: [embed], components: [select, buttons] };
}

function owns(ctx: ComponentContext, ownerId: string): boolean {
  return ctx.user.id === ownerId;
}

export const help = defineCommand({
  name: "help",
  ...described("cmd.help.description"),
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
      if (!owns(ctx, ctx.state)) return ctx.ephemeral(t(ctx.language, "help.not_yours"));
      return ctx.update(await helpPage(ctx, ctx.state, Number(ctx.values[0] ?? 0), 0));
    },
    page: async (ctx) => {
      const [owner, cat, page] = ctx.state.split(".");
      if (!owns(ctx, owner)) return ctx.ephemeral(t(ctx.language, "help.not_yours"));
      return ctx.update(await helpPage(ctx, owner, Number(cat), Number(page)));
    },
  },
});
