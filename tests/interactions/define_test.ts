/** A command definition (lib/interactions/define.ts) and the manifest entry derived from it. */
import { assert, assertEquals } from "../_assert.ts";
import { defineCommand } from "../../lib/interactions/define.ts";

Deno.test("manifest entries carry permissions and contexts derived from the definition", () => {
  const guarded = defineCommand({
    name: "guarded",
    description: "d",
    category: "T",
    permissions: ["ManageRoles", "ManageGuild"],
    handler: (c) => c.reply(""),
  });
  assertEquals(guarded.json.default_member_permissions, String((1n << 28n) | (1n << 5n)));
  assertEquals(guarded.json.contexts, [0]);
  assert(guarded.restricted);
});
