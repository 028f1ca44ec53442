import { InteractionResponseType, PermissionFlagsBits } from "discord-api-types/v10";
import assert from "node:assert/strict";
import {
  autocompleteInteraction,
  commandInteraction,
  createTestApp,
  GUILD_ID,
  rawOptions,
} from "../_harness.ts";
import { commands } from "../../lib/commands/mod.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import { getAllowedRoles } from "../../lib/interactions/permissions.ts";
import { getFlags } from "../../lib/ops/flags.ts";

const ROLE = "210000000000000001";
const roles = [
  { id: GUILD_ID, name: "@everyone", position: 0, managed: false },
  { id: ROLE, name: "Moderators", position: 3, managed: false },
];
const guarded = defineCommand({
  name: "guarded",
  description: "Needs Manage Roles",
  category: "Test",
  permissions: ["ManageRoles"],
  cooldown: false,
  handler: (c) => c.ephemeral("allowed"),
});

Deno.test("/config sets and clears a command's role allow-list, and toggles features", async () => {
  const t = await createTestApp({
    commands: [...commands, guarded],
    routes: { [`GET /guilds/${GUILD_ID}/roles`]: roles },
  });
  const admin = { permissions: PermissionFlagsBits.ManageGuild };
  const post = async (p: unknown) => {
    t.clock.advance(2_000); // stay under the 3-per-5-s cooldown
    return await (await t.post(p)).json();
  };
  try {
    const refused = await post(
      commandInteraction("config", rawOptions({ command: "guarded", role: ROLE })),
    );
    assert.match(refused.data.content, /Manage Server/);

    const set = await post(
      commandInteraction("config", rawOptions({ command: "guarded", role: `<@&${ROLE}>` }), admin),
    );
    assert.ok(set.data.content.includes(`limited to <@&${ROLE}>`), set.data.content);
    assert.deepStrictEqual(await getAllowedRoles(t.deps.kv, GUILD_ID, "guarded"), [ROLE]);

    const blocked = await post(
      commandInteraction("guarded", [], { permissions: PermissionFlagsBits.ManageRoles }),
    );
    assert.match(blocked.data.content, /limited to members with/);

    const unknown = await post(
      commandInteraction(
        "config",
        rawOptions({ command: "guarded", role: "210000000000000999" }),
        admin,
      ),
    );
    assert.match(unknown.data.content, /no role with id/);

    const cleared = await post(
      commandInteraction("config", rawOptions({ command: "guarded", role: "none" }), admin),
    );
    assert.match(cleared.data.content, /Cleared/);
    assert.deepStrictEqual(await getAllowedRoles(t.deps.kv, GUILD_ID, "guarded"), []);

    const notRestricted = await post(
      commandInteraction("config", rawOptions({ command: "help", role: ROLE }), admin),
    );
    assert.match(notRestricted.data.content, /not a command that can be restricted/);

    const off = await post(
      commandInteraction("config", rawOptions({ feature: "backups", enabled: false }), admin),
    );
    assert.match(off.data.content, /`backups` is now off/);
    assert.deepStrictEqual((await getFlags(t.deps.kv, GUILD_ID)).backups, false);

    const overview = await post(commandInteraction("config", [], admin));
    assert.match(overview.data.content, /`backups`: off/);
  } finally {
    await t.close();
  }
});

Deno.test("/config autocomplete lists restricted commands and the guild's roles plus none", async () => {
  const t = await createTestApp({
    commands: [...commands, guarded],
    routes: { [`GET /guilds/${GUILD_ID}/roles`]: roles },
  });
  try {
    const cmd = await (await t.post(autocompleteInteraction("config", [
      { name: "command", type: 3, value: "gua", focused: true },
    ], { permissions: PermissionFlagsBits.ManageGuild }))).json();
    assert.deepStrictEqual(cmd.type, InteractionResponseType.ApplicationCommandAutocompleteResult);
    assert.deepStrictEqual(cmd.data.choices, [{ name: "/guarded", value: "guarded" }]);
    const roleOptions = [
      { name: "command", type: 3, value: "guarded" },
      { name: "role", type: 3, value: "mod", focused: true },
    ];
    const role = await (await t.post(autocompleteInteraction("config", roleOptions, {
      permissions: PermissionFlagsBits.ManageGuild,
    }))).json();
    assert.deepStrictEqual(role.data.choices.map((c: { value: string }) => c.value), [
      "none",
      ROLE,
    ]);
    // Without Manage Server the command is refused, and so are its suggestions.
    const refused = await (await t.post(autocompleteInteraction("config", roleOptions))).json();
    assert.deepStrictEqual(refused.data.choices, []);
  } finally {
    await t.close();
  }
});
