/**
 * Replies follow the member's language: signed interactions with a Spanish locale get the
 * Spanish catalogue's text (compared with `t("es", …)`, never with hard-coded Spanish), the same
 * interaction in English gets the English text, no English sentence of the catalogue leaks into
 * a Spanish reply, and the manifest carries Spanish descriptions everywhere Discord shows one.
 */
import {
  type APIApplicationCommandOption,
  type APIInteraction,
  ApplicationCommandType,
  InteractionResponseType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import assert from "node:assert/strict";
import {
  commandInteraction,
  componentInteraction,
  createTestApp,
  rawOptions,
  subcommand,
  type TestApp,
} from "../_harness.ts";
import { commands } from "../../lib/commands/mod.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import { createRegistry } from "../../lib/interactions/registry.ts";
import { LIMITS, validateManifest } from "../../lib/manifest/validate.ts";
import { es } from "../../lib/i18n/es.ts";
import {
  CATALOGUES,
  DISCORD_LOCALES,
  formatNumber,
  type Language,
  type MessageKey,
  t,
} from "../../lib/i18n/mod.ts";

const limited = defineCommand({
  name: "limited",
  description: "Once per 5 s",
  category: "Test",
  cooldown: { uses: 1, perMs: 5_000 },
  handler: (ctx) => ctx.ephemeral("ok"),
});

type Reply = {
  type: number;
  data: {
    content?: string;
    embeds?: {
      title?: string;
      description?: string;
      footer?: { text: string };
      fields?: { name: string; value: string }[];
    }[];
    components?: { components: { label?: string; placeholder?: string }[] }[];
  };
};

/** The payload as a member whose Discord is in `locale` would send it. */
function inLocale(payload: APIInteraction, locale: string, guildLocale?: string): APIInteraction {
  const extra = { locale, ...(guildLocale ? { guild_locale: guildLocale } : {}) };
  return { ...payload, ...extra } as unknown as APIInteraction;
}

/** Every text a member reads in a reply: content, embed parts, button labels, placeholders. */
function texts(r: Reply): string[] {
  const d = r.data ?? {};
  return [
    d.content,
    ...(d.embeds ?? []).flatMap((e) => [
      e.title,
      e.description,
      e.footer?.text,
      ...(e.fields ?? []).flatMap((f) => [f.name, f.value]),
    ]),
    ...(d.components ?? []).flatMap((row) =>
      row.components.flatMap((c) => [c.label, c.placeholder])
    ),
  ].filter((x): x is string => typeof x === "string" && x.length > 0);
}

// The English catalogue's wording, cut at its placeholders: every piece long enough to be a
// phrase and absent from the Spanish text of the same key would be an English leak.
const englishPhrases = (Object.keys(CATALOGUES.en) as MessageKey[]).flatMap((key) =>
  CATALOGUES.en[key].split(/\{\w+\}/).map((s) => s.trim()).filter((s) =>
    s.length >= 15 && !es[key].includes(s)
  )
);

function assertNoEnglish(r: Reply, label: string): void {
  const all = texts(r).join("\n");
  for (const phrase of englishPhrases) {
    assert.ok(!all.includes(phrase), `${label}: English "${phrase}" in a Spanish reply:\n${all}`);
  }
}

interface Sample {
  label: string;
  /** The interaction, in the harness's default English locale. */
  payload: () => APIInteraction;
  /** What a member reads in `language`, from the catalogue. */
  expect: (r: Reply, language: Language) => void;
  /** Run first (in the language being tested), e.g. to spend the cooldown. */
  before?: (t: TestApp, locale: string) => Promise<void>;
}

const MANAGE_ROLES = { permissions: PermissionFlagsBits.ManageRoles };
const adminCategory = commands.filter((c) => c.category === "Admin");

const samples: Sample[] = [
  {
    label: "/help",
    payload: () => commandInteraction("help"),
    expect: (r, l) => {
      const embed = r.data.embeds![0];
      // Categories are ordered by their English names: Admin comes first in every language.
      assert.deepStrictEqual(
        embed.title,
        t(l, "help.title", { category: t(l, "help.category.admin") }),
      );
      assert.deepStrictEqual(
        embed.footer!.text,
        t(l, "help.footer", { page: 1, pages: 1, count: adminCategory.length }),
      );
      assert.ok(embed.description!.includes(t(l, "cmd.config.description")), embed.description);
      assert.ok(
        embed.description!.includes(t(l, "help.needs", { permissions: "**Manage Server**" })),
      );
      const [menu, buttons] = r.data.components!;
      assert.deepStrictEqual(menu.components[0].placeholder, t(l, "help.choose_category"));
      assert.deepStrictEqual(buttons.components.map((b) => b.label), [
        t(l, "common.previous"),
        t(l, "common.next"),
      ]);
    },
  },
  {
    label: "/config without Manage Server",
    payload: () => commandInteraction("config"),
    expect: (r, l) =>
      assert.deepStrictEqual(
        r.data.content,
        t(l, "interaction.missing_permission", {
          permissions: "**Manage Server**",
          command: "config",
        }),
      ),
  },
  {
    label: "an unknown subcommand",
    payload: () => commandInteraction("privacy", subcommand("nope")),
    expect: (r, l) =>
      assert.deepStrictEqual(
        r.data.content,
        t(l, "interaction.unknown_subcommand", { command: "privacy" }),
      ),
  },
  {
    label: "an expired custom ID",
    payload: () => componentInteraction("not-a-signed-id"),
    expect: (r, l) => assert.deepStrictEqual(r.data.content, t(l, "interaction.expired")),
  },
  {
    label: "the cooldown refusal",
    payload: () => commandInteraction("limited"),
    before: async (app, locale) => {
      await app.post(inLocale(commandInteraction("limited"), locale));
    },
    expect: (r, l) =>
      assert.deepStrictEqual(
        r.data.content,
        t(l, "interaction.cooldown", {
          command: "limited",
          seconds: formatNumber(l, 5, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
        }),
      ),
  },
  {
    label: "an option out of range",
    payload: () =>
      commandInteraction("audit", rawOptions({ page: 0 }), {
        permissions: PermissionFlagsBits.Administrator,
      }),
    expect: (r, l) =>
      assert.deepStrictEqual(r.data.content, t(l, "option.min", { option: "page", min: 1 })),
  },
  {
    label: "/ethos_sync_status",
    payload: () => commandInteraction("ethos_sync_status"),
    expect: (r, l) => {
      const embed = r.data.embeds![0];
      assert.deepStrictEqual(embed.title, t(l, "ethos_sync.title"));
      assert.deepStrictEqual(embed.description, t(l, "ethos_sync.state.idle"));
      assert.deepStrictEqual(r.data.components![0].components.map((b) => b.label), [
        t(l, "common.refresh"),
        t(l, "ethos_sync.stop"),
      ]);
    },
  },
  {
    label: "/ethos_sync_stop with nothing to stop (a job runner's reason, translated)",
    payload: () => commandInteraction("ethos_sync_stop", [], MANAGE_ROLES),
    expect: (r, l) =>
      assert.deepStrictEqual(
        r.data.content,
        t(l, "ethos_sync_stop.noop", { reason: t(l, "reason.no_run") }),
      ),
  },
  {
    label: "/backup view of an unknown id (a store error, translated)",
    payload: () =>
      commandInteraction("backup", subcommand("view", { id: "zzzzzzzz" }), {
        permissions: PermissionFlagsBits.Administrator,
      }),
    expect: (r, l) => {
      const reason = t(l, "reason.backup_not_found", { id: "zzzzzzzz" });
      assert.deepStrictEqual(
        r.data.content,
        `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`,
      );
    },
  },
];

async function answer(sample: Sample, locale: string, guildLocale?: string): Promise<Reply> {
  const app = await createTestApp({ commands: [...commands, limited] });
  try {
    await sample.before?.(app, locale);
    const response = await app.post(inLocale(sample.payload(), locale, guildLocale));
    assert.deepStrictEqual(response.status, 200);
    return await response.json() as Reply;
  } finally {
    await app.close();
  }
}

for (const sample of samples) {
  Deno.test(`i18n: ${sample.label} answers in the member's language`, async () => {
    const spanish = await answer(sample, "es-ES");
    const english = await answer(sample, "en-US");
    assert.ok(
      spanish.type === InteractionResponseType.ChannelMessageWithSource ||
        spanish.type === InteractionResponseType.UpdateMessage,
      `${sample.label}: response type ${spanish.type}`,
    );
    sample.expect(spanish, "es");
    sample.expect(english, "en");
    assertNoEnglish(spanish, sample.label);
    assert.ok(
      texts(spanish).join("\n") !== texts(english).join("\n"),
      `${sample.label}: the Spanish reply is the English one`,
    );
  });
}

Deno.test("i18n: the guild's locale applies when the member's is not shipped; es-419 is Spanish", async () => {
  const unknown = samples.find((s) => s.label === "an unknown subcommand")!;
  unknown.expect(await answer(unknown, "fr", "es-ES"), "es");
  unknown.expect(await answer(unknown, "es-419"), "es");
  unknown.expect(await answer(unknown, "de", "ja"), "en");
});

type ManifestNode = {
  name: string;
  type?: number;
  description?: string;
  name_localizations?: Record<string, string> | null;
  description_localizations?: Record<string, string> | null;
  options?: APIApplicationCommandOption[];
};

Deno.test("i18n: every command, subcommand, group and option has Spanish descriptions within Discord's limits", () => {
  const manifest = createRegistry(commands, validateManifest).manifest();
  assert.deepStrictEqual(validateManifest(manifest), []);
  const locales = DISCORD_LOCALES.es;
  let checked = 0;
  const walk = (node: ManifestNode, where: string) => {
    const map = node.description_localizations ?? {};
    for (const locale of locales) {
      const text = map[locale];
      assert.ok(typeof text === "string" && text.trim().length > 0, `${where}: no ${locale}`);
      assert.ok([...text].length <= LIMITS.description, `${where}: ${locale} over 100 characters`);
      assert.ok(text !== node.description, `${where}: ${locale} is the English description`);
    }
    checked++;
    for (const option of node.options ?? []) {
      walk(option as ManifestNode, `${where} > ${option.name}`);
    }
  };
  for (const entry of manifest as ManifestNode[]) {
    if ((entry.type ?? ApplicationCommandType.ChatInput) !== ApplicationCommandType.ChatInput) {
      continue;
    }
    // Slash-command names stay English in every language (see README "Slash commands").
    assert.deepStrictEqual(
      entry.name_localizations,
      undefined,
      `/${entry.name}: name_localizations`,
    );
    walk(entry, `/${entry.name}`);
    // Discord counts the longest localization of each field toward the 8,000 characters.
    const longest = (node: ManifestNode): number =>
      node.name.length +
      Math.max(
        node.description?.length ?? 0,
        ...Object.values(node.description_localizations ?? {}).map((d) => d.length),
      ) +
      (node.options ?? []).reduce((sum, o) => sum + longest(o as ManifestNode), 0);
    assert.ok(longest(entry) <= LIMITS.commandChars, `/${entry.name}: over 8000 characters`);
  }
  assert.ok(checked >= 50, `only ${checked} descriptions checked`);
  // The context-menu command is named in Spanish too.
  const menu = (manifest as ManifestNode[]).find((c) => c.type === ApplicationCommandType.User)!;
  for (const locale of locales) {
    assert.deepStrictEqual(menu.name_localizations?.[locale], t("es", "cmd.ethos_menu.name"));
  }
});

Deno.test("i18n: a setup Reason from the sync reaches /ethos_refresh in the member's language", async () => {
  for (const [locale, language] of [["es-ES", "es"], ["en-US", "en"]] as const) {
    const app = await createTestApp({ commands });
    try {
      const res = await app.post(inLocale(commandInteraction("ethos_refresh"), locale));
      assert.deepStrictEqual(res.status, 200);
      await res.body?.cancel();
      await app.settle();
      const edit = app.calls.find((c) => c.method === "PATCH" && c.path.startsWith("/webhooks/"));
      assert.deepStrictEqual(
        (edit?.body as { content?: string } | undefined)?.content,
        t(language, "ethos_refresh.not_set_up", { reason: t(language, "reason.sync_no_tiers") }),
      );
    } finally {
      await app.close();
    }
  }
});
