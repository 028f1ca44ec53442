/** lib/interactions/caller.ts: who sent an interaction, their language, what they may use. */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import {
  allowListFor,
  bitsRefusal,
  guildOnlyOutsideGuild,
  languageOfInteraction,
  permissionsOf,
  userOf,
} from "../../lib/interactions/caller.ts";
import { defineCommand } from "../../lib/interactions/define.ts";
import { commandInteraction, GUILD_ID, USER_ID } from "../_harness.ts";

const guarded = defineCommand({
  name: "guarded",
  description: "Needs Manage Roles",
  category: "Test",
  permissions: ["ManageRoles"],
  handler: (ctx) => ctx.ephemeral("ok"),
});
const open = defineCommand({
  name: "open",
  description: "Anyone",
  category: "Test",
  handler: (ctx) => ctx.ephemeral("ok"),
});

Deno.test("caller: the member's locale, else the guild's, else English", () => {
  const i = (locale?: string, guild_locale?: string) =>
    ({ ...commandInteraction("open"), locale, guild_locale }) as never;
  assert.equal(languageOfInteraction(i("es-ES")), "es");
  assert.equal(languageOfInteraction(i("fr", "es-419")), "es");
  assert.equal(languageOfInteraction(i("en-US", "es-ES")), "en");
  assert.equal(languageOfInteraction(i(undefined, undefined)), "en");
});

Deno.test("caller: the member's user in a guild, the user in a DM", () => {
  assert.equal(userOf(commandInteraction("open")).id, USER_ID);
  assert.equal(userOf(commandInteraction("open", [], { guildId: null, userId: "9" })).id, "9");
});

Deno.test("caller: the allow-list: restricted commands, in guilds, for non-admins", () => {
  const perms = PermissionFlagsBits.ManageRoles;
  assert.deepStrictEqual(
    allowListFor(commandInteraction("guarded", [], { permissions: perms, roles: ["r1"] }), guarded),
    { guildId: GUILD_ID, command: "guarded", memberRoles: ["r1"] },
  );
  const admin = { permissions: PermissionFlagsBits.Administrator };
  assert.equal(allowListFor(commandInteraction("guarded", [], admin), guarded), undefined);
  assert.equal(
    allowListFor(commandInteraction("guarded", [], { guildId: null }), guarded),
    undefined,
  );
  assert.equal(allowListFor(commandInteraction("open"), open), undefined);
});

Deno.test("caller: permission bits, the command's and a subcommand's, in the language", () => {
  const manage = { permissions: PermissionFlagsBits.ManageRoles };
  assert.equal(bitsRefusal(commandInteraction("guarded", [], manage), guarded, "en"), null);
  const none = commandInteraction("guarded");
  const refusal = bitsRefusal(none, guarded, "en");
  assert.ok(refusal?.includes("Manage Roles") && refusal.includes("/guarded"), refusal ?? "");
  assert.notEqual(bitsRefusal(none, guarded, "es"), refusal, "in Spanish");
  assert.equal(bitsRefusal(none, open, "en"), null);
  const extra = PermissionFlagsBits.Administrator;
  assert.ok(bitsRefusal(commandInteraction("guarded", [], manage), guarded, "en", extra));
});

Deno.test("caller: the permission bits passed in are the ones judged", () => {
  const manage = { permissions: PermissionFlagsBits.ManageRoles };
  const i = commandInteraction("guarded", [], manage);
  assert.equal(permissionsOf(i), PermissionFlagsBits.ManageRoles);
  assert.equal(permissionsOf(commandInteraction("guarded", [], { guildId: null })), 0n);
  assert.ok(bitsRefusal(i, guarded, "en", 0n, 0n));
  assert.equal(allowListFor(i, guarded, PermissionFlagsBits.Administrator), undefined);
});

Deno.test("caller: a guild-only command outside a guild, and nothing else", () => {
  const dmToo = defineCommand({
    name: "dm",
    description: "Anywhere",
    category: "Test",
    contexts: ["guild", "bot_dm"],
    handler: (ctx) => ctx.ephemeral("ok"),
  });
  const dm = { guildId: null };
  assert.equal(guildOnlyOutsideGuild(commandInteraction("guarded", [], dm), guarded), true);
  assert.equal(guildOnlyOutsideGuild(commandInteraction("guarded"), guarded), false);
  assert.equal(guildOnlyOutsideGuild(commandInteraction("dm", [], dm), dmToo), false);
});
