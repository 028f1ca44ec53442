/** Collects the command definitions; the manifest is derived from it and nowhere else. */
import type { RESTPostAPIApplicationCommandsJSONBody } from "discord-api-types/v10";
import type { Command, Registry } from "./context.ts";

export type { Registry };

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid command manifest:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ManifestError";
  }
}

/**
 * Builds the registry; throws ManifestError naming every problem `validate` finds (the app passes
 * lib/manifest/validate.ts's check against Discord's limits).
 */
export function createRegistry(
  commands: Command[],
  validate: (manifest: RESTPostAPIApplicationCommandsJSONBody[]) => string[],
): Registry {
  const problems = validate(commands.map((c) => c.json));
  if (problems.length) throw new ManifestError(problems);
  const byName = new Map(commands.map((c) => [c.name, c]));
  // Routes come from signed custom IDs, i.e. from requests: they select handlers through Maps
  // built from the definitions' own entries, never through property access on an object (where
  // `help.constructor` would find Object).
  const routes = <H>(pick: (c: Command) => Record<string, H>) =>
    new Map<string, { command: Command; handler: H }>(
      commands.flatMap((command) =>
        Object.entries(pick(command)).map((
          [key, handler],
        ) => [`${command.name}.${key}`, { command, handler }])
      ),
    );
  const components = routes((c) => c.components);
  const modals = routes((c) => c.modals);
  return {
    commands,
    get: (name) => byName.get(name),
    component: (route) => components.get(route),
    modal: (route) => modals.get(route),
    manifest: () => commands.map((c) => c.json),
  };
}
