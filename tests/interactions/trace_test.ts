/** lib/interactions/trace.ts: the reply that ends a dispatch whose handler failed. */
import assert from "node:assert/strict";
import { MessageFlags } from "discord-api-types/v10";
import { OptionError } from "../../lib/interactions/define.ts";
import { failure, type Trace } from "../../lib/interactions/trace.ts";
import { memoryLogger } from "../_log.ts";
import { t } from "../../lib/i18n/mod.ts";
import { commandInteraction } from "../_harness.ts";

const trace = (): Trace => ({ after: [], outcome: "ok", language: "en" });

Deno.test("trace: bad options say what is wrong, in the language, and log nothing", () => {
  const log = memoryLogger();
  const tr = trace();
  const error = new OptionError("count", "is too small", { kind: "min", min: 1 });
  const r = failure(log, commandInteraction("x"), error, "es", tr);
  assert.equal(r.data.content, t("es", "option.min", { option: "count", min: "1" }));
  assert.equal(r.data.flags, MessageFlags.Ephemeral);
  assert.equal(tr.outcome, "invalid_options");
  assert.deepStrictEqual(log.lines, []);
});

Deno.test("trace: any other failure is logged and answered with its reference", () => {
  const log = memoryLogger();
  const tr = trace();
  const interaction = commandInteraction("x");
  const r = failure(log, interaction, new Error("kaboom"), "en", tr);
  assert.equal(r.data.content, t("en", "interaction.failed", { ref: interaction.id }));
  assert.equal(r.data.flags, MessageFlags.Ephemeral);
  assert.equal(tr.outcome, "error");
  assert.equal(log.lines.length, 1);
  assert.equal(log.lines[0].msg, "interaction handler failed");
  assert.equal(log.lines[0].interaction, interaction.id);
});

Deno.test("trace: without a trace (deferred work) only the reply is made", () => {
  const r = failure(memoryLogger(), commandInteraction("x"), new Error("late"), "en");
  assert.equal(r.data.flags, MessageFlags.Ephemeral);
});
