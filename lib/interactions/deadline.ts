/**
 * Discord waits 3 s for a response: a handler slower than the deadline is acknowledged with a
 * deferred response and its answer delivered as an edit of the original once it comes. The
 * follow-ups retry briefly while Discord has not yet created the original message.
 */
import {
  type APIInteraction,
  type APIInteractionResponse,
  InteractionResponseType,
  InteractionType,
} from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import { DiscordApiError } from "../discord/errors.ts";
import { createFollowup, type Followup, replyGone } from "./followup.ts";
import * as reply from "./reply.ts";
import { failure, type Trace } from "./trace.ts";
import { t } from "../i18n/mod.ts";

const DEFAULT_DEADLINE_MS = 2_500;

/** What the deadline and the follow-ups need of the app. */
export interface DeadlineApp {
  deps: Pick<AppDeps, "clock" | "log" | "rest">;
  /** After this long a handler is acknowledged with a deferred response (Discord allows 3 s). */
  deadlineMs?: number;
}

/**
 * The handler's response when it comes within the deadline; else a deferred response now, with
 * the edit queued on the trace's after-work (through `followup` when the caller already built one).
 */
export async function withDeadline(
  app: DeadlineApp,
  interaction: APIInteraction,
  trace: Trace,
  run: () => Promise<APIInteractionResponse>,
  followup?: Followup,
): Promise<APIInteractionResponse> {
  const work = run().catch((error) =>
    failure(app.deps.log, interaction, error, trace.language, trace)
  );
  const late = Symbol("late");
  let cancel = () => {};
  const deadline = new Promise<typeof late>((resolve) => {
    cancel = app.deps.clock.after(app.deadlineMs ?? DEFAULT_DEADLINE_MS, () => resolve(late));
  });
  const first = await Promise.race([work, deadline]);
  cancel();
  if (first !== late) return first as APIInteractionResponse;
  app.deps.log.warn("handler exceeded the response deadline; deferring", {
    interaction: interaction.id,
  });
  const edits = followup ?? followupFor(app, interaction);
  trace.after.push(async () => {
    const answer = await work;
    try {
      if (
        answer.type === InteractionResponseType.ChannelMessageWithSource ||
        answer.type === InteractionResponseType.UpdateMessage
      ) {
        await edits.editOriginal(answer.data ?? {});
      } else if (answer.type === InteractionResponseType.Modal) {
        await edits.editOriginal(t(trace.language, "interaction.modal_too_slow"));
      }
    } catch (error) {
      if (!replyGone(error)) throw error;
      app.deps.log.warn("late answer not delivered: Discord has no message to edit", {
        interaction: interaction.id,
        error,
      });
    }
  });
  return interaction.type === InteractionType.MessageComponent
    ? reply.deferredUpdate()
    : reply.deferred(true);
}

/** Follow-ups of the interaction that retry while its original message is not there yet. */
export function followupFor(
  app: DeadlineApp,
  interaction: APIInteraction,
): Followup {
  const followup = createFollowup(app.deps.rest, interaction.application_id, interaction.token);
  // The original message exists only once Discord has processed our response: retry briefly.
  const retrying = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A) => {
    for (let attempt = 0;; attempt++) {
      try {
        return await fn(...a);
      } catch (error) {
        const unknownYet = error instanceof DiscordApiError &&
          (error.code === 10015 || error.code === 10008);
        if (!unknownYet || attempt >= 3) throw error;
        await app.deps.clock.sleep(500 * (attempt + 1));
      }
    }
  };
  return {
    send: retrying(followup.send),
    editOriginal: retrying(followup.editOriginal),
    deleteOriginal: retrying(followup.deleteOriginal),
    edit: retrying(followup.edit),
  };
}
