/**
 * A command is defined once: name, description, typed options, permissions, contexts, handler,
 * and the components and modals it issues. Its Discord manifest entry is derived from that.
 */
import {
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type LocalizationMap,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import type { z } from "zod";
import { type Language, t } from "../i18n/mod.ts";
import type {
  Command,
  CommandContext,
  ComponentHandler,
  Cooldown,
  Group,
  Leaf,
  ModalHandler,
  OptionsRecord,
  ParsedOptions,
  Reply,
} from "./context.ts";

export type { Command, Cooldown };

export type PermissionName = keyof typeof PermissionFlagsBits;

export interface LeafDef<O extends OptionsRecord> {
  description: string;
  descriptionLocalizations?: LocalizationMap;
  options?: O;
  permissions?: PermissionName[];
  handler: (ctx: CommandContext<ParsedOptions<O>>) => Reply;
}

// deno-lint-ignore ban-types
export function sub<O extends OptionsRecord = {}>(def: LeafDef<O>): Leaf {
  return {
    kind: "leaf",
    description: def.description,
    ...(def.descriptionLocalizations
      ? { descriptionLocalizations: def.descriptionLocalizations }
      : {}),
    options: def.options ?? {},
    handler: def.handler,
    permissions: permissionBits(def.permissions),
  };
}

/** A description, or one with its translations (`described(key)` of lib/i18n). */
export type Description = string | {
  description: string;
  descriptionLocalizations?: LocalizationMap;
};

export function group(text: Description, subcommands: Record<string, Leaf>): Group {
  const d = typeof text === "string" ? { description: text } : text;
  return { kind: "group", ...d, subcommands };
}

export type ContextName = "guild" | "bot_dm" | "private_channel";
const CONTEXTS: Record<ContextName, InteractionContextType> = {
  guild: InteractionContextType.Guild,
  bot_dm: InteractionContextType.BotDM,
  private_channel: InteractionContextType.PrivateChannel,
};

const DEFAULT_COOLDOWN: Cooldown = { uses: 3, perMs: 5_000 };

interface CommonDef {
  name: string;
  description: string;
  /** Manifest translations of the name and description (lib/i18n). */
  nameLocalizations?: LocalizationMap;
  descriptionLocalizations?: LocalizationMap;
  /** Shown by /help. */
  category: string;
  /** Required permissions: checked server-side and sent as default_member_permissions. */
  permissions?: PermissionName[];
  contexts?: ContextName[];
  cooldown?: Cooldown | false;
  /** Subject to the per-guild role allow-list of /config. Default: when it needs permissions. */
  restricted?: boolean;
  components?: Record<string, ComponentHandler>;
  modals?: Record<string, ModalHandler>;
  /** Anyone may use its components; otherwise the command's permissions are checked again. */
  publicComponents?: boolean;
  /**
   * Its handler and components only read and reply. A duplicate delivery is then simply answered
   * again, so no idempotency record is written or kept (two KV writes fewer per use).
   */
  readOnly?: boolean;
}

/** A plain command has options and a handler; a command with subcommands has neither. */
export interface CommandDef<O extends OptionsRecord> extends CommonDef {
  options?: O;
  handler?: (ctx: CommandContext<ParsedOptions<O>>) => Reply;
  subcommands?: Record<string, Leaf | Group>;
}

function permissionBits(names: PermissionName[] = []): bigint {
  return names.reduce((bits, n) => bits | PermissionFlagsBits[n], 0n);
}

export function permissionNames(bits: bigint): PermissionName[] {
  return (Object.keys(PermissionFlagsBits) as PermissionName[]).filter((n) =>
    (bits & PermissionFlagsBits[n]) === PermissionFlagsBits[n] && PermissionFlagsBits[n] !== 0n
  );
}

function optionsJson(options: OptionsRecord): APIApplicationCommandOption[] {
  return Object.entries(options).map(([name, o]) =>
    ({ name, ...o.json }) as APIApplicationCommandOption
  );
}

/** The `description_localizations` part of a manifest entry, when there are any. */
function localizationsJson(map?: LocalizationMap) {
  return map ? { description_localizations: map } : {};
}

function leafJson(name: string, leaf: Leaf): APIApplicationCommandOption {
  return {
    type: ApplicationCommandOptionType.Subcommand,
    name,
    description: leaf.description,
    ...localizationsJson(leaf.descriptionLocalizations),
    options: optionsJson(leaf.options),
  } as APIApplicationCommandOption;
}

/** What every kind of command shares: its gates, contexts, and the manifest fields by its name. */
function common(def: UserCommandDef | CommonDef) {
  const permissions = permissionBits(def.permissions);
  const contexts = (def.contexts ?? ["guild"]).map((c) => CONTEXTS[c]);
  return {
    fields: {
      name: def.name,
      description: def.description,
      descriptionLocalizations: def.descriptionLocalizations,
      category: def.category,
      permissions,
      contexts,
      cooldown: def.cooldown === false ? null : def.cooldown ?? DEFAULT_COOLDOWN,
      readOnly: def.readOnly ?? false,
    },
    json: {
      name: def.name,
      ...(def.nameLocalizations ? { name_localizations: def.nameLocalizations } : {}),
      default_member_permissions: permissions === 0n ? null : permissions.toString(),
      contexts,
      integration_types: [ApplicationIntegrationType.GuildInstall],
      nsfw: false,
    },
  };
}

// deno-lint-ignore ban-types
export function defineCommand<O extends OptionsRecord = {}>(def: CommandDef<O>): Command {
  if (!def.handler === !def.subcommands) {
    throw new Error(`/${def.name}: define either a handler or subcommands`);
  }
  const permissions = permissionBits(def.permissions);
  const root: Command["root"] = def.subcommands
    ? { kind: "branch", subcommands: def.subcommands }
    : {
      kind: "leaf",
      description: def.description,
      options: def.options ?? {},
      handler: def.handler!,
      permissions: 0n,
    };
  const options: APIApplicationCommandOption[] = root.kind === "leaf"
    ? optionsJson(root.options)
    : Object.entries(root.subcommands).map(([name, node]) =>
      node.kind === "leaf" ? leafJson(name, node) : ({
        type: ApplicationCommandOptionType.SubcommandGroup,
        name,
        description: node.description,
        ...localizationsJson(node.descriptionLocalizations),
        options: Object.entries(node.subcommands).map(([n, l]) => leafJson(n, l)),
      } as APIApplicationCommandOption)
    );
  const { fields, json } = common(def);
  return {
    ...fields,
    type: ApplicationCommandType.ChatInput,
    restricted: def.restricted ?? permissions !== 0n,
    publicComponents: def.publicComponents ?? false,
    root,
    components: def.components ?? {},
    modals: def.modals ?? {},
    json: {
      ...json,
      type: ApplicationCommandType.ChatInput,
      description: def.description,
      ...localizationsJson(def.descriptionLocalizations),
      options,
    },
  };
}

/**
 * A record's own value for a key that came from a request: `constructor` or `toString` must not
 * find what every object inherits.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export interface UserCommandDef {
  /** Shown in the Apps menu: mixed case and spaces allowed. */
  name: string;
  nameLocalizations?: LocalizationMap;
  /** For /help only. */
  description: string;
  descriptionLocalizations?: LocalizationMap;
  category: string;
  permissions?: PermissionName[];
  contexts?: ContextName[];
  cooldown?: Cooldown | false;
  readOnly?: boolean;
  handler: (ctx: CommandContext) => Reply;
}

/** A context-menu command on a member (right-click, Apps): no options, a target user. */
export function defineUserCommand(def: UserCommandDef): Command {
  const { fields, json } = common(def);
  return {
    ...fields,
    type: ApplicationCommandType.User,
    restricted: fields.permissions !== 0n,
    publicComponents: false,
    root: {
      kind: "leaf",
      description: def.description,
      options: {},
      handler: def.handler,
      permissions: 0n,
    },
    components: {},
    modals: {},
    json: { ...json, type: ApplicationCommandType.User },
  };
}

export interface Invocation {
  leaf: Leaf;
  path: string[];
  raw: APIApplicationCommandInteractionDataOption[];
}

/** Walks the subcommand tree of an invocation down to the leaf that handles it. */
export function resolveInvocation(
  command: Command,
  options: APIApplicationCommandInteractionDataOption[] = [],
): Invocation | null {
  if (command.root.kind === "leaf") return { leaf: command.root, path: [], raw: options };
  const first = options[0];
  if (!first) return null;
  const node = own(command.root.subcommands, first.name);
  if (!node) return null;
  if (node.kind === "leaf") {
    if (first.type !== ApplicationCommandOptionType.Subcommand) return null;
    return { leaf: node, path: [first.name], raw: first.options ?? [] };
  }
  if (first.type !== ApplicationCommandOptionType.SubcommandGroup) return null;
  const second = first.options?.[0];
  const leaf = second ? own(node.subcommands, second.name) : undefined;
  if (!second || !leaf) return null;
  return { leaf, path: [first.name, second.name], raw: second.options ?? [] };
}

/** What is wrong with an option value, in terms the catalogue has a sentence for. */
export type OptionProblem =
  | { kind: "required" | "invalid" | "choice" | "type" | "integer" | "format" }
  | { kind: "min" | "min_length"; min: number | bigint }
  | { kind: "max" | "max_length"; max: number | bigint };

export class OptionError extends Error {
  constructor(
    readonly option: string,
    detail: string,
    readonly problem: OptionProblem = { kind: "invalid" },
  ) {
    super(`Option \`${option}\` ${detail}`);
    this.name = "OptionError";
  }

  /** The message for the member, in their language. */
  text(language: Language): string {
    const p = this.problem;
    const params: Record<string, string | number> = { option: this.option };
    if ("min" in p) params.min = String(p.min);
    if ("max" in p) params.max = String(p.max);
    return t(language, `option.${p.kind}` as const, params);
  }
}

const CHOICE_MESSAGE = "is not one of the choices";

/** The catalogue's view of the first problem zod found. */
function problemOf(issue: z.core.$ZodIssue | undefined): OptionProblem {
  if (!issue) return { kind: "invalid" };
  switch (issue.code) {
    case "too_small":
      return issue.origin === "string"
        ? { kind: "min_length", min: issue.minimum }
        : { kind: "min", min: issue.minimum };
    case "too_big":
      return issue.origin === "string"
        ? { kind: "max_length", max: issue.maximum }
        : { kind: "max", max: issue.maximum };
    case "invalid_type":
      return { kind: issue.expected === "int" ? "integer" : "type" };
    case "invalid_format":
      return { kind: "format" };
    case "custom":
      return { kind: issue.message === CHOICE_MESSAGE ? "choice" : "invalid" };
    default:
      return { kind: "invalid" };
  }
}

/** Validates raw option values against the leaf's schemas; throws OptionError. */
export function parseOptions(
  leaf: Leaf,
  raw: APIApplicationCommandInteractionDataOption[],
): Record<string, unknown> {
  const byName = new Map(raw.map((o) => [o.name, "value" in o ? o.value : undefined]));
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(leaf.options)) {
    const value = byName.get(name);
    if (value === undefined) {
      if (spec.required) throw new OptionError(name, "is required", { kind: "required" });
      out[name] = undefined;
      continue;
    }
    const parsed = spec.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new OptionError(name, issue?.message ?? "is invalid", problemOf(issue));
    }
    out[name] = parsed.data;
  }
  return out;
}
