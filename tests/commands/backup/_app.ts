/**
 * What the tests of /backup through its dispatch share (mod_test.ts, schedule_test.ts): the app
 * with only /backup, signed interactions from an administrator, and the reply read back.
 */
import { ApplicationCommandOptionType, PermissionFlagsBits } from "discord-api-types/v10";
import {
  commandInteraction,
  componentInteraction,
  type InteractionAnswer,
  rawOptions,
  subcommand,
  type TestApp,
  withTestApp,
} from "../../_harness.ts";
import { backup } from "../../../lib/commands/backup/mod.ts";

export const ADMIN = { permissions: PermissionFlagsBits.Administrator };

/** The app's answer to an interaction; /backup always answers with data. */
export type Answer = InteractionAnswer & { data: NonNullable<InteractionAnswer["data"]> };

/** Runs `fn` against an app with only /backup (and `env`), closed however `fn` ends. */
export const withApp = (
  fn: (t: TestApp) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> => withTestApp({ commands: [backup], env }, fn);

/** Posts /backup <sub> with its options as an administrator; the reply as answered. */
export async function backupCommand(
  t: TestApp,
  sub: string,
  values: Record<string, unknown> = {},
  who: Record<string, unknown> = ADMIN,
): Promise<Answer> {
  // A second apart: the command's per-user cooldown is not what these tests are about.
  t.clock.advance(2_500);
  return await (await t.post(commandInteraction("backup", subcommand(sub, values), who))).json();
}

/** Posts /backup schedule <sub> as an administrator. */
export async function scheduleCommand(
  t: TestApp,
  sub: string,
  values: Record<string, unknown> = {},
): Promise<Answer> {
  t.clock.advance(2_500);
  const options = [{
    name: "schedule",
    type: ApplicationCommandOptionType.SubcommandGroup,
    options: [{
      name: sub,
      type: ApplicationCommandOptionType.Subcommand,
      options: rawOptions(values),
    }],
  }];
  return await (await t.post(commandInteraction("backup", options, ADMIN))).json();
}

/** Presses a button of an earlier answer, as an administrator. */
export async function press(t: TestApp, customId: string): Promise<Answer> {
  t.clock.advance(2_500);
  return await (await t.post(componentInteraction(customId, ADMIN))).json();
}

export const buttons = (a: Answer) => (a.data.components ?? []).flatMap((r) => r.components);

/** The content the deferred reply was edited to last. */
export function edited(t: TestApp): string | undefined {
  const edit = t.calls.filter((c) => c.method === "PATCH" && c.path.endsWith("/@original")).at(-1);
  return (edit?.body as { content?: string } | undefined)?.content;
}
