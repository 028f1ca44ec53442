/**
 * Whether what a handler returned may be sent to Discord: a plain object of a response type a
 * handler may answer with. Anything else (a class instance, the config, a stray value) is never
 * serialised, as it could carry whatever the handler had in reach.
 */
import { type APIInteractionResponse, InteractionResponseType } from "discord-api-types/v10";

const RESPONSE_TYPES = new Set<number>([
  InteractionResponseType.ChannelMessageWithSource,
  InteractionResponseType.DeferredChannelMessageWithSource,
  InteractionResponseType.DeferredMessageUpdate,
  InteractionResponseType.UpdateMessage,
  InteractionResponseType.ApplicationCommandAutocompleteResult,
  InteractionResponseType.Modal,
]);

/** A plain object of a response type a handler may return, with plain-object data if any. */
export function isInteractionResponse(value: unknown): value is APIInteractionResponse {
  if (!isPlainObject(value)) return false;
  const { type, data } = value as { type?: unknown; data?: unknown };
  return typeof type === "number" && RESPONSE_TYPES.has(type) &&
    (data === undefined || isPlainObject(data));
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
