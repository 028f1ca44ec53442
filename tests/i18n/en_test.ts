/**
 * lib/i18n/en.ts, the reference catalogue every other language is checked against
 * (tests/i18n/es_test.ts): its keys are dotted names, and its only braces are `{name}`
 * placeholders, so a misspelt placeholder cannot pass for text.
 */
import assert from "node:assert/strict";
import { en } from "../../lib/i18n/en.ts";

Deno.test("en: every key is a dotted lowercase name", () => {
  const bad = Object.keys(en).filter((k) => !/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(k));
  assert.deepStrictEqual(bad, []);
});

Deno.test("en: braces only ever make {name} placeholders; no entry is blank or padded", () => {
  const entries = Object.entries(en) as [string, string][];
  const stray = entries.filter(([, v]) => /[{}]/.test(v.replace(/\{\w+\}/g, "")));
  assert.deepStrictEqual(stray, []);
  const padded = entries.filter(([, v]) => v.trim() === "" || v !== v.trim());
  assert.deepStrictEqual(padded, []);
});
