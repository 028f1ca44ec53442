/**
 * Discord's documented limits for application commands, checked before anything is sent: at load
 * time for every definition, and again by the manifest sync.
 */
import {
  type APIApplicationCommandOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  type RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";

const NAME_PATTERN = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
export const LIMITS = {
  description: 100,
  options: 25,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
  commandChars: 8_000,
  chatInputPerScope: 100,
  userPerScope: 15,
  messagePerScope: 15,
} as const;

function checkName(name: string, where: string, problems: string[]): void {
  if (!NAME_PATTERN.test(name)) {
    problems.push(`${where}: name "${name}" is not 1-32 valid characters`);
  } else if (name !== name.toLowerCase()) {
    problems.push(`${where}: name "${name}" must be lowercase`);
  }
}

function checkDescription(description: string | undefined, where: string, problems: string[]) {
  const len = [...(description ?? "")].length;
  if (len < 1 || len > LIMITS.description) {
    problems.push(`${where}: description must be 1-${LIMITS.description} characters (has ${len})`);
  }
}

/** Characters counted toward the 8,000 limit: names, descriptions, choice names and values. */
function countChars(options: APIApplicationCommandOption[] = []): number {
  let n = 0;
  for (const o of options) {
    n += o.name.length + (o.description?.length ?? 0);
    if ("choices" in o && o.choices) {
      for (const c of o.choices) n += c.name.length + String(c.value).length;
    }
    if ("options" in o && o.options) n += countChars(o.options as APIApplicationCommandOption[]);
  }
  return n;
}

function checkOptions(
  options: APIApplicationCommandOption[],
  where: string,
  depth: number,
  problems: string[],
): void {
  if (options.length > LIMITS.options) {
    problems.push(`${where}: ${options.length} options (at most ${LIMITS.options})`);
  }
  const seen = new Set<string>();
  let optionalSeen = false;
  const isSub = (o: APIApplicationCommandOption) =>
    o.type === ApplicationCommandOptionType.Subcommand ||
    o.type === ApplicationCommandOptionType.SubcommandGroup;
  if (options.some(isSub) && !options.every(isSub)) {
    problems.push(`${where}: subcommands cannot be mixed with other options`);
  }
  for (const o of options) {
    const at = `${where} > ${o.name}`;
    checkName(o.name, at, problems);
    checkDescription(o.description, at, problems);
    if (seen.has(o.name)) problems.push(`${at}: duplicate option name`);
    seen.add(o.name);
    if (o.type === ApplicationCommandOptionType.SubcommandGroup) {
      if (depth > 0) problems.push(`${at}: groups can only be at the top level`);
      checkOptions((o.options ?? []) as APIApplicationCommandOption[], at, depth + 1, problems);
      continue;
    }
    if (o.type === ApplicationCommandOptionType.Subcommand) {
      if (depth > 1) problems.push(`${at}: subcommands nest at most two levels`);
      checkOptions((o.options ?? []) as APIApplicationCommandOption[], at, 2, problems);
      continue;
    }
    const required = "required" in o && o.required === true;
    if (required && optionalSeen) problems.push(`${at}: required options must come first`);
    if (!required) optionalSeen = true;
    if ("choices" in o && o.choices) {
      if (o.choices.length > LIMITS.choices) {
        problems.push(`${at}: ${o.choices.length} choices (at most ${LIMITS.choices})`);
      }
      if ("autocomplete" in o && o.autocomplete) {
        problems.push(`${at}: choices and autocomplete are exclusive`);
      }
      for (const c of o.choices) {
        if (c.name.length < 1 || c.name.length > LIMITS.choiceName) {
          problems.push(`${at}: choice name "${c.name}" must be 1-${LIMITS.choiceName} characters`);
        }
        if (typeof c.value === "string" && c.value.length > LIMITS.choiceValue) {
          problems.push(`${at}: choice value longer than ${LIMITS.choiceValue} characters`);
        }
      }
    }
  }
}

export function validateCommand(cmd: RESTPostAPIApplicationCommandsJSONBody): string[] {
  const problems: string[] = [];
  const where = `/${cmd.name}`;
  const type = cmd.type ?? ApplicationCommandType.ChatInput;
  if (type === ApplicationCommandType.ChatInput) {
    checkName(cmd.name, where, problems);
    const description = "description" in cmd ? cmd.description : undefined;
    checkDescription(description, where, problems);
    const options = ("options" in cmd ? cmd.options : undefined) ?? [];
    checkOptions(options, where, 0, problems);
    const chars = cmd.name.length + (description?.length ?? 0) + countChars(options);
    if (chars > LIMITS.commandChars) {
      problems.push(
        `${where}: ${chars} characters in names, descriptions and values (at most 8000)`,
      );
    }
  } else if (cmd.name.length < 1 || cmd.name.length > 32) {
    problems.push(`${where}: name must be 1-32 characters`);
  }
  return problems;
}

/** Problems with a whole scope's manifest (empty when valid). */
export function validateManifest(commands: RESTPostAPIApplicationCommandsJSONBody[]): string[] {
  const problems = commands.flatMap(validateCommand);
  const counts = new Map<number, number>();
  const names = new Set<string>();
  for (const c of commands) {
    const type = c.type ?? ApplicationCommandType.ChatInput;
    counts.set(type, (counts.get(type) ?? 0) + 1);
    const key = `${type}:${c.name}`;
    if (names.has(key)) problems.push(`/${c.name}: defined twice`);
    names.add(key);
  }
  const over = (type: number, max: number, label: string) => {
    const n = counts.get(type) ?? 0;
    if (n > max) problems.push(`${n} ${label} commands in one scope (at most ${max})`);
  };
  over(ApplicationCommandType.ChatInput, LIMITS.chatInputPerScope, "chat-input");
  over(ApplicationCommandType.User, LIMITS.userPerScope, "user");
  over(ApplicationCommandType.Message, LIMITS.messagePerScope, "message");
  return problems;
}
