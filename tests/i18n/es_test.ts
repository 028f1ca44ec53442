/**
 * lib/i18n/es.ts, checked against English: every shipped language (CATALOGUES) has every key of
 * en.ts, none empty, each with the same placeholders.
 */
import assert from "node:assert/strict";
import { CATALOGUES, type Language } from "../../lib/i18n/mod.ts";
import { en } from "../../lib/i18n/en.ts";

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

Deno.test("i18n: every shipped language has every key, with the same placeholders", () => {
  const keys = Object.keys(en).sort();
  for (const language of Object.keys(CATALOGUES) as Language[]) {
    const catalogue = CATALOGUES[language] as Record<string, string>;
    assert.deepStrictEqual(Object.keys(catalogue).sort(), keys, `${language}: keys`);
    for (const key of keys) {
      assert.deepStrictEqual(
        catalogue[key].trim().length > 0,
        true,
        `${language}: ${key} is empty`,
      );
      assert.deepStrictEqual(
        placeholders(catalogue[key]),
        placeholders(en[key as keyof typeof en]),
        key,
      );
    }
  }
});
