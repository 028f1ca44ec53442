/** A manifest against Discord's limits (lib/manifest/validate.ts), refused at load time. */
import assert from "node:assert/strict";
import { createRegistry, ManifestError } from "../../lib/interactions/registry.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import { opt } from "../../lib/interactions/options.ts";
import type { OptionsRecord } from "../../lib/interactions/context.ts";
import { validateCommand, validateManifest } from "../../lib/manifest/validate.ts";

const ok = (name: string, options: OptionsRecord = {}) =>
  defineCommand({
    name,
    description: "d",
    category: "T",
    options,
    handler: (ctx) => ctx.reply("x"),
  });

Deno.test("invalid definitions are refused at load time, each problem named", () => {
  const manyOptions: OptionsRecord = {};
  for (let i = 0; i < 26; i++) manyOptions[`o${i}`] = opt.string({ description: "x" });
  const manyChoices = opt.string({
    description: "x",
    choices: Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `v${i}` })),
  });
  const bulky: OptionsRecord = {};
  for (let i = 0; i < 25; i++) {
    bulky[`o${i}`] = opt.string({
      description: "d".repeat(100),
      choices: Array.from(
        { length: 25 },
        (_, j) => ({ name: `n${j}`.padEnd(20, "n"), value: "v".repeat(20) }),
      ),
    });
  }
  const cases: [string, ReturnType<typeof ok>, string][] = [
    ["uppercase", ok("Hello"), "lowercase"],
    ["space", ok("two words"), "not 1-32 valid characters"],
    ["too long name", ok("a".repeat(33)), "not 1-32"],
    ["options", ok("many", manyOptions), "26 options"],
    ["choices", ok("choices", { c: manyChoices }), "26 choices"],
    ["chars", ok("bulky", bulky), "at most 8000"],
    [
      "required order",
      ok("order", {
        a: opt.string({ description: "a" }),
        b: opt.string({ description: "b", required: true }),
      }),
      "required options must come first",
    ],
  ];
  for (const [label, cmd, expected] of cases) {
    const problems = validateCommand(cmd.json);
    assert.ok(problems.some((p) => p.includes(expected)), `${label}: ${problems.join("; ")}`);
    assert.throws(
      () => createRegistry([cmd], validateManifest),
      (e) => e instanceof ManifestError && e.message.includes(expected),
      label,
    );
  }
  const longDescription = defineCommand({
    name: "desc",
    description: "x".repeat(101),
    category: "T",
    handler: (c) => c.reply(""),
  });
  assert.ok(
    validateCommand(longDescription.json).some((p) => p.includes("description must be 1-100")),
  );
  const hundredAndOne = Array.from({ length: 101 }, (_, i) => ok(`cmd${i}`));
  assert.ok(
    validateManifest(hundredAndOne.map((c) => c.json)).some((p) => p.includes("101 chat-input")),
  );
  assert.ok(
    validateManifest([ok("dup").json, ok("dup").json]).some((p) => p.includes("defined twice")),
  );
  // Unicode names Discord allows are accepted.
  assert.deepStrictEqual(validateCommand(ok("größe").json), []);
});
