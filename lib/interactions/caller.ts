/**
 * What an interaction says about who sent it: the user, the language to answer in, and whether
 * their permission bits and roles let them use a command. Dispatch and autocomplete both ask.
 */
import { type APIInteraction, InteractionContextType } from "discord-api-types/v10";
import type { Command } from "./define.ts";
import type { GateRequest } from "./gate.ts";
import { isAdministrator, permissionRefusal } from "./permissions.ts";
import { type Language, languageOf } from "../i18n/mod.ts";

/** The member's language, else the guild's (set once per interaction, read by every reply). */
export function languageOfInteraction(interaction: APIInteraction): Language {
  const i = interaction as { locale?: string; guild_locale?: string };
  return languageOf(i.locale, i.guild_locale);
}

/** The member's user in a guild, else the user of a DM. */
export function userOf(interaction: APIInteraction) {
  return interaction.member?.user ?? interaction.user!;
}

/** The member's permission bits (none outside a guild); dispatch parses them once per request. */
export function permissionsOf(interaction: APIInteraction): bigint {
  return BigInt(interaction.member?.permissions ?? "0");
}

/** Whether the command is for guilds only and the interaction came from outside one. */
export function guildOnlyOutsideGuild(interaction: APIInteraction, command: Command): boolean {
  return !interaction.guild_id && command.contexts.length === 1 &&
    command.contexts[0] === InteractionContextType.Guild;
}

/** The allow-list part of a gate request, when the command is restricted for this member. */
export function allowListFor(
  interaction: APIInteraction,
  command: Command,
  have = permissionsOf(interaction),
): GateRequest["allowList"] {
  if (!command.restricted || !interaction.guild_id || isAdministrator(have)) return undefined;
  return {
    guildId: interaction.guild_id,
    command: command.name,
    memberRoles: interaction.member?.roles ?? [],
  };
}

/** Why the member's permission bits do not allow the command (and `extra` bits), or null. */
export function bitsRefusal(
  interaction: APIInteraction,
  command: Command,
  language: Language,
  extra = 0n,
  have = permissionsOf(interaction),
): string | null {
  return permissionRefusal(have, command.permissions | extra, command.name, language);
}
