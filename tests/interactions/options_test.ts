/**
 * lib/interactions/options.ts: each builder's Discord JSON and the schema that checks the value
 * Discord sends, written once.
 */
import assert from "node:assert/strict";
import { ApplicationCommandOptionType, ChannelType } from "discord-api-types/v10";
import { opt } from "../../lib/interactions/options.ts";

const ok = (s: { schema: { safeParse(v: unknown): { success: boolean } } }, v: unknown) =>
  s.schema.safeParse(v).success;

Deno.test("opt.string: length limits and choices in the JSON and enforced on the value", () => {
  const o = opt.string({
    description: "Mode",
    required: true,
    minLength: 2,
    maxLength: 4,
    choices: [{ name: "Full", value: "full" }, { name: "Fast", value: "fast" }],
  });
  assert.equal(o.required, true);
  assert.deepEqual(o.json, {
    type: ApplicationCommandOptionType.String,
    description: "Mode",
    required: true,
    min_length: 2,
    max_length: 4,
    choices: [{ name: "Full", value: "full" }, { name: "Fast", value: "fast" }],
  });
  assert.equal(ok(o, "full"), true);
  assert.equal(ok(o, "slow"), false, "not a choice");
  assert.equal(ok(o, "f"), false, "too short");
  assert.equal(ok(o, 5), false, "not a string");
});

Deno.test("opt.string: optional by default, unset limits are left out of the JSON", () => {
  const o = opt.string({ description: "Free text" });
  assert.equal(o.required, false);
  assert.deepEqual(o.json, {
    type: ApplicationCommandOptionType.String,
    description: "Free text",
    required: false,
  });
  assert.equal(ok(o, ""), true);
  assert.equal(o.autocomplete, undefined);
});

Deno.test("opt.string: an autocomplete handler is kept and flagged in the JSON", () => {
  const complete = () => [];
  const o = opt.string({ description: "Search", autocomplete: complete });
  assert.equal(o.autocomplete, complete);
  assert.equal((o.json as { autocomplete?: boolean }).autocomplete, true);
});

Deno.test("opt.integer: whole numbers within bounds and choices", () => {
  const o = opt.integer({ description: "Days", minValue: 1, maxValue: 30 });
  assert.deepEqual(o.json, {
    type: ApplicationCommandOptionType.Integer,
    description: "Days",
    required: false,
    min_value: 1,
    max_value: 30,
  });
  assert.equal(ok(o, 1), true);
  assert.equal(ok(o, 30), true);
  assert.equal(ok(o, 0), false);
  assert.equal(ok(o, 31), false);
  assert.equal(ok(o, 2.5), false, "not an integer");
  assert.equal(ok(o, "3"), false);
  const picked = opt.integer({ description: "N", choices: [{ name: "one", value: 1 }] });
  assert.equal(ok(picked, 1), true);
  assert.equal(ok(picked, 2), false);
});

Deno.test("opt.number: fractions within bounds", () => {
  const o = opt.number({ description: "Share", minValue: 0, maxValue: 1 });
  assert.equal(o.json.type, ApplicationCommandOptionType.Number);
  assert.equal(ok(o, 0.5), true);
  assert.equal(ok(o, 1.5), false);
  assert.equal(ok(o, -0.1), false);
});

Deno.test("opt.boolean: only booleans", () => {
  const o = opt.boolean({ description: "Dry run", required: true });
  assert.deepEqual(o.json, {
    type: ApplicationCommandOptionType.Boolean,
    description: "Dry run",
    required: true,
  });
  assert.equal(ok(o, false), true);
  assert.equal(ok(o, "false"), false);
});

Deno.test("opt.user, role, channel, mentionable, attachment: snowflake ids of their type", () => {
  const cases = [
    [opt.user({ description: "u" }), ApplicationCommandOptionType.User],
    [opt.role({ description: "r" }), ApplicationCommandOptionType.Role],
    [opt.channel({ description: "c" }), ApplicationCommandOptionType.Channel],
    [opt.mentionable({ description: "m" }), ApplicationCommandOptionType.Mentionable],
    [opt.attachment({ description: "a" }), ApplicationCommandOptionType.Attachment],
  ] as const;
  for (const [o, type] of cases) {
    assert.equal(o.json.type, type);
    assert.equal(ok(o, "80351110224678912"), true, "17 digits");
    assert.equal(ok(o, "12345678901234567890"), true, "20 digits");
    for (const bad of ["1234567890123456", "123456789012345678901", "8035111022467891x", 1]) {
      assert.equal(ok(o, bad), false, `${type}: ${bad}`);
    }
  }
});

Deno.test("opt.channel: the channel types Discord offers are in the JSON", () => {
  const o = opt.channel({ description: "Where", channelTypes: [ChannelType.GuildText] });
  assert.deepEqual((o.json as { channel_types?: number[] }).channel_types, [
    ChannelType.GuildText,
  ]);
  assert.equal("channel_types" in opt.channel({ description: "Any" }).json, false);
});

Deno.test("options: translations of the description go into the JSON", () => {
  const o = opt.boolean({
    description: "Public",
    descriptionLocalizations: { "es-ES": "Público" },
  });
  assert.deepEqual((o.json as { description_localizations?: unknown }).description_localizations, {
    "es-ES": "Público",
  });
  assert.equal("description_localizations" in opt.boolean({ description: "x" }).json, false);
});
