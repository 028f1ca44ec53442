/**
 * lib/i18n/mod.ts: the language of an interaction, messages with their placeholders filled,
 * numbers in the language's format, and the localization maps of the command manifest.
 */
import assert from "node:assert/strict";
import {
  CATALOGUES,
  described,
  DISCORD_LOCALES,
  formatCount,
  formatNumber,
  formatPercent,
  isMessageKey,
  joinOr,
  type Language,
  languageOf,
  localizations,
  localized,
  t,
} from "../../lib/i18n/mod.ts";

Deno.test("i18n: the interaction's locale, then the guild's, then English", () => {
  assert.deepStrictEqual(languageOf("es-ES"), "es");
  assert.deepStrictEqual(languageOf("es-419"), "es");
  assert.deepStrictEqual(languageOf("en-GB", "es-ES"), "en");
  assert.deepStrictEqual(languageOf(undefined, "es-ES"), "es");
  assert.deepStrictEqual(languageOf("fr", "de"), "en");
  assert.deepStrictEqual(languageOf("fr", "es-419"), "es");
  assert.deepStrictEqual(languageOf("constructor", "__proto__"), "en");
});

Deno.test("i18n: placeholders are filled and numbers follow the locale", () => {
  assert.deepStrictEqual(
    t("en", "card.vouches_value", { amount: "1.5", count: 3 }),
    "1.5 ETH from 3",
  );
  assert.deepStrictEqual(
    t("es", "card.vouches_value", { amount: "1,5", count: 3 }),
    "1,5 ETH de 3",
  );
  assert.deepStrictEqual(formatNumber("en", 12345.5, { maximumFractionDigits: 1 }), "12,345.5");
  assert.deepStrictEqual(formatNumber("es", 12345.5, { maximumFractionDigits: 1 }), "12.345,5");
  assert.deepStrictEqual(formatPercent("en", 0.93), "93%");
  assert.deepStrictEqual(formatPercent("es", 0.93), "93\u00a0%");
  assert.deepStrictEqual(localizations("cmd.ethos_menu.name"), {
    "es-ES": "Perfil de Ethos",
    "es-419": "Perfil de Ethos",
  });
});

Deno.test("languageOf: case and region do not matter; empty and missing locales fall through", () => {
  assert.equal(languageOf("ES-mx"), "es");
  assert.equal(languageOf("", "es-ES"), "es");
  assert.equal(languageOf(null, null), "en");
  assert.equal(languageOf("toString"), "en");
  assert.equal(languageOf("hasOwnProperty-XX", "en-US"), "en");
});

Deno.test("t: a placeholder without its param stays as written; inherited names fill nothing", () => {
  assert.equal(t("en", "card.vouches_value", { amount: 2 }), "2 ETH from {count}");
  assert.equal(t("en", "card.vouches_value", {}), "{amount} ETH from {count}");
  // Params are read by own name only: one the params object inherits fills nothing.
  const inherited = Object.create({ amount: "9" }) as Record<string, string | number>;
  inherited.count = 1;
  assert.equal(t("en", "card.vouches_value", inherited), "{amount} ETH from 1");
  assert.equal(t("es", "common.or"), "o");
  assert.equal(t("en", "common.or"), "or");
});

Deno.test("formatNumber: each option set and language gets its own format, however it is passed", () => {
  const one = { maximumFractionDigits: 1 };
  assert.equal(formatNumber("en", 1.234, one), "1.2");
  assert.equal(formatNumber("es", 1.234, one), "1,2");
  // Equal options given as a new object, and different options, each format as they say.
  assert.equal(formatNumber("en", 1.234, { maximumFractionDigits: 1 }), "1.2");
  assert.equal(formatNumber("en", 1.234, { maximumFractionDigits: 2 }), "1.23");
  assert.equal(formatNumber("en", 1.234, one), "1.2");
  assert.equal(formatNumber("en", 1234), "1,234");
});

Deno.test("formatCount: grouped from five digits on, in both languages", () => {
  assert.equal(formatCount("en", 2150), "2150");
  assert.equal(formatCount("es", 2150), "2150");
  assert.equal(formatCount("en", 12345), "12,345");
  assert.equal(formatCount("es", 12345), "12.345");
  assert.equal(formatCount("en", 7.6), "8");
});

Deno.test("joinOr: the language's 'or' between the items", () => {
  assert.equal(joinOr("en", ["a", "b", "c"]), "a or b or c");
  assert.equal(joinOr("es", ["a", "b"]), "a o b");
  assert.equal(joinOr("en", ["only"]), "only");
  assert.equal(joinOr("en", []), "");
});

Deno.test("isMessageKey: catalogue keys only, never what every object inherits", () => {
  assert.equal(isMessageKey("common.or"), true);
  assert.equal(isMessageKey("common.nope"), false);
  assert.equal(isMessageKey("constructor"), false);
  assert.equal(isMessageKey("toString"), false);
});

Deno.test("described and localizations: English description, every non-English Discord locale", () => {
  assert.deepStrictEqual(
    Object.keys(DISCORD_LOCALES).sort(),
    (Object.keys(CATALOGUES) as Language[]).filter((l) => l !== "en"),
  );
  assert.deepStrictEqual(described("card.vouches_value", { amount: "1", count: 2 }), {
    description: "1 ETH from 2",
    descriptionLocalizations: { "es-ES": "1 ETH de 2", "es-419": "1 ETH de 2" },
  });
  assert.deepStrictEqual(
    localizations("common.or"),
    Object.fromEntries(DISCORD_LOCALES.es.map((l) => [l, CATALOGUES.es["common.or"]])),
  );
});

Deno.test("localized: the language's entry of a localization map, else the fallback", () => {
  const map = { "es-ES": "Ayuda", "fr": "Aide" };
  assert.equal(localized(map, "es", "Help"), "Ayuda");
  assert.equal(localized(map, "en", "Help"), "Help");
  assert.equal(localized({ "es-419": "Ayuda" }, "es", "Help"), "Help");
  assert.equal(localized({ "es-ES": null }, "es", "Help"), "Help");
  assert.equal(localized(null, "es", "Help"), "Help");
  assert.equal(localized(undefined, "es", "Help"), "Help");
  // Only the map's own entries count.
  const inherited = Object.create({ "es-ES": "heredado" }) as Record<string, string>;
  assert.equal(localized(inherited, "es", "Help"), "Help");
});
