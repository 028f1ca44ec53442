/**
 * Application commands per scope (global, or one guild) with Discord's server-side rules:
 * upsert by name and type on create, id-preserving bulk overwrite, per-type count caps and the
 * daily create quota.
 */
import {
  type APIApplicationCommand,
  ApplicationCommandType,
  RESTJSONErrorCodes,
} from "discord-api-types/v10";
import { type CommandInput, validateCommand } from "./command_validation.ts";
import { DiscordError, FormErrors, unknownCommand } from "./errors.ts";
import type { IdAllocator } from "./ids.ts";

/** "global" or a guild id. */
export type CommandScope = string;
export const GLOBAL_SCOPE: CommandScope = "global";

const MAX_PER_TYPE: Record<number, number> = {
  [ApplicationCommandType.ChatInput]: 100,
  [ApplicationCommandType.User]: 15,
  [ApplicationCommandType.Message]: 15,
};
const DAY_MS = 86_400_000;

export class CommandRegistry {
  #scopes = new Map<CommandScope, Map<string, APIApplicationCommand>>();
  #creates = new Map<CommandScope, { day: number; count: number }>();
  readonly #ids: IdAllocator;
  readonly #applicationId: string;
  readonly #now: () => number;

  constructor(ids: IdAllocator, applicationId: string, now: () => number) {
    this.#ids = ids;
    this.#applicationId = applicationId;
    this.#now = now;
  }

  #scope(scope: CommandScope): Map<string, APIApplicationCommand> {
    let map = this.#scopes.get(scope);
    if (!map) this.#scopes.set(scope, map = new Map());
    return map;
  }

  list(scope: CommandScope): APIApplicationCommand[] {
    return [...this.#scope(scope).values()];
  }

  get(scope: CommandScope, id: string): APIApplicationCommand | undefined {
    return this.#scope(scope).get(id);
  }

  /** Creates made today in the scope (UTC day), toward the daily cap. */
  createsToday(scope: CommandScope): number {
    const entry = this.#creates.get(scope);
    return entry && entry.day === this.#day() ? entry.count : 0;
  }

  resetDailyCreates(): void {
    this.#creates.clear();
  }

  /** POST: a new command, or an overwrite of the one with the same name and type. */
  create(
    scope: CommandScope,
    body: unknown,
    dailyLimit: number,
  ): { command: APIApplicationCommand; created: boolean } {
    const form = new FormErrors();
    const input = validateCommand(body, form, []);
    form.throwIfAny();
    const map = this.#scope(scope);
    const existing = findByName(map.values(), input!.name, input!.type);
    if (existing) {
      return { command: this.#apply(scope, existing, input!), created: false };
    }
    this.#checkTypeCap(map.values(), [input!]);
    this.#spendCreates(scope, 1, dailyLimit);
    const command = this.#build(scope, this.#ids.next(), input!);
    map.set(command.id, command);
    return { command, created: true };
  }

  /** PATCH: partial edit, validated as a whole after merging. */
  edit(scope: CommandScope, id: string, body: unknown): APIApplicationCommand {
    const map = this.#scope(scope);
    const current = map.get(id);
    if (!current) throw unknownCommand();
    const merged = { ...inputOf(current), ...(isObject(body) ? body : {}), type: current.type };
    const form = new FormErrors();
    const input = validateCommand(merged, form, []);
    form.throwIfAny();
    const clash = findByName(map.values(), input!.name, input!.type);
    if (clash && clash.id !== id) {
      throw duplicateName(["name"]);
    }
    return this.#apply(scope, current, input!);
  }

  delete(scope: CommandScope, id: string): void {
    if (!this.#scope(scope).delete(id)) throw unknownCommand();
  }

  /**
   * PUT: the body becomes the whole list. Commands matched by name and type keep their id;
   * the rest are created (spending the daily quota) and anything unlisted is deleted. Nothing
   * changes unless the whole body is valid.
   */
  bulkOverwrite(scope: CommandScope, body: unknown, dailyLimit: number): APIApplicationCommand[] {
    const form = new FormErrors();
    if (!Array.isArray(body)) {
      form.add([], "BASE_TYPE_ARRAY", "Must be an array.");
      form.throwIfAny();
    }
    const inputs = (body as unknown[]).map((c, i) => validateCommand(c, form, [i]));
    const seen = new Map<string, number>();
    inputs.forEach((input, i) => {
      if (!input) return;
      const key = `${input.type}:${input.name}`;
      if (seen.has(key)) {
        form.add(
          [i, "name"],
          "APPLICATION_COMMANDS_DUPLICATE_NAME",
          "Application command names must be unique",
        );
      }
      seen.set(key, i);
    });
    form.throwIfAny();
    const valid = inputs as CommandInput[];
    this.#checkTypeCap([], valid);
    const map = this.#scope(scope);
    const matches = valid.map((input) => findByName(map.values(), input.name, input.type));
    const creates = matches.filter((m) => !m).length;
    this.#spendCreates(scope, creates, dailyLimit);
    const next = new Map<string, APIApplicationCommand>();
    valid.forEach((input, i) => {
      const match = matches[i];
      const command = match
        ? this.#apply(scope, match, input)
        : this.#build(scope, this.#ids.next(), input);
      next.set(command.id, command);
    });
    this.#scopes.set(scope, next);
    return [...next.values()];
  }

  #apply(
    scope: CommandScope,
    current: APIApplicationCommand,
    input: CommandInput,
  ): APIApplicationCommand {
    const rebuilt = this.#build(scope, current.id, input, current.version);
    // The version only moves when something the caller controls changed.
    if (
      JSON.stringify({ ...rebuilt, version: "" }) !== JSON.stringify({ ...current, version: "" })
    ) {
      rebuilt.version = this.#ids.next();
    }
    this.#scope(scope).set(current.id, rebuilt);
    return rebuilt;
  }

  /** The command object as Discord returns it, with its server-filled fields. */
  #build(
    scope: CommandScope,
    id: string,
    input: CommandInput,
    version?: string,
  ): APIApplicationCommand {
    const global = scope === GLOBAL_SCOPE;
    const command: APIApplicationCommand = {
      id,
      application_id: this.#applicationId,
      version: version ?? id,
      default_member_permissions: input.default_member_permissions,
      type: input.type,
      name: input.name,
      ...(input.name_localizations ? { name_localizations: input.name_localizations } : {}),
      description: input.description,
      ...(input.description_localizations
        ? { description_localizations: input.description_localizations }
        : {}),
      ...(global ? {} : { guild_id: scope }),
      ...(input.options ? { options: input.options } : {}),
      ...(global ? { dm_permission: input.dm_permission ?? true } : {}),
      contexts: (input.contexts ?? null) as APIApplicationCommand["contexts"],
      integration_types:
        (input.integration_types ?? [0]) as APIApplicationCommand["integration_types"],
      nsfw: input.nsfw,
    };
    return command;
  }

  #checkTypeCap(existing: Iterable<APIApplicationCommand>, incoming: CommandInput[]): void {
    const counts = new Map<number, number>();
    const names = new Set<string>();
    for (const c of incoming) {
      names.add(`${c.type}:${c.name}`);
      counts.set(c.type, (counts.get(c.type) ?? 0) + 1);
    }
    for (const c of existing) {
      if (!names.has(`${c.type}:${c.name}`)) counts.set(c.type, (counts.get(c.type) ?? 0) + 1);
    }
    for (const [type, n] of counts) {
      const max = MAX_PER_TYPE[type];
      if (n > max) {
        throw new DiscordError(
          400,
          RESTJSONErrorCodes.MaximumNumberOfApplicationCommandsReached,
          `Maximum number of application commands reached (${max})`,
        );
      }
    }
  }

  #spendCreates(scope: CommandScope, n: number, limit: number): void {
    if (n === 0) return;
    const day = this.#day();
    let entry = this.#creates.get(scope);
    if (!entry || entry.day !== day) this.#creates.set(scope, entry = { day, count: 0 });
    if (entry.count + n > limit) {
      const retryAfter = ((day + 1) * DAY_MS - this.#now()) / 1000;
      throw new DiscordError(
        429,
        RESTJSONErrorCodes.MaximumDailyApplicationCommandCreatesReached,
        `Max number of daily application command creates has been reached (${limit})`,
        undefined,
        { retry_after: Math.round(retryAfter * 1000) / 1000, global: false },
      );
    }
    entry.count += n;
  }

  #day(): number {
    return Math.floor(this.#now() / DAY_MS);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function findByName(
  commands: Iterable<APIApplicationCommand>,
  name: string,
  type: ApplicationCommandType,
): APIApplicationCommand | undefined {
  for (const c of commands) if (c.name === name && c.type === type) return c;
  return undefined;
}

function inputOf(c: APIApplicationCommand): Record<string, unknown> {
  const { id: _id, application_id: _a, version: _v, guild_id: _g, ...rest } = c;
  return rest;
}

function duplicateName(path: (string | number)[]): DiscordError {
  const form = new FormErrors();
  form.add(path, "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique");
  return form.toError();
}

/** Drops the localization maps unless asked for, as GET without with_localizations does. */
export function withoutLocalizations(c: APIApplicationCommand): APIApplicationCommand {
  if (!c.name_localizations && !c.description_localizations) return c;
  const { name_localizations: _n, description_localizations: _d, ...rest } = c;
  return rest;
}
