/** A command definition (lib/interactions/define.ts) and the manifest entry derived from it. */
import assert from "node:assert/strict";
import { defineCommand } from "../../lib/interactions/define.ts";

Deno.test("manifest entries carry permissions and contexts derived from the definition", () => {
  const guarded = defineCommand({
    name: "guarded",
    description: "d",
    category: "T",
    permissions: ["ManageRoles", "ManageGuild"],
    handler: (c) => c.reply(""),
  });
  assert.deepStrictEqual(guarded.json.default_member_permissions, String((1n << 28n) | (1n << 5n)));
  assert.deepStrictEqual(guarded.json.contexts, [0]);
  assert.ok(guarded.restricted);
});
