/**
 * lib/interactions/autocomplete.ts: the focused option's handler is asked with the other options
 * (inside a subcommand too), under the command's gates; anything refused or failing is no choice.
 */
import assert from "node:assert/strict";
import {
  type APIApplicationCommandAutocompleteInteraction,
  type APIInteraction,
  ApplicationCommandOptionType,
  InteractionResponseType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import { autocomplete } from "../../lib/interactions/autocomplete.ts";
import { defineCommand, sub } from "../../lib/interactions/define.ts";
import { opt } from "../../lib/interactions/options.ts";
import { setAllowedRole } from "../../lib/interactions/permissions.ts";
import { createRegistry } from "../../lib/interactions/registry.ts";
import { validateManifest } from "../../lib/manifest/validate.ts";
import type { AutocompleteContext } from "../../lib/interactions/context.ts";
import { memoryDeps } from "../_deps.ts";
import { autocompleteInteraction, GUILD_ID, USER_ID } from "../_harness.ts";

const asked: { value: string; ctx: AutocompleteContext }[] = [];

const suggest = (ctx: AutocompleteContext, value: string) => {
  asked.push({ value, ctx });
  if (value === "throw") throw new Error("suggestions failed");
  return [{ name: `label-${value}`, value: `id-${value}` }];
};

const commands = [
  defineCommand({
    name: "pick",
    description: "Guarded, with suggestions",
    category: "Test",
    permissions: ["ManageRoles"],
    options: {
      thing: opt.string({ description: "A thing", required: true, autocomplete: suggest }),
      note: opt.string({ description: "A note" }),
    },
    handler: (ctx) => ctx.ephemeral("ok"),
  }),
  defineCommand({
    name: "tree",
    description: "Open, with a subcommand",
    category: "Test",
    contexts: ["guild", "bot_dm"],
    subcommands: {
      leaf: sub({
        description: "A leaf",
        options: {
          thing: opt.string({ description: "A thing", autocomplete: suggest }),
          plain: opt.string({ description: "No suggestions" }),
        },
        handler: (ctx) => ctx.ephemeral("ok"),
      }),
    },
  }),
];

type Raw = { name: string; type: number; value?: unknown; focused?: boolean; options?: Raw[] };

const focused = (value: string, name = "thing"): Raw => ({
  name,
  type: ApplicationCommandOptionType.String,
  value,
  focused: true,
});

async function withRegistry(
  fn: (ask: (i: APIInteraction) => Promise<string[]>, kv: Deno.Kv) => Promise<void>,
) {
  const kv = await Deno.openKv(":memory:");
  const app = { deps: memoryDeps(kv), registry: createRegistry(commands, validateManifest) };
  asked.length = 0;
  try {
    await fn(async (i) => {
      const r = await autocomplete(app, i as APIApplicationCommandAutocompleteInteraction);
      assert.equal(r.type, InteractionResponseType.ApplicationCommandAutocompleteResult);
      return (r.data as { choices: { value: string }[] }).choices.map((c) => c.value);
    }, kv);
  } finally {
    kv.close();
  }
}

const manage = { permissions: PermissionFlagsBits.ManageRoles };

Deno.test("autocomplete: the focused option's suggestions, with the other options given", () =>
  withRegistry(async (ask) => {
    const note = { name: "note", type: ApplicationCommandOptionType.String, value: "n" };
    assert.deepStrictEqual(
      await ask(autocompleteInteraction("pick", [note, focused("ab")], manage)),
      ["id-ab"],
    );
    assert.equal(asked[0].value, "ab");
    assert.deepStrictEqual(asked[0].ctx.options, { note: "n", thing: "ab" });
    assert.equal(asked[0].ctx.guildId, GUILD_ID);
    assert.equal(asked[0].ctx.user.id, USER_ID);
    assert.equal(asked[0].ctx.language, "en");
  }));

Deno.test("autocomplete: inside a subcommand, and in a DM for a command allowed there", () =>
  withRegistry(async (ask) => {
    const leaf = (
      o: Raw[],
    ) => [{ name: "leaf", type: ApplicationCommandOptionType.Subcommand, options: o }];
    assert.deepStrictEqual(await ask(autocompleteInteraction("tree", leaf([focused("x")]))), [
      "id-x",
    ]);
    assert.deepStrictEqual(
      await ask(autocompleteInteraction("tree", leaf([focused("y")]), { guildId: null })),
      ["id-y"],
    );
    assert.deepStrictEqual(
      await ask(autocompleteInteraction("tree", leaf([focused("z", "plain")]))),
      [],
    );
    assert.deepStrictEqual(
      await ask(
        autocompleteInteraction("tree", [{ name: "nope", type: 1, options: [focused("q")] }]),
      ),
      [],
    );
  }));

Deno.test("autocomplete: the command's permission bits, guild context and allow-list apply", () =>
  withRegistry(async (ask, kv) => {
    assert.deepStrictEqual(await ask(autocompleteInteraction("pick", [focused("a")])), []);
    assert.deepStrictEqual(
      await ask(autocompleteInteraction("pick", [focused("a")], { guildId: null })),
      [],
    );
    await setAllowedRole(kv, GUILD_ID, "pick", "210000000000000009");
    assert.deepStrictEqual(await ask(autocompleteInteraction("pick", [focused("a")], manage)), []);
    assert.deepStrictEqual(
      await ask(autocompleteInteraction("pick", [focused("a")], {
        ...manage,
        roles: ["210000000000000009"],
      })),
      ["id-a"],
    );
    assert.equal(asked.length, 1, "the handler is only asked once admitted");
  }));

Deno.test("autocomplete: an unknown command, no focused option or a failing handler: none", () =>
  withRegistry(async (ask) => {
    assert.deepStrictEqual(await ask(autocompleteInteraction("ghost", [focused("a")])), []);
    const unfocused = { name: "thing", type: ApplicationCommandOptionType.String, value: "a" };
    assert.deepStrictEqual(await ask(autocompleteInteraction("pick", [unfocused], manage)), []);
    assert.deepStrictEqual(
      await ask(autocompleteInteraction("pick", [focused("throw")], manage)),
      [],
    );
  }));
