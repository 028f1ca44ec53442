import { assertEquals } from "../_assert.ts";
import {
  CATALOGUES,
  formatNumber,
  formatPercent,
  languageOf,
  LANGUAGES,
  localizations,
  t,
} from "../../lib/i18n/mod.ts";
import { en } from "../../lib/i18n/en.ts";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

Deno.test("i18n: every shipped language has every key, with the same placeholders", () => {
  const keys = Object.keys(en).sort();
  for (const language of LANGUAGES) {
    const catalogue = CATALOGUES[language] as Record<string, string>;
    assertEquals(Object.keys(catalogue).sort(), keys, `${language}: keys`);
    for (const key of keys) {
      assertEquals(catalogue[key].trim().length > 0, true, `${language}: ${key} is empty`);
      assertEquals(placeholders(catalogue[key]), placeholders(en[key as keyof typeof en]), key);
    }
  }
});

Deno.test("i18n: the interaction's locale, then the guild's, then English", () => {
  assertEquals(languageOf("es-ES"), "es");
  assertEquals(languageOf("es-419"), "es");
  assertEquals(languageOf("en-GB", "es-ES"), "en");
  assertEquals(languageOf(undefined, "es-ES"), "es");
  assertEquals(languageOf("fr", "de"), "en");
  assertEquals(languageOf("fr", "es-419"), "es");
  assertEquals(languageOf("constructor", "__proto__"), "en");
});

Deno.test("i18n: placeholders are filled and numbers follow the locale", () => {
  assertEquals(t("en", "card.vouches_value", { amount: "1.5", count: 3 }), "1.5 ETH from 3");
  assertEquals(t("es", "card.vouches_value", { amount: "1,5", count: 3 }), "1,5 ETH de 3");
  assertEquals(formatNumber("en", 12345.5, { maximumFractionDigits: 1 }), "12,345.5");
  assertEquals(formatNumber("es", 12345.5, { maximumFractionDigits: 1 }), "12.345,5");
  assertEquals(formatPercent("en", 0.93), "93%");
  assertEquals(formatPercent("es", 0.93), "93\u00a0%");
  assertEquals(localizations("cmd.ethos_menu.name"), {
    "es-ES": "Perfil de Ethos",
    "es-419": "Perfil de Ethos",
  });
});
