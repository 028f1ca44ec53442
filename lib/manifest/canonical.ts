/**
 * The canonical form of a command manifest, and its fingerprint.
 *
 * Canonical means: only the fields a caller sets (server-side fields such as `id`,
 * `application_id`, `guild_id` and `version` never appear), every default Discord applies written
 * out (`type` 1, `options` [], `required` false, `nsfw` false, `integration_types` [0], ...),
 * empty values treated as absent, sets (`contexts`, `integration_types`, `channel_types`) sorted,
 * commands sorted by type then name (by code unit, never by locale), object keys sorted. So a
 * manifest and Discord's echo of it have the same canonical form, and the same code gives the same
 * fingerprint on every machine.
 *
 * The form is an allow-list of the documented caller-settable fields: a field Discord adds to its
 * answers later cannot make a scope look drifted forever. Options keep their order (Discord shows
 * them in it), and so do choices.
 */
import { canonicalJson, sha256Hex } from "../canonical.ts";
import { ApplicationCommandOptionType as O, ApplicationCommandType } from "discord-api-types/v10";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type CanonicalCommand = { [key: string]: Json };

/** Command scope rules: `dm_permission` means nothing in a guild and Discord does not echo it. */
export interface CanonicalOptions {
  guild?: boolean;
}

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);

/** Localisation maps: null when absent or empty, else the map (keys get sorted on output). */
function localizations(v: unknown): Json {
  if (!isObject(v)) return null;
  const entries = Object.entries(v).filter(([, text]) => typeof text === "string");
  return entries.length ? Object.fromEntries(entries) as Json : null;
}

function numberSet(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  return [...new Set(v.filter((x): x is number => typeof x === "number"))].sort((a, b) => a - b);
}

function choice(v: unknown): Json {
  const c = isObject(v) ? v : {};
  return {
    name: String(c.name ?? ""),
    name_localizations: localizations(c.name_localizations),
    value: typeof c.value === "number" ? c.value : String(c.value ?? ""),
  };
}

function canonicalOption(v: unknown): CanonicalCommand {
  const o = isObject(v) ? v : {};
  const type = typeof o.type === "number" ? o.type : 0;
  const out: CanonicalCommand = {
    type,
    name: String(o.name ?? ""),
    name_localizations: localizations(o.name_localizations),
    description: String(o.description ?? ""),
    description_localizations: localizations(o.description_localizations),
  };
  if (type === O.Subcommand || type === O.SubcommandGroup) {
    out.options = Array.isArray(o.options) ? o.options.map(canonicalOption) : [];
    return out;
  }
  out.required = o.required === true;
  out.autocomplete = o.autocomplete === true;
  if (Array.isArray(o.choices) && o.choices.length > 0) out.choices = o.choices.map(choice);
  const channels = numberSet(o.channel_types);
  if (channels?.length) out.channel_types = channels;
  for (const key of ["min_value", "max_value", "min_length", "max_length"] as const) {
    if (typeof o[key] === "number") out[key] = o[key] as number;
  }
  return out;
}

/** One command (a manifest entry or Discord's answer) in canonical form. */
export function canonicalCommand(v: unknown, opts: CanonicalOptions = {}): CanonicalCommand {
  const c = isObject(v) ? v : {};
  const type = typeof c.type === "number" ? c.type : ApplicationCommandType.ChatInput;
  const perms = c.default_member_permissions;
  const out: CanonicalCommand = {
    type,
    name: String(c.name ?? ""),
    name_localizations: localizations(c.name_localizations),
    description: typeof c.description === "string" ? c.description : "",
    description_localizations: localizations(c.description_localizations),
    options: Array.isArray(c.options) ? c.options.map(canonicalOption) : [],
    default_member_permissions: typeof perms === "string" || typeof perms === "number"
      ? String(perms)
      : null,
    contexts: numberSet(c.contexts),
    integration_types: numberSet(c.integration_types) ?? [0],
    nsfw: c.nsfw === true,
  };
  if (!opts.guild) out.dm_permission = c.dm_permission !== false;
  return out;
}

/** A stable identity for a command within a scope: Discord keys commands by type and name. */
export function commandKey(c: { type?: unknown; name?: unknown }): string {
  return `${typeof c.type === "number" ? c.type : 1}:${String(c.name ?? "")}`;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The whole manifest in canonical form, sorted by type then name. */
export function canonicalManifest(
  commands: readonly unknown[],
  opts: CanonicalOptions = {},
): CanonicalCommand[] {
  return commands.map((c) => canonicalCommand(c, opts)).sort((a, b) =>
    (a.type as number) - (b.type as number) || byCodeUnits(a.name as string, b.name as string)
  );
}

/**
 * Canonical JSON (lib/canonical.ts) of any value from Discord or the code; `undefined` reads as
 * null, as it would in a JSON array.
 */
export function stableStringify(value: unknown): string {
  return value === undefined ? "null" : canonicalJson(value);
}

/** The canonical JSON text of a manifest, the one its fingerprint is taken of. */
export function canonicalManifestJson(
  commands: readonly unknown[],
  opts: CanonicalOptions = {},
): string {
  return stableStringify(canonicalManifest(commands, opts));
}

/** SHA-256 (hex) of the manifest's canonical JSON. */
export async function fingerprint(
  commands: readonly unknown[],
  opts: CanonicalOptions = {},
): Promise<string> {
  return await sha256Hex(new TextEncoder().encode(canonicalManifestJson(commands, opts)));
}

/** The first 12 hex digits, for messages. */
export function shortFingerprint(fp: string | null | undefined): string {
  return fp ? fp.slice(0, 12) : "none";
}
