/**
 * Autocomplete: suggestions for the focused option from the command's own handler. Suggestions
 * show data (backup labels and ids), so the command's gates apply and any refusal or failure is
 * an empty list, never an error.
 */
import type {
  APIApplicationCommandAutocompleteInteraction,
  APIInteractionResponse,
} from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import type { Registry } from "./registry.ts";
import { own, resolveInvocation } from "./define.ts";
import type { AutocompleteContext } from "./context.ts";
import * as reply from "./reply.ts";
import { admit } from "./gate.ts";
import {
  allowListFor,
  bitsRefusal,
  guildOnlyOutsideGuild,
  languageOfInteraction,
  permissionsOf,
  userOf,
} from "./caller.ts";

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
    const { raw } = invocation;
    const focused = raw.find((o) => "focused" in o && o.focused);
    const spec = focused && own(invocation.leaf.options, focused.name);
    if (!focused || !spec?.autocomplete) return none;
    // Suggestions show data (backup labels and ids): the command's own gates apply, and a refusal
    // is an empty list.
    if (guildOnlyOutsideGuild(interaction, cmd)) return none;
    const permissions = permissionsOf(interaction);
    if (bitsRefusal(interaction, cmd, language, invocation.leaf.permissions, permissions)) {
      return none;
    }
    const allowList = allowListFor(interaction, cmd, permissions);
    const user = userOf(interaction);
    if (allowList) {
      const admission = await admit(app.deps.kv, {
        interactionId: interaction.id,
        userId: user.id,
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
      user,
      permissions,
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
