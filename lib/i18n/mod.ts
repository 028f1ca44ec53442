/**
 * One message catalogue for what members read, keyed by the interaction's locale (the guild's
 * locale as fallback, then English), with numbers formatted for that locale. Discord's locale
 * codes map to the shipped languages by prefix (`es-ES` and `es-419` are Spanish).
 */
import { en, type MessageKey } from "./en.ts";
import { es } from "./es.ts";

export type { MessageKey };
export const CATALOGUES = { en, es } as const;
export type Language = keyof typeof CATALOGUES;

/** Discord locales that receive each shipped language in the command manifest. */
export const DISCORD_LOCALES: Readonly<Record<Exclude<Language, "en">, string[]>> = {
  es: ["es-ES", "es-419"],
};

export function languageOf(locale?: string | null, guildLocale?: string | null): Language {
  for (const l of [locale, guildLocale]) {
    const prefix = l?.toLowerCase().split("-")[0];
    // Own keys only: a locale of "constructor" must not find what every object inherits.
    if (prefix && Object.hasOwn(CATALOGUES, prefix)) return prefix as Language;
  }
  return "en";
}

/** The message in `language` with `{name}` placeholders filled. */
export function t(
  language: Language,
  key: MessageKey,
  params: Record<string, string | number> = {},
): string {
  const text: string = CATALOGUES[language][key] ?? en[key];
  return text.replace(
    /\{(\w+)\}/g,
    (m, name) => Object.hasOwn(params, name) ? String(params[name]) : m,
  );
}

const tag = (language: Language) => (language === "es" ? "es-ES" : "en-US");

// Building an Intl.NumberFormat costs about 15 µs (locale data), formatting with a built one well
// under 1 µs, and a /help page formats three numbers: one formatter per language and options,
// found by the options object itself when it is a constant, else by its JSON.
const byObject = new WeakMap<Intl.NumberFormatOptions, Map<Language, Intl.NumberFormat>>();
const byJson = new Map<string, Map<Language, Intl.NumberFormat>>();

function formatter(language: Language, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  let perLanguage = byObject.get(options);
  if (!perLanguage) {
    const json = JSON.stringify(options);
    perLanguage = byJson.get(json) ?? new Map();
    byJson.set(json, perLanguage);
    byObject.set(options, perLanguage);
  }
  let format = perLanguage.get(language);
  if (!format) perLanguage.set(language, format = new Intl.NumberFormat(tag(language), options));
  return format;
}

export function formatNumber(
  language: Language,
  value: number,
  options: Intl.NumberFormatOptions = {},
): string {
  return formatter(language, options).format(value);
}

const PERCENT: Intl.NumberFormatOptions = { style: "percent", maximumFractionDigits: 0 };

export function formatPercent(language: Language, share: number): string {
  return formatter(language, PERCENT).format(share);
}

const COUNT: Intl.NumberFormatOptions = { useGrouping: "min2", maximumFractionDigits: 0 };

/**
 * Counts in running text: grouped from five digits on (12,345 and 12.345), so a score of 2150
 * reads the same in both languages, as Spanish writes four-digit numbers anyway.
 */
export function formatCount(language: Language, value: number): string {
  return formatter(language, COUNT).format(value);
}

/** A list joined with "or" in the language: `a or b or c`. */
export function joinOr(language: Language, items: string[]): string {
  return items.join(` ${t(language, "common.or")} `);
}

/** Whether a key built at run time (e.g. from a counter name) is in the catalogue. */
export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** Discord's localization map for a key, for the command manifest. */
export function localizations(
  key: MessageKey,
  params: Record<string, string | number> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [language, locales] of Object.entries(DISCORD_LOCALES)) {
    for (const locale of locales) out[locale] = t(language as Language, key, params);
  }
  return out;
}

/** A manifest description in English with its translations: `opt.string({ ...described(k) })`. */
export function described(
  key: MessageKey,
  params: Record<string, string | number> = {},
): { description: string; descriptionLocalizations: Record<string, string> } {
  return {
    description: t("en", key, params),
    descriptionLocalizations: localizations(key, params),
  };
}

/** The text of a localization map for the language (for /help), else the English fallback. */
export function localized(
  map: Readonly<Record<string, string | null>> | null | undefined,
  language: Language,
  fallback: string,
): string {
  if (language === "en" || !map) return fallback;
  const locale = DISCORD_LOCALES[language][0];
  return (Object.hasOwn(map, locale) ? map[locale] : null) ?? fallback;
}
