/**
 * Application command payload checks, with the limits and error codes Discord documents:
 * name pattern and case, description length, option counts and nesting, choice counts, and the
 * 8000-character total.
 */
import {
  type APIApplicationCommandOption,
  ApplicationCommandOptionType as O,
  ApplicationCommandType,
} from "discord-api-types/v10";
import { FormErrors } from "./errors.ts";

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;
const MAX_TOTAL_CHARS = 8000;

type Path = (string | number)[];
type Json = Record<string, unknown>;

/** The caller-settable fields of a command, checked and with defaults applied. */
export interface CommandInput {
  type: ApplicationCommandType;
  name: string;
  description: string;
  name_localizations?: Record<string, string> | null;
  description_localizations?: Record<string, string> | null;
  options?: APIApplicationCommandOption[];
  default_member_permissions: string | null;
  dm_permission?: boolean;
  contexts?: number[] | null;
  integration_types?: number[];
  nsfw: boolean;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates one command body; adds errors under `path` and returns null when invalid. */
export function validateCommand(body: unknown, form: FormErrors, path: Path): CommandInput | null {
  if (!isObject(body)) {
    form.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    return null;
  }
  const before = form.count;
  const type = body.type ?? ApplicationCommandType.ChatInput;
  const validTypes = [
    ApplicationCommandType.ChatInput,
    ApplicationCommandType.User,
    ApplicationCommandType.Message,
  ];
  if (!validTypes.includes(type as ApplicationCommandType)) {
    form.add([...path, "type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.");
  }
  const chatInput = type === ApplicationCommandType.ChatInput;
  checkName(body.name, chatInput, form, [...path, "name"]);
  let description = body.description;
  if (chatInput) {
    checkDescription(description, form, [...path, "description"]);
  } else {
    description ??= "";
    if (description !== "") {
      form.add([...path, "description"], "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.");
    }
  }
  checkLocalizations(body.name_localizations, form, [...path, "name_localizations"]);
  checkLocalizations(body.description_localizations, form, [...path, "description_localizations"]);

  let options: APIApplicationCommandOption[] | undefined;
  if (body.options !== undefined && body.options !== null) {
    if (!chatInput) {
      if (!Array.isArray(body.options) || body.options.length > 0) {
        form.add([...path, "options"], "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.");
      }
    } else {
      options = checkOptions(body.options, form, [...path, "options"], 0);
    }
  }

  const perms = body.default_member_permissions;
  if (
    perms !== undefined && perms !== null && !(typeof perms === "string" && /^\d+$/.test(perms))
  ) {
    form.add(
      [...path, "default_member_permissions"],
      "NUMBER_TYPE_COERCE",
      `Value "${String(perms)}" is not int.`,
    );
  }
  for (const flag of ["dm_permission", "nsfw"] as const) {
    if (body[flag] !== undefined && body[flag] !== null && typeof body[flag] !== "boolean") {
      form.add([...path, flag], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    }
  }
  checkEnumList(body.contexts, [0, 1, 2], form, [...path, "contexts"]);
  checkEnumList(body.integration_types, [0, 1], form, [...path, "integration_types"]);

  if (form.count === before) {
    const size = totalChars(String(body.name ?? ""), String(description ?? ""), options);
    if (size > MAX_TOTAL_CHARS) {
      form.add(
        path,
        "APPLICATION_COMMAND_TOO_LARGE",
        `Command exceeds maximum size (${MAX_TOTAL_CHARS})`,
      );
    }
  }
  if (form.count !== before) return null;

  const input: CommandInput = {
    type: type as ApplicationCommandType,
    name: body.name as string,
    description: description as string,
    default_member_permissions: (perms as string | null | undefined) ?? null,
    nsfw: (body.nsfw as boolean | undefined) ?? false,
  };
  if (body.name_localizations) {
    input.name_localizations = body.name_localizations as Record<string, string>;
  }
  if (body.description_localizations) {
    input.description_localizations = body.description_localizations as Record<string, string>;
  }
  if (options && options.length > 0) input.options = options;
  if (typeof body.dm_permission === "boolean") input.dm_permission = body.dm_permission;
  if (Array.isArray(body.contexts)) input.contexts = body.contexts as number[];
  if (Array.isArray(body.integration_types)) {
    input.integration_types = body.integration_types as number[];
  }
  return input;
}

function checkName(name: unknown, lowercase: boolean, form: FormErrors, path: Path): void {
  if (name === undefined || name === null) {
    form.add(path, "BASE_TYPE_REQUIRED", "This field is required");
  } else if (typeof name !== "string") {
    form.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.");
  } else if (lowercase) {
    if (!NAME.test(name) || name !== name.toLowerCase()) {
      form.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
    }
  } else if (name.length < 1 || name.length > 32) {
    form.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.");
  }
}

function checkDescription(description: unknown, form: FormErrors, path: Path): void {
  if (description === undefined || description === null) {
    form.add(path, "BASE_TYPE_REQUIRED", "This field is required");
  } else if (typeof description !== "string") {
    form.add(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.");
  } else if (description.length < 1 || description.length > 100) {
    form.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
  }
}

function checkLocalizations(value: unknown, form: FormErrors, path: Path): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) {
    form.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
  }
}

function checkEnumList(value: unknown, allowed: number[], form: FormErrors, path: Path): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    form.add(path, "BASE_TYPE_ARRAY", "Must be an array.");
    return;
  }
  value.forEach((v, i) => {
    if (!allowed.includes(v as number)) {
      form.add([...path, i], "ENUM_TYPE_COERCE", `Value "${String(v)}" is not a valid enum value.`);
    }
  });
}

const OPTION_TYPES = [
  O.Subcommand,
  O.SubcommandGroup,
  O.String,
  O.Integer,
  O.Boolean,
  O.User,
  O.Channel,
  O.Role,
  O.Mentionable,
  O.Number,
  O.Attachment,
];

/** depth 0: a command's options; 1: inside a group or subcommand; 2: inside a grouped subcommand. */
function checkOptions(
  value: unknown,
  form: FormErrors,
  path: Path,
  depth: number,
  parent?: O,
): APIApplicationCommandOption[] | undefined {
  if (!Array.isArray(value)) {
    form.add(path, "BASE_TYPE_ARRAY", "Must be an array.");
    return undefined;
  }
  if (value.length > MAX_OPTIONS) {
    form.add(path, "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_OPTIONS} or fewer in length.`);
    return undefined;
  }
  const out: APIApplicationCommandOption[] = [];
  const names = new Set<string>();
  let sawOptional = false;
  let sawSub = false;
  let sawPlain = false;
  value.forEach((raw, i) => {
    const p = [...path, i];
    if (!isObject(raw)) {
      form.add(p, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
      return;
    }
    const type = raw.type as O;
    if (!OPTION_TYPES.includes(type)) {
      form.add(
        [...p, "type"],
        "BASE_TYPE_CHOICES",
        "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.",
      );
      return;
    }
    const isSub = type === O.Subcommand || type === O.SubcommandGroup;
    const subAllowed = parent === undefined ||
      (parent === O.SubcommandGroup && type === O.Subcommand);
    if ((isSub && (!subAllowed || depth >= 2)) || (parent === O.SubcommandGroup && !isSub)) {
      form.add(
        [...p, "type"],
        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
        "Sub-command and sub-command group option types are mutually exclusive to all other types",
      );
      return;
    }
    if (isSub) sawSub = true;
    else sawPlain = true;
    checkName(raw.name, true, form, [...p, "name"]);
    checkDescription(raw.description, form, [...p, "description"]);
    if (typeof raw.name === "string") {
      if (names.has(raw.name)) {
        form.add(
          [...p, "name"],
          "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
          "Option names must be unique",
        );
      }
      names.add(raw.name);
    }
    if (!isSub) {
      if (raw.required === true && sawOptional) {
        form.add(
          p,
          "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
          "Required options must be placed before non-required options",
        );
      }
      if (raw.required !== true) sawOptional = true;
    }
    const option = { ...raw } as Json;
    // Discord leaves `required: false` out of what it stores and returns.
    if (option.required === false) delete option.required;
    if (raw.choices !== undefined) {
      if (!Array.isArray(raw.choices)) {
        form.add([...p, "choices"], "BASE_TYPE_ARRAY", "Must be an array.");
      } else if (raw.choices.length > MAX_CHOICES) {
        form.add(
          [...p, "choices"],
          "BASE_TYPE_MAX_LENGTH",
          `Must be ${MAX_CHOICES} or fewer in length.`,
        );
      } else {
        raw.choices.forEach((c: unknown, ci: number) => {
          const cp = [...p, "choices", ci];
          if (!isObject(c)) {
            return form.add(cp, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
          }
          if (typeof c.name !== "string" || c.name.length < 1 || c.name.length > 100) {
            form.add(
              [...cp, "name"],
              "BASE_TYPE_BAD_LENGTH",
              "Must be between 1 and 100 in length.",
            );
          }
          const wantsString = type === O.String;
          if (wantsString ? typeof c.value !== "string" : typeof c.value !== "number") {
            form.add([...cp, "value"], "BASE_TYPE_REQUIRED", "This field is required");
          } else if (
            wantsString && ((c.value as string).length < 1 || (c.value as string).length > 100)
          ) {
            form.add(
              [...cp, "value"],
              "BASE_TYPE_BAD_LENGTH",
              "Must be between 1 and 100 in length.",
            );
          }
        });
      }
    }
    if (isSub && raw.options !== undefined) {
      const nested = checkOptions(raw.options, form, [...p, "options"], depth + 1, type);
      if (nested) option.options = nested;
    }
    out.push(option as unknown as APIApplicationCommandOption);
  });
  if (sawSub && sawPlain) {
    form.add(
      path,
      "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
      "Sub-command and sub-command group option types are mutually exclusive to all other types",
    );
  }
  return out;
}

function totalChars(
  name: string,
  description: string,
  options?: APIApplicationCommandOption[],
): number {
  let total = name.length + description.length;
  const walk = (opts: readonly Json[] | undefined) => {
    for (const o of opts ?? []) {
      total += String(o.name ?? "").length + String(o.description ?? "").length;
      for (const c of (o.choices as Json[] | undefined) ?? []) {
        total += String(c.name ?? "").length + String(c.value ?? "").length;
      }
      walk(o.options as Json[] | undefined);
    }
  };
  walk(options as unknown as Json[]);
  return total;
}
