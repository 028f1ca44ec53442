/**
 * What the bot sent back for each interaction: its callback and the messages behind the
 * interaction token (the original response and follow-ups), readable by tests.
 */
import type { MessageType } from "discord-api-types/v10";

export interface CallbackRecord {
  type: number;
  data?: Record<string, unknown>;
  at: number;
}

/** A message posted through the interaction webhook, in the shape Discord returns. */
export interface WebhookMessage {
  id: string;
  type: MessageType;
  channel_id: string;
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: unknown[];
  mentions: unknown[];
  mention_roles: string[];
  mention_everyone: boolean;
  pinned: boolean;
  tts: boolean;
  flags: number;
  timestamp: string;
  edited_timestamp: string | null;
  webhook_id: string;
  application_id: string;
  author: {
    id: string;
    username: string;
    discriminator: string;
    global_name: null;
    avatar: null;
    bot: true;
  };
  /** Not sent by Discord: whether this is the @original response. */
  original?: boolean;
  /** Not sent by Discord: set once deleted; deleted messages answer 404. */
  deleted?: boolean;
}

export interface InteractionRecord {
  id: string;
  token: string;
  /** Channel the interaction came from; messages report it as channel_id. */
  channelId: string;
  /** Epoch ms of the first callback; the token lives 15 minutes from then. */
  createdAt: number;
  callbacks: CallbackRecord[];
  messages: WebhookMessage[];
  originalId?: string;
  expired?: boolean;
}

/** Fields the bot may set on an interaction message. */
export const MESSAGE_FIELDS = [
  "content",
  "embeds",
  "components",
  "attachments",
  "flags",
  "tts",
] as const;

export function isEmptyMessage(data: Record<string, unknown> | undefined): boolean {
  if (!data) return true;
  const content = typeof data.content === "string" ? data.content : "";
  const has = (k: string) => Array.isArray(data[k]) && (data[k] as unknown[]).length > 0;
  return content.length === 0 && !has("embeds") && !has("components") && !has("attachments") &&
    !data.poll;
}
