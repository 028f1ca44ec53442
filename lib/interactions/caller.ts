/**
 * What an interaction says about who sent it: the user, the language to answer in, and whether
 * their permission bits and roles let them use a command. Dispatch and autocomplete both ask.
 */
import type { APIInteraction } from "discord-api-types/v10";
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

/** The allow-list part of a gate request, when the command is restricted for this member. */
export function allowListFor(
  interaction: APIInteraction,
  command: Command,
): GateRequest["allowList"] {
  const have = BigInt(interaction.member?.permissions ?? "0");
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
): string | null {
  return permissionRefusal(
    BigInt(interaction.member?.permissions ?? "0"),
    command.permissions | extra,
    command.name,
    language,
  );
}
