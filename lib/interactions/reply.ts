/** Builders for the interaction responses handlers return. */
import {
  type APICommandAutocompleteInteractionResponseCallbackData,
  type APIInteractionResponse,
  type APIInteractionResponseCallbackData,
  type APIInteractionResponseChannelMessageWithSource,
  type APIModalInteractionResponseCallbackData,
  InteractionResponseType,
  MessageFlags,
} from "discord-api-types/v10";

export type MessageData = APIInteractionResponseCallbackData;
export type MessageInput = string | MessageData;

/** Mentions are off unless a handler asks for them: a bot reply never pings by accident. */
export function toData(input: MessageInput, ephemeral = false): MessageData {
  const data: MessageData = typeof input === "string" ? { content: input } : { ...input };
  data.allowed_mentions ??= { parse: [] };
  if (ephemeral) data.flags = (data.flags ?? 0) | MessageFlags.Ephemeral;
  return data;
}

export function message(
  input: MessageInput,
  ephemeral = false,
): APIInteractionResponseChannelMessageWithSource {
  return { type: InteractionResponseType.ChannelMessageWithSource, data: toData(input, ephemeral) };
}

export function ephemeral(input: MessageInput): APIInteractionResponseChannelMessageWithSource {
  return message(input, true);
}

export function deferred(ephemeral: boolean): APIInteractionResponse {
  return {
    type: InteractionResponseType.DeferredChannelMessageWithSource,
    data: ephemeral ? { flags: MessageFlags.Ephemeral } : {},
  };
}

export function update(input: MessageInput): APIInteractionResponse {
  return { type: InteractionResponseType.UpdateMessage, data: toData(input) };
}

export function deferredUpdate(): APIInteractionResponse {
  return { type: InteractionResponseType.DeferredMessageUpdate };
}

export function modal(data: APIModalInteractionResponseCallbackData): APIInteractionResponse {
  return { type: InteractionResponseType.Modal, data };
}

export function autocompleteResult(
  choices: APICommandAutocompleteInteractionResponseCallbackData["choices"],
): APIInteractionResponse {
  return {
    type: InteractionResponseType.ApplicationCommandAutocompleteResult,
    data: { choices: (choices ?? []).slice(0, 25) },
  };
}
