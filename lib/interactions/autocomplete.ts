/**
 * Autocomplete: suggestions for the focused option from the command's own handler. Suggestions
 * show data (backup labels and ids), so the command's gates apply and any refusal or failure is
 * an empty list, never an error.
 */
import {
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIInteractionResponse,
  ApplicationCommandOptionType,
} from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import type { Registry } from "./registry.ts";
import { own, resolveInvocation } from "./define.ts";
import type { AutocompleteContext } from "./context.ts";
import * as reply from "./reply.ts";
import { admit } from "./gate.ts";
import { allowListFor, bitsRefusal, languageOfInteraction, userOf } from "./caller.ts";

/** The options of the invoked subcommand (inside its group, if any). */
function flattenOptions(
  options: APIApplicationCommandInteractionDataOption[] = [],
): APIApplicationCommandInteractionDataOption[] {
  const first = options[0];
  if (
    first && (first.type === ApplicationCommandOptionType.Subcommand ||
      first.type === ApplicationCommandOptionType.SubcommandGroup)
  ) return flattenOptions(first.options);
  return options;
}

/** The focused option's suggestions, or none. */
export async function autocomplete(
  app: { deps: AppDeps; registry: Registry },
  interaction: APIApplicationCommandAutocompleteInteraction,
): Promise<APIInteractionResponse> {
  const none = reply.autocompleteResult([]);
  const language = languageOfInteraction(interaction);
  try {
    const cmd = app.registry.get(interaction.data.name);
    const invocation = cmd && resolveInvocation(cmd, interaction.data.options);
    if (!cmd || !invocation) return none;
    const raw = flattenOptions(interaction.data.options);
    const focused = raw.find((o) => "focused" in o && o.focused);
    const spec = focused && own(invocation.leaf.options, focused.name);
    if (!focused || !spec?.autocomplete) return none;
    // Suggestions show data (backup labels and ids): the command's own gates apply, and a refusal
    // is an empty list.
    if (!interaction.guild_id && cmd.contexts.length === 1 && cmd.contexts[0] === 0) return none;
    if (bitsRefusal(interaction, cmd, language, invocation.leaf.permissions)) return none;
    const allowList = allowListFor(interaction, cmd);
    if (allowList) {
      const admission = await admit(app.deps.kv, {
        interactionId: interaction.id,
        userId: userOf(interaction).id,
        now: app.deps.clock.now(),
        claim: false,
        allowList,
        language,
      });
      if (admission.kind !== "admitted") return none;
    }
    const ctx: AutocompleteContext = {
      deps: app.deps,
      registry: app.registry,
      guildId: interaction.guild_id,
      user: userOf(interaction),
      permissions: BigInt(interaction.member?.permissions ?? "0"),
      language,
      options: Object.fromEntries(raw.map((o) => [o.name, "value" in o ? o.value : undefined])),
    };
    const value = "value" in focused ? String(focused.value) : "";
    return reply.autocompleteResult(await spec.autocomplete(ctx, value));
  } catch (error) {
    app.deps.log.warn("autocomplete failed", { interaction: interaction.id, error });
    return none;
  }
}
