/**
 * Linked Roles: the application's role connection metadata records and each user's role
 * connection, with the checks Discord documents (at most 5 records; key ^[a-z0-9_]{1,50}$,
 * unique; name 1-100; description 1-200; type 1-8; platform_name at most 50 and platform_username
 * at most 100 characters; metadata values stringified, at most 100 characters, of the record's
 * type). Invalid bodies throw 400 50035.
 */
import {
  type APIApplicationRoleConnection,
  type APIApplicationRoleConnectionMetadata,
  ApplicationRoleConnectionMetadataType as T,
  Locale,
} from "discord-api-types/v10";
import { FormErrors } from "./errors.ts";

export const MAX_METADATA_RECORDS = 5;
const KEY = /^[a-z0-9_]{1,50}$/;
const LOCALES = new Set<string>(Object.values(Locale));
const ISO8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** Error codes with no Discord-published name; the emulator's own, kept stable for tests. */
export const DUPLICATE_KEY = "APPLICATION_ROLE_CONNECTION_METADATA_DUPLICATE_KEY";
export const UNKNOWN_KEY = "APPLICATION_ROLE_CONNECTION_METADATA_UNKNOWN_KEY";

export type MetadataRecord = APIApplicationRoleConnectionMetadata;

export interface RoleConnection extends APIApplicationRoleConnection {
  metadata: Record<string, string>;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isIntegerType(type: number): boolean {
  return type >= T.IntegerLessThanOrEqual && type <= T.IntegerNotEqual;
}

export function isDatetimeType(type: number): boolean {
  return type === T.DatetimeLessThanOrEqual || type === T.DatetimeGreaterThanOrEqual;
}

export function isBooleanType(type: number): boolean {
  return type === T.BooleanEqual || type === T.BooleanNotEqual;
}

export class RoleConnectionStore {
  #records: MetadataRecord[] = [];
  readonly #connections = new Map<string, RoleConnection>();

  /** A copy of the registered metadata records, in the order they were put. */
  metadata(): MetadataRecord[] {
    return structuredClone(this.#records);
  }

  /** PUT .../role-connections/metadata: validates, replaces the whole list, returns it. */
  setMetadata(body: unknown): MetadataRecord[] {
    this.#records = validateMetadata(body);
    return this.metadata();
  }

  /** The user's connection, or undefined when none was put. */
  connection(userId: string): RoleConnection | undefined {
    const c = this.#connections.get(userId);
    return c ? structuredClone(c) : undefined;
  }

  /** What GET answers: the connection, or Discord's empty one. */
  connectionOrEmpty(userId: string): RoleConnection {
    return this.connection(userId) ??
      { platform_name: null, platform_username: null, metadata: {} };
  }

  /** PUT .../role-connection: validates against the registered records and replaces. */
  put(userId: string, body: unknown): RoleConnection {
    const connection = validateConnection(body, this.#records);
    this.#connections.set(userId, connection);
    return structuredClone(connection);
  }

  delete(userId: string): boolean {
    return this.#connections.delete(userId);
  }

  /** Users holding a connection. */
  users(): string[] {
    return [...this.#connections.keys()];
  }

  /**
   * Whether the user's metadata meets every requirement of a linked role, as Discord checks
   * when a member claims it: integers compare with the configured value, datetimes with "days
   * before now", booleans with 1/0. A key the user has no value for fails.
   */
  qualifies(userId: string, requirements: Record<string, number | boolean>, now: number): boolean {
    const metadata = this.#connections.get(userId)?.metadata ?? {};
    for (const [key, wanted] of Object.entries(requirements)) {
      const record = this.#records.find((r) => r.key === key);
      const value = metadata[key];
      if (!record || value === undefined) return false;
      const w = Number(wanted);
      let pass: boolean;
      switch (record.type) {
        case T.IntegerLessThanOrEqual:
          pass = Number(value) <= w;
          break;
        case T.IntegerGreaterThanOrEqual:
          pass = Number(value) >= w;
          break;
        case T.IntegerEqual:
          pass = Number(value) === w;
          break;
        case T.IntegerNotEqual:
          pass = Number(value) !== w;
          break;
        case T.DatetimeLessThanOrEqual:
          pass = Date.parse(value) <= now - w * 86_400_000;
          break;
        case T.DatetimeGreaterThanOrEqual:
          pass = Date.parse(value) >= now - w * 86_400_000;
          break;
        case T.BooleanEqual:
          pass = value === String(w);
          break;
        default:
          pass = value !== String(w);
      }
      if (!pass) return false;
    }
    return true;
  }
}

// --- metadata records ---------------------------------------------------------------------

export function validateMetadata(body: unknown): MetadataRecord[] {
  const form = new FormErrors();
  if (!Array.isArray(body)) {
    form.add([], "BASE_TYPE_ARRAY", "Must be an array.");
    throw form.toError();
  }
  if (body.length > MAX_METADATA_RECORDS) {
    form.add([], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_METADATA_RECORDS} or fewer in length.`);
    throw form.toError();
  }
  const out: MetadataRecord[] = [];
  const keys = new Set<string>();
  body.forEach((raw, i) => {
    if (!isObject(raw)) {
      form.add([i], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
      return;
    }
    const type = raw.type;
    if (type === undefined || type === null) {
      form.add([i, "type"], "BASE_TYPE_REQUIRED", "This field is required");
    } else if (!Number.isInteger(type) || (type as number) < 1 || (type as number) > 8) {
      form.add([i, "type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8}.");
    }
    const key = raw.key;
    if (checkString(key, 1, 50, form, [i, "key"])) {
      if (!KEY.test(key as string)) {
        form.add([i, "key"], "STRING_TYPE_REGEX", "String value did not match validation regex.");
      } else if (keys.has(key as string)) {
        form.add([i, "key"], DUPLICATE_KEY, "Metadata keys must be unique.");
      }
      keys.add(key as string);
    }
    checkString(raw.name, 1, 100, form, [i, "name"]);
    checkString(raw.description, 1, 200, form, [i, "description"]);
    checkLocalizations(raw.name_localizations, 1, 100, form, [i, "name_localizations"]);
    checkLocalizations(
      raw.description_localizations,
      1,
      200,
      form,
      [i, "description_localizations"],
    );
    const record: MetadataRecord = {
      type: type as T,
      key: key as string,
      name: raw.name as string,
      description: raw.description as string,
    };
    if (isObject(raw.name_localizations)) {
      record.name_localizations = { ...raw.name_localizations } as Record<string, string>;
    }
    if (isObject(raw.description_localizations)) {
      record.description_localizations = { ...raw.description_localizations } as Record<
        string,
        string
      >;
    }
    out.push(record);
  });
  form.throwIfAny();
  return out;
}

/** Required string of min..max characters; true when it is one. */
function checkString(
  value: unknown,
  min: number,
  max: number,
  form: FormErrors,
  path: Path,
): boolean {
  if (value === undefined || value === null) {
    form.add(path, "BASE_TYPE_REQUIRED", "This field is required");
    return false;
  }
  if (typeof value !== "string") {
    form.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.");
    return false;
  }
  if (value.length < min || value.length > max) {
    form.add(path, "BASE_TYPE_BAD_LENGTH", `Must be between ${min} and ${max} in length.`);
    return false;
  }
  return true;
}

function checkLocalizations(
  value: unknown,
  min: number,
  max: number,
  form: FormErrors,
  path: Path,
): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) {
    form.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    return;
  }
  for (const [locale, text] of Object.entries(value)) {
    if (!LOCALES.has(locale)) {
      form.add(
        [...path, locale],
        "ENUM_TYPE_COERCE",
        `Value "${locale}" is not a valid enum value.`,
      );
    } else {
      checkString(text, min, max, form, [...path, locale]);
    }
  }
}

// --- user connections ---------------------------------------------------------------------

export function validateConnection(body: unknown, records: MetadataRecord[]): RoleConnection {
  const form = new FormErrors();
  if (body !== undefined && body !== null && !isObject(body)) {
    form.add([], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    throw form.toError();
  }
  const b = (body ?? {}) as Json;
  const platformName = optionalString(b.platform_name, 50, form, ["platform_name"]);
  const platformUsername = optionalString(b.platform_username, 100, form, ["platform_username"]);
  const metadata: Record<string, string> = {};
  const raw = b.metadata;
  if (raw !== undefined && raw !== null) {
    if (!isObject(raw)) {
      form.add(["metadata"], "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    } else {
      for (const [key, value] of Object.entries(raw)) {
        const path = ["metadata", key];
        const record = records.find((r) => r.key === key);
        if (!record) {
          form.add(path, UNKNOWN_KEY, `Metadata key "${key}" is not registered.`);
          continue;
        }
        const text = metadataValue(value, record, form, path);
        if (text !== undefined) metadata[key] = text;
      }
    }
  }
  form.throwIfAny();
  return { platform_name: platformName, platform_username: platformUsername, metadata };
}

function optionalString(value: unknown, max: number, form: FormErrors, path: Path): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    form.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.");
    return null;
  }
  if (value.length > max) {
    form.add(path, "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`);
    return null;
  }
  return value;
}

/** The stored string for a metadata value, or undefined after adding an error. */
function metadataValue(
  value: unknown,
  record: MetadataRecord,
  form: FormErrors,
  path: Path,
): string | undefined {
  let text: string;
  if (typeof value === "string") text = value;
  else if (typeof value === "number" && Number.isFinite(value)) text = String(value);
  else if (typeof value === "boolean" && isBooleanType(record.type)) text = value ? "1" : "0";
  else {
    form.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.");
    return undefined;
  }
  if (text.length > 100) {
    form.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.");
    return undefined;
  }
  if (isIntegerType(record.type) && !/^-?\d+$/.test(text)) {
    form.add(path, "NUMBER_TYPE_COERCE", `Value "${text}" is not int.`);
    return undefined;
  }
  if (isBooleanType(record.type) && text !== "1" && text !== "0") {
    form.add(path, "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    return undefined;
  }
  if (isDatetimeType(record.type) && (!ISO8601.test(text) || Number.isNaN(Date.parse(text)))) {
    form.add(path, "DATE_TYPE_PARSE", `Could not parse ${text}. Should be ISO8601.`);
    return undefined;
  }
  return text;
}
