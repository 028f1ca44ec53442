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
export const LANGUAGES = Object.keys(CATALOGUES) as Language[];

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

export function formatNumber(
  language: Language,
  value: number,
  options: Intl.NumberFormatOptions = {},
): string {
  return new Intl.NumberFormat(tag(language), options).format(value);
}

export function formatPercent(language: Language, share: number): string {
  return new Intl.NumberFormat(tag(language), { style: "percent", maximumFractionDigits: 0 })
    .format(share);
}

/** Discord's localization map for a key, for the command manifest. */
export function localizations(key: MessageKey): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [language, locales] of Object.entries(DISCORD_LOCALES)) {
    for (const locale of locales) out[locale] = t(language as Language, key);
  }
  return out;
}
