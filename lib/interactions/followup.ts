/**
 * Follow-up messages and edits of the original response, through the interaction webhook routes
 * (no bot token; exempt from the global rate limit). The bot's only wrappers of these routes.
 */
import type { APIMessage } from "discord-api-types/v10";
import type { RestClient } from "../discord/rest.ts";
import { DiscordApiError } from "../discord/errors.ts";
import { type MessageInput, toData } from "./reply.ts";

export interface Followup {
  send(input: MessageInput, ephemeral?: boolean): Promise<APIMessage>;
  editOriginal(input: MessageInput): Promise<APIMessage>;
  deleteOriginal(): Promise<void>;
  edit(messageId: string, input: MessageInput): Promise<APIMessage>;
}

export function createFollowup(rest: RestClient, applicationId: string, token: string): Followup {
  const base = `/webhooks/${applicationId}/${token}` as const;
  return {
    send: (input, ephemeral = false) =>
      rest.post<APIMessage>(base, { body: toData(input, ephemeral), auth: false }),
    editOriginal: (input) =>
      rest.patch<APIMessage>(`${base}/messages/@original`, { body: toData(input), auth: false }),
    deleteOriginal: async () => {
      await rest.delete(`${base}/messages/@original`, { auth: false });
    },
    edit: (messageId, input) =>
      rest.patch<APIMessage>(`${base}/messages/${messageId}`, { body: toData(input), auth: false }),
  };
}

/**
 * Whether a follow-up failed because Discord has nothing for it to reach: the interaction's
 * webhook or message is unknown (404: it expired after 15 minutes, the message was deleted, or
 * Discord never took the response). Nothing can reach the member then, and it is no fault of the
 * bot's, so callers log it as a warning rather than an error.
 */
export function replyGone(error: unknown): boolean {
  return error instanceof DiscordApiError && error.status === 404 &&
    error.route.startsWith("/webhooks/");
}
