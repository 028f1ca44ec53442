/**
 * Ethos as Discord linked-role metadata: the four records a server admin can put requirements on
 * ("Ethos score >= 1400", "validator"), and the values the bot publishes for a user. The keys are
 * part of the contract with every server that uses them: never renamed.
 *
 * Registering (`PUT /applications/{app}/role-connections/metadata`) replaces the app's records;
 * the fingerprint of what was last registered is kept in KV, so registering the same records again
 * makes no call (as the command manifest does).
 */
import {
  type APIApplicationRoleConnectionMetadata,
  ApplicationRoleConnectionMetadataType as T,
} from "discord-api-types/v10";
import type { RestClient } from "../discord/rest.ts";
import { canonicalJson, sha256Hex } from "../canonical.ts";
import { type Level, levelIndex, levelOfScore } from "../ethos/levels.ts";
import type { EthosProfile } from "../ethos/profile.ts";

export const METADATA_KEYS = ["score", "level", "validator", "human"] as const;
export type MetadataKey = typeof METADATA_KEYS[number];

/** The records, in the order Discord shows them. English, with Spanish (the bot's other language). */
export const METADATA_RECORDS: readonly APIApplicationRoleConnectionMetadata[] = [
  {
    type: T.IntegerGreaterThanOrEqual,
    key: "score",
    name: "Ethos score",
    description: "Ethos credibility score (0-2800) at least",
    name_localizations: { "es-ES": "Puntuación Ethos" },
    description_localizations: { "es-ES": "Puntuación de credibilidad Ethos (0-2800) de al menos" },
  },
  {
    type: T.IntegerGreaterThanOrEqual,
    key: "level",
    name: "Ethos level",
    description: "Level from 0 (untrusted) to 9 (renowned) at least",
    name_localizations: { "es-ES": "Nivel Ethos" },
    description_localizations: { "es-ES": "Nivel de 0 (untrusted) a 9 (renowned) de al menos" },
  },
  {
    type: T.BooleanEqual,
    key: "validator",
    name: "Ethos validator",
    description: "Holds an Ethos validator NFT",
    name_localizations: { "es-ES": "Validador Ethos" },
    description_localizations: { "es-ES": "Tiene un NFT de validador de Ethos" },
  },
  {
    type: T.BooleanEqual,
    key: "human",
    name: "Ethos human verified",
    description: "Passed Ethos human verification",
    name_localizations: { "es-ES": "Humano verificado en Ethos" },
    description_localizations: { "es-ES": "Pasó la verificación humana de Ethos" },
  },
];

/** What Discord is told about a user (values as Discord stores them: strings, booleans "1"/"0"). */
export type Metadata = Record<MetadataKey, string>;

export interface Standing {
  score: number;
  /** The API's level when it sent one; else the level of the score. */
  level?: Level;
  validator: boolean;
  human: boolean;
}

/** What of an Ethos profile the metadata says (the API's level when it sent one). */
export function standingOfProfile(p: EthosProfile): Standing {
  return { score: p.score, level: p.apiLevel ?? p.level, validator: p.validator, human: p.human };
}

/** A user's metadata; no Ethos profile is score 0 (the page says how to create one). */
export function metadataOf(s: Standing | null): Metadata {
  if (!s) return { score: "0", level: "0", validator: "0", human: "0" };
  const score = Math.max(0, Math.min(2800, Math.round(s.score)));
  return {
    score: String(score),
    level: String(levelIndex(s.level ?? levelOfScore(score))),
    validator: s.validator ? "1" : "0",
    human: s.human ? "1" : "0",
  };
}

/** SHA-256 (hex) of the records' canonical JSON. */
export async function recordsFingerprint(
  records: readonly APIApplicationRoleConnectionMetadata[] = METADATA_RECORDS,
): Promise<string> {
  return await sha256Hex(new TextEncoder().encode(canonicalJson(records)));
}

const REGISTERED: Deno.KvKey = ["linked_roles", "registered"];

export interface Registered {
  fingerprint: string;
  at: number;
}

export type RegisterResult =
  | { status: "unchanged"; fingerprint: string; registeredAt: number }
  | { status: "registered"; fingerprint: string; records: APIApplicationRoleConnectionMetadata[] };

/**
 * Registers the records unless the same ones were (`force` registers anyway: someone changed them
 * in the developer portal, say). Throws DiscordApiError when Discord refuses them.
 */
export async function registerMetadata(
  deps: { kv: Deno.Kv; rest: RestClient; clock: { now(): number } },
  applicationId: string,
  o: { force?: boolean } = {},
): Promise<RegisterResult> {
  const fingerprint = await recordsFingerprint();
  const stored = (await deps.kv.get<Registered>(REGISTERED)).value;
  if (!o.force && stored?.fingerprint === fingerprint) {
    return { status: "unchanged", fingerprint, registeredAt: stored.at };
  }
  const records = await deps.rest.request<APIApplicationRoleConnectionMetadata[]>(
    "PUT",
    `/applications/${encodeURIComponent(applicationId)}/role-connections/metadata`,
    { body: METADATA_RECORDS },
  );
  await deps.kv.set(REGISTERED, { fingerprint, at: deps.clock.now() } satisfies Registered);
  return { status: "registered", fingerprint, records };
}

/** What was last registered from here (null: never). */
export async function registeredMetadata(kv: Deno.Kv): Promise<Registered | null> {
  return (await kv.get<Registered>(REGISTERED)).value;
}
