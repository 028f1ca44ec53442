/**
 * What a handler receives (the interaction, its parsed parts, dependencies and reply helpers), and
 * the framework's other types that refer to it: commands, options and the registry. They refer to
 * one another, so they live in one module (define.ts, options.ts and registry.ts build on them).
 */
import type {
  APIApplicationCommandInteraction,
  APIApplicationCommandOptionChoice,
  APIInteraction,
  APIInteractionGuildMember,
  APIInteractionResponse,
  APIMessageComponentInteraction,
  APIModalInteractionResponseCallbackData,
  APIModalSubmitInteraction,
  APIUser,
} from "discord-api-types/v10";
import type {
  APIApplicationCommandBasicOption,
  ApplicationCommandType,
  InteractionContextType,
  LocalizationMap,
  RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import type { z } from "zod";
import type { AppDeps } from "../deps.ts";
import type { Logger } from "../log/log.ts";
import type { Followup } from "./followup.ts";
import type { MessageInput } from "./reply.ts";
import type { SigningKeys } from "../signing_keys.ts";
import type { Language } from "../i18n/mod.ts";

export interface InteractionContext<I extends APIInteraction = APIInteraction> {
  interaction: I;
  deps: AppDeps;
  registry: Registry;
  log: Logger;
  /** The command that owns this interaction (for components: the one that issued the custom ID). */
  command: Command;
  guildId?: string;
  channelId?: string;
  user: APIUser;
  member?: APIInteractionGuildMember;
  /** The invoking member's permissions in the channel (0n outside guilds). */
  permissions: bigint;
  /** The language replies are written in: the member's Discord locale, else the guild's. */
  language: Language;
  followup: Followup;
  /** Signing keys per purpose (status links, export links). */
  keys: SigningKeys;
  reply(input: MessageInput): APIInteractionResponse;
  ephemeral(input: MessageInput): APIInteractionResponse;
  /**
   * Acknowledges now (Discord's "thinking…"), runs `work` after the response is sent; a throw in
   * `work` edits the original into an error message.
   */
  defer(
    work: (f: Followup) => Promise<void>,
    opts?: { ephemeral?: boolean },
  ): APIInteractionResponse;
  /** A signed custom ID routed to `route` of this command; expires after `ttlMs` (default 15 min). */
  customId(route: string, state?: string, ttlMs?: number): Promise<string>;
}

export interface CommandContext<O = Record<string, unknown>>
  extends InteractionContext<APIApplicationCommandInteraction> {
  /** Subcommand path, e.g. ["schedule", "enable"]; empty for a plain command. */
  path: string[];
  options: O;
  modal(data: APIModalInteractionResponseCallbackData): APIInteractionResponse;
}

export interface ComponentContext extends InteractionContext<APIMessageComponentInteraction> {
  state: string;
  /** Selected values of a select menu; empty for buttons. */
  values: string[];
  update(input: MessageInput): APIInteractionResponse;
  deferUpdate(work: (f: Followup) => Promise<void>): APIInteractionResponse;
  modal(data: APIModalInteractionResponseCallbackData): APIInteractionResponse;
}

export interface ModalContext extends InteractionContext<APIModalSubmitInteraction> {
  state: string;
  /** Text input values by custom_id. */
  fields: Record<string, string>;
  update(input: MessageInput): APIInteractionResponse;
}

export type Choice = APIApplicationCommandOptionChoice<string | number>;

export interface AutocompleteContext {
  deps: AppDeps;
  registry: Registry;
  guildId?: string;
  user: APIUser;
  permissions: bigint;
  /** The language suggestions are labelled in. */
  language: Language;
  /** The other options typed so far (raw values). */
  options: Record<string, unknown>;
}

export type AutocompleteHandler = (
  ctx: AutocompleteContext,
  value: string,
) => Promise<Choice[]> | Choice[];

export type Reply = APIInteractionResponse | Promise<APIInteractionResponse>;
export type ComponentHandler = (ctx: ComponentContext) => Reply;
export type ModalHandler = (ctx: ModalContext) => Reply;

// --- commands, options, registry --------------------------------------------------------

export interface Leaf {
  kind: "leaf";
  description: string;
  descriptionLocalizations?: LocalizationMap;
  options: OptionsRecord;
  // deno-lint-ignore no-explicit-any
  handler: (ctx: CommandContext<any>) => Reply;
  /** Permission bits needed on top of the command's own. */
  permissions: bigint;
}

export interface Group {
  kind: "group";
  description: string;
  descriptionLocalizations?: LocalizationMap;
  subcommands: Record<string, Leaf>;
}

export interface Cooldown {
  uses: number;
  perMs: number;
}

export interface Command {
  /** ChatInput (a slash command) or User (a context-menu command on a member). */
  type: ApplicationCommandType.ChatInput | ApplicationCommandType.User;
  name: string;
  /** For /help; a user command has none in its manifest entry. */
  description: string;
  /** Translations of the description, for /help in the member's language. */
  descriptionLocalizations?: LocalizationMap;
  category: string;
  permissions: bigint;
  contexts: InteractionContextType[];
  cooldown: Cooldown | null;
  restricted: boolean;
  publicComponents: boolean;
  readOnly: boolean;
  root: Leaf | { kind: "branch"; subcommands: Record<string, Leaf | Group> };
  components: Record<string, ComponentHandler>;
  modals: Record<string, ModalHandler>;
  /** The manifest entry Discord receives. */
  json: RESTPostAPIApplicationCommandsJSONBody;
}

export interface OptionSpec<V, R extends boolean> {
  readonly required: R;
  /** The option's Discord JSON, without its name (the key in the options record). */
  readonly json: Omit<APIApplicationCommandBasicOption, "name">;
  readonly schema: z.ZodType<V>;
  readonly autocomplete?: AutocompleteHandler;
}

// deno-lint-ignore no-explicit-any
export type AnyOption = OptionSpec<any, boolean>;
export type OptionsRecord = Record<string, AnyOption>;

/** The handler's view of the options: required ones are present, others may be undefined. */
export type ParsedOptions<O extends OptionsRecord> = {
  [K in keyof O]: O[K] extends OptionSpec<infer V, infer R> ? (R extends true ? V : V | undefined)
    : never;
};

export interface Registry {
  readonly commands: readonly Command[];
  get(name: string): Command | undefined;
  /** Handler for a custom-ID route `command.key`. */
  component(route: string): { command: Command; handler: ComponentHandler } | undefined;
  modal(route: string): { command: Command; handler: ModalHandler } | undefined;
  manifest(): RESTPostAPIApplicationCommandsJSONBody[];
}
