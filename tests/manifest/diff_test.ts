import assert from "node:assert/strict";
import { describeSummary, diffManifests, summarizeDiff } from "../../lib/manifest/diff.ts";

const help = {
  name: "help",
  description: "Show help",
  options: [
    { type: 3, name: "topic", description: "A topic", required: false },
    { type: 5, name: "public", description: "Show to everyone" },
  ],
};

/** What Discord answers for `help` in the global scope. */
const echoed = {
  id: "900000000000000001",
  application_id: "100000000000000001",
  version: "900000000000000001",
  type: 1,
  name: "help",
  description: "Show help",
  options: [
    { type: 3, name: "topic", description: "A topic" },
    { type: 5, name: "public", description: "Show to everyone" },
  ],
  default_member_permissions: null,
  dm_permission: true,
  contexts: null,
  integration_types: [0],
  nsfw: false,
};

const fieldsOf = (code: unknown[], discord: unknown[], guild = false) =>
  diffManifests(code, discord, { guild }).changed.flatMap((c) =>
    c.fields.map((f) => `${c.name}:${f.path}`)
  );

Deno.test("Discord's echo of a command compares equal", () => {
  const d = diffManifests([help], [echoed]);
  assert.deepStrictEqual(d, { added: [], removed: [], changed: [], unchanged: 1, inSync: true });
});

Deno.test("changed fields are named by path, with both values", () => {
  const cases: [string, unknown, string[]][] = [
    ["description", { ...echoed, description: "Old" }, ["help:description"]],
    ["permissions", { ...echoed, default_member_permissions: "32" }, [
      "help:default_member_permissions",
    ]],
    [
      "nested option field",
      { ...echoed, options: [{ ...echoed.options[0], required: true }, echoed.options[1]] },
      ["help:options.topic.required"],
    ],
    [
      "option order",
      { ...echoed, options: [echoed.options[1], echoed.options[0]] },
      ["help:options"],
    ],
    ["option missing", { ...echoed, options: [echoed.options[0]] }, ["help:options"]],
    ["nsfw", { ...echoed, nsfw: true }, ["help:nsfw"]],
    ["localizations", { ...echoed, name_localizations: { fr: "aide" } }, [
      "help:name_localizations",
    ]],
  ];
  for (const [label, discord, expected] of cases) {
    assert.deepStrictEqual(fieldsOf([help], [discord]), expected, label);
  }
  const [change] = diffManifests([help], [{ ...echoed, description: "Old" }]).changed;
  assert.deepStrictEqual(change.fields, [{
    path: "description",
    code: "Show help",
    discord: "Old",
  }]);
});

Deno.test("added, removed and changed commands, by type and name", () => {
  const user = { type: 2, name: "Profile" };
  const d = diffManifests(
    [help, { name: "new", description: "New" }, user],
    [{ ...echoed, description: "Old" }, { ...echoed, id: "9", name: "gone" }, {
      ...user,
      type: 3,
    }],
  );
  assert.deepStrictEqual(d.added.map((c) => `${c.type}:${c.name}`), ["1:new", "2:Profile"]);
  assert.deepStrictEqual(d.removed.map((c) => `${c.type}:${c.name}`), ["1:gone", "3:Profile"]);
  assert.deepStrictEqual(d.changed.map((c) => c.name), ["help"]);
  assert.deepStrictEqual(d.inSync, false);
  const s = summarizeDiff(d);
  assert.deepStrictEqual(s.names.added, ["new", "Profile (type 2)"]);
  assert.deepStrictEqual(describeSummary(s), "2 added, 2 removed, 1 changed");
});

Deno.test("guild scope: dm_permission, which Discord drops there, is not a difference", () => {
  const { dm_permission: _, ...guildEcho } = echoed;
  const code = [{ ...help, dm_permission: false }];
  assert.deepStrictEqual(fieldsOf(code, [guildEcho], true), []);
  assert.deepStrictEqual(fieldsOf(code, [guildEcho], false), ["help:dm_permission"]);
});

Deno.test("summaries cap the names they carry", () => {
  const many = Array.from({ length: 30 }, (_, i) => ({ name: `c${i}`, description: "d" }));
  const s = summarizeDiff(diffManifests(many, []), 10);
  assert.deepStrictEqual(s.added, 30);
  assert.deepStrictEqual(s.names.added.length, 10);
  assert.deepStrictEqual(describeSummary(summarizeDiff(diffManifests([], []))), "in sync");
});
