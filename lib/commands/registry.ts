/** Collects the command definitions; the manifest is derived from it and nowhere else. */
import type { RESTPostAPIChatInputApplicationCommandsJSONBody } from "discord-api-types/v10";
import type { Command } from "./define.ts";
import type { ComponentHandler, ModalHandler } from "../interactions/context.ts";
import { validateManifest } from "./validate.ts";

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid command manifest:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ManifestError";
  }
}

export interface Registry {
  readonly commands: readonly Command[];
  get(name: string): Command | undefined;
  /** Handler for a custom-ID route `command.key`. */
  component(route: string): { command: Command; handler: ComponentHandler } | undefined;
  modal(route: string): { command: Command; handler: ModalHandler } | undefined;
  manifest(): RESTPostAPIChatInputApplicationCommandsJSONBody[];
}

/** Builds the registry; throws ManifestError naming every problem. */
export function createRegistry(commands: Command[]): Registry {
  const problems = validateManifest(commands.map((c) => c.json));
  if (problems.length) throw new ManifestError(problems);
  const byName = new Map(commands.map((c) => [c.name, c]));
  const lookup = <H>(pick: (c: Command) => Record<string, H>) => (route: string) => {
    const dot = route.indexOf(".");
    const command = byName.get(route.slice(0, dot));
    const handler = command && pick(command)[route.slice(dot + 1)];
    return command && handler ? { command, handler } : undefined;
  };
  return {
    commands,
    get: (name) => byName.get(name),
    component: lookup((c) => c.components),
    modal: lookup((c) => c.modals),
    manifest: () => commands.map((c) => c.json),
  };
}
