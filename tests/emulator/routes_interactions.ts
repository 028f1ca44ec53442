/**
 * Interaction callback and the interaction webhook (follow-ups, @original). These need no bot
 * token: the interaction token is the credential, valid for 15 minutes.
 */
import {
  InteractionResponseType as R,
  MessageFlags,
  MessageType,
  RESTJSONErrorCodes,
} from "discord-api-types/v10";
import {
  bodyObject,
  type Ctx,
  type DiscordRoute,
  noContent,
  ok,
  route,
  snowflakeParam,
} from "./context.ts";
import {
  DiscordError,
  emptyMessage,
  FormErrors,
  unknownInteraction,
  unknownMessage,
  unknownWebhook,
} from "./errors.ts";
import {
  type InteractionRecord,
  isEmptyMessage,
  MESSAGE_FIELDS,
  type WebhookMessage,
} from "./interactions.ts";
import { discordTimestamp } from "./seed.ts";

const TOKEN_LIFETIME_MS = 15 * 60_000;
const CALLBACK_TYPES = [
  R.Pong,
  R.ChannelMessageWithSource,
  R.DeferredChannelMessageWithSource,
  R.DeferredMessageUpdate,
  R.UpdateMessage,
  R.ApplicationCommandAutocompleteResult,
  R.Modal,
  R.LaunchActivity,
];

export function interactionRoutes(): DiscordRoute[] {
  const i = { interaction: true };
  return [
    route("POST", "/interactions/:interaction/:token/callback", callback, i),
    route("POST", "/webhooks/:app/:token", followUp, { ...i, bucket: "followUp" }),
    route("GET", "/webhooks/:app/:token/messages/:message", getMessage, i),
    route("PATCH", "/webhooks/:app/:token/messages/:message", editMessage, i),
    route("DELETE", "/webhooks/:app/:token/messages/:message", deleteMessage, i),
  ];
}

/** Content, embed-count and emptiness checks shared by every message payload. */
function checkMessage(
  data: Record<string, unknown> | undefined,
  form: FormErrors,
  path: string[],
): void {
  if (!data) return;
  if (data.content !== undefined && data.content !== null) {
    if (typeof data.content !== "string" || data.content.length > 2000) {
      form.add([...path, "content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
    }
  }
  if (Array.isArray(data.embeds) && data.embeds.length > 10) {
    form.add([...path, "embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
  }
  if (Array.isArray(data.components) && data.components.length > 5) {
    form.add([...path, "components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
  }
}

function newMessage(
  ctx: Ctx,
  record: InteractionRecord,
  data: Record<string, unknown>,
  original: boolean,
  loading = false,
): WebhookMessage {
  const flags = (Number(data.flags ?? 0) & MessageFlags.Ephemeral) |
    (loading ? MessageFlags.Loading : 0);
  const message: WebhookMessage = {
    id: ctx.state.ids.next(),
    type: original ? MessageType.ChatInputCommand : MessageType.Default,
    channel_id: record.channelId,
    content: typeof data.content === "string" ? data.content : "",
    embeds: Array.isArray(data.embeds) ? data.embeds : [],
    components: Array.isArray(data.components) ? data.components : [],
    attachments: Array.isArray(data.attachments) ? data.attachments : [],
    mentions: [],
    mention_roles: [],
    mention_everyone: false,
    pinned: false,
    tts: data.tts === true,
    flags,
    timestamp: discordTimestamp(ctx.state.now()),
    edited_timestamp: null,
    webhook_id: ctx.applicationId,
    application_id: ctx.applicationId,
    author: {
      id: ctx.botUserId,
      username: ctx.state.config.botUsername,
      discriminator: "0",
      global_name: null,
      avatar: null,
      bot: true,
    },
  };
  if (original) message.original = true;
  record.messages.push(message);
  if (original) record.originalId = message.id;
  return message;
}

function callback(ctx: Ctx) {
  const interactionId = snowflakeParam(ctx.params.interaction, "interaction_id");
  const token = ctx.params.token;
  let record = ctx.state.interactions.get(token);
  if (record && (record.id !== interactionId || record.expired)) throw unknownInteraction();
  if (record?.callbacks.length) {
    throw new DiscordError(
      400,
      RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged,
      "Interaction has already been acknowledged.",
    );
  }
  const b = bodyObject(ctx);
  const form = new FormErrors();
  if (!CALLBACK_TYPES.includes(b.type as R)) {
    form.add(
      ["type"],
      b.type === undefined ? "BASE_TYPE_REQUIRED" : "BASE_TYPE_CHOICES",
      b.type === undefined
        ? "This field is required"
        : `Value must be one of {${CALLBACK_TYPES.join(", ")}}.`,
    );
  }
  const data = b.data as Record<string, unknown> | undefined;
  checkMessage(data, form, ["data"]);
  if (b.type === R.Modal) {
    for (const k of ["custom_id", "title", "components"]) {
      if (data?.[k] === undefined) {
        form.add(["data", k], "BASE_TYPE_REQUIRED", "This field is required");
      }
    }
  }
  form.throwIfAny();
  if ((b.type === R.ChannelMessageWithSource) && isEmptyMessage(data)) throw emptyMessage();

  record ??= ctx.state.registerInteraction(interactionId, token);
  record.callbacks.push({ type: b.type as number, data, at: ctx.state.now() });
  let message: WebhookMessage | undefined;
  if (b.type === R.ChannelMessageWithSource) message = newMessage(ctx, record, data!, true);
  if (b.type === R.DeferredChannelMessageWithSource) {
    message = newMessage(ctx, record, data ?? {}, true, true);
  }

  if (ctx.query.get("with_response") !== "true") return noContent();
  return ok({
    interaction: {
      id: interactionId,
      type: 2,
      ...(message
        ? {
          response_message_id: message.id,
          response_message_loading: (message.flags & MessageFlags.Loading) !== 0,
          response_message_ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0,
        }
        : {}),
    },
    ...(message ? { resource: { type: b.type, message: publicMessage(message) } } : {}),
  });
}

/** The interaction behind a webhook token; dead or unknown tokens answer like Discord. */
function webhookRecord(ctx: Ctx): InteractionRecord {
  const app = snowflakeParam(ctx.params.app, "webhook_id");
  const record = ctx.state.interactions.get(ctx.params.token);
  if (app !== ctx.applicationId || !record || record.callbacks.length === 0) throw unknownWebhook();
  if (record.expired || ctx.state.now() - record.createdAt > TOKEN_LIFETIME_MS) {
    throw new DiscordError(401, RESTJSONErrorCodes.InvalidWebhookToken, "Invalid Webhook Token");
  }
  return record;
}

function messageOf(ctx: Ctx, record: InteractionRecord): WebhookMessage {
  const id = ctx.params.message === "@original" ? record.originalId : ctx.params.message;
  const message = record.messages.find((m) => m.id === id && !m.deleted);
  if (!message) throw unknownMessage();
  return message;
}

/** The message without the emulator's own bookkeeping fields. */
function publicMessage(m: WebhookMessage): Omit<WebhookMessage, "original" | "deleted"> {
  const { original: _o, deleted: _d, ...rest } = m;
  return rest;
}

function followUp(ctx: Ctx) {
  const record = webhookRecord(ctx);
  const b = bodyObject(ctx);
  const form = new FormErrors();
  checkMessage(b, form, []);
  form.throwIfAny();
  if (isEmptyMessage(b)) throw emptyMessage();
  return ok(publicMessage(newMessage(ctx, record, b, false)));
}

function getMessage(ctx: Ctx) {
  return ok(publicMessage(messageOf(ctx, webhookRecord(ctx))));
}

function editMessage(ctx: Ctx) {
  const message = messageOf(ctx, webhookRecord(ctx));
  const b = bodyObject(ctx);
  const form = new FormErrors();
  checkMessage(b, form, []);
  form.throwIfAny();
  const next = { ...message };
  for (const k of MESSAGE_FIELDS) {
    if (b[k] === undefined) continue;
    if (k === "flags") {
      // Only SUPPRESS_EMBEDS may change; ephemerality is fixed at send time.
      next.flags = (message.flags & ~MessageFlags.SuppressEmbeds) |
        (Number(b.flags) & MessageFlags.SuppressEmbeds);
    } else if (k === "content") next.content = b.content === null ? "" : String(b.content);
    else if (k === "tts") continue;
    else (next as Record<string, unknown>)[k] = b[k] ?? [];
  }
  next.flags &= ~MessageFlags.Loading;
  if (isEmptyMessage(next as unknown as Record<string, unknown>)) throw emptyMessage();
  Object.assign(message, next, { edited_timestamp: discordTimestamp(ctx.state.now()) });
  return ok(publicMessage(message));
}

function deleteMessage(ctx: Ctx) {
  const message = messageOf(ctx, webhookRecord(ctx));
  message.deleted = true;
  return noContent();
}
