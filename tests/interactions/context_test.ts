/**
 * lib/interactions/context.ts holds types only: what a handler receives and what the framework's
 * parts promise one another. These tests pin the typing contracts that handlers rely on; they fail
 * at type-check time (deno test checks first) when a contract changes.
 */
import assert from "node:assert/strict";
import { InteractionResponseType } from "discord-api-types/v10";
import type {
  Command,
  CommandContext,
  OptionSpec,
  ParsedOptions,
  Registry,
  Reply,
} from "../../lib/interactions/context.ts";
import { opt } from "../../lib/interactions/options.ts";
import { defineCommand } from "../../lib/interactions/define.ts";

/** True only when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
const same = <T extends true>(value: T) => value;

Deno.test("ParsedOptions: required options are present, optional ones may be undefined", () => {
  type O = { a: OptionSpec<string, true>; b: OptionSpec<number, false> };
  assert.equal(same<Equal<ParsedOptions<O>, { a: string; b: number | undefined }>>(true), true);
});

Deno.test("ParsedOptions: the builders' `required` literal decides the handler's view", () => {
  const options = {
    days: opt.integer({ description: "Days", required: true }),
    note: opt.string({ description: "Note" }),
    public: opt.boolean({ description: "Public", required: false }),
  };
  type P = ParsedOptions<typeof options>;
  assert.equal(
    same<Equal<P, { days: number; note: string | undefined; public: boolean | undefined }>>(true),
    true,
  );
});

Deno.test("CommandContext: a command's handler sees its parsed options and returns a Reply", () => {
  const options = { user: opt.user({ description: "Who", required: true }) };
  const handler = (ctx: CommandContext<ParsedOptions<typeof options>>): Reply =>
    ctx.reply(`<@${ctx.options.user}>`);
  const command: Command = defineCommand({
    name: "who",
    description: "d",
    category: "T",
    options,
    handler,
  });
  assert.equal(same<Equal<Parameters<typeof handler>[0]["options"]["user"], string>>(true), true);
  assert.equal(same<Equal<CommandContext["path"], string[]>>(true), true);
  assert.equal(command.root.kind, "leaf");
  // A Reply is a response or a promise of one (a handler may be async).
  const now: Reply = { type: InteractionResponseType.Pong };
  const later: Reply = Promise.resolve(now);
  assert.ok(later instanceof Promise);
});

Deno.test("Registry: lookups may miss; the manifest is Discord's JSON", () => {
  type Get = ReturnType<Registry["get"]>;
  type Route = ReturnType<Registry["component"]>;
  assert.equal(same<Equal<Get, Command | undefined>>(true), true);
  assert.equal(same<Equal<Extract<Route, undefined>, undefined>>(true), true);
  assert.equal(
    same<Equal<ReturnType<Registry["manifest"]>, Command["json"][]>>(true),
    true,
  );
});
