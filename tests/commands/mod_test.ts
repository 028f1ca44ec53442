/** The bot's commands (lib/commands/mod.ts) as one manifest Discord accepts. */
import assert from "node:assert/strict";
import { commands } from "../../lib/commands/mod.ts";
import { createRegistry } from "../../lib/interactions/registry.ts";
import { validateManifest } from "../../lib/manifest/validate.ts";

Deno.test("the bot's whole manifest is valid against Discord's limits", () => {
  const registry = createRegistry(commands, validateManifest);
  const manifest = registry.manifest();
  assert.deepStrictEqual(validateManifest(manifest), []);
  assert.deepStrictEqual(manifest.length, commands.length);
  for (const c of manifest) {
    // Slash commands carry a description; context-menu commands have none.
    if ("description" in c) assert.ok(c.description && c.description.length <= 100, c.name);
    else assert.deepStrictEqual(c.type, 2, c.name);
    assert.ok(JSON.stringify(c).length < 8_000, c.name);
  }
});
