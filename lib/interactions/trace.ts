/**
 * What one dispatch carries from start to end: the work to run after the response, how it went
 * (for metrics), the language of every reply, and the reply that ends it when a handler fails.
 */
import type {
  APIInteraction,
  APIInteractionResponseChannelMessageWithSource,
} from "discord-api-types/v10";
import type { Logger } from "../log/log.ts";
import { OptionError } from "./define.ts";
import * as reply from "./reply.ts";
import { type Language, t } from "../i18n/mod.ts";

export type Outcome =
  | "pong"
  | "autocomplete"
  | "ok"
  | "refused"
  | "duplicate"
  | "unknown"
  | "expired"
  | "invalid_options"
  | "error"
  | "degraded";

/** What one dispatch accumulates on its way: deferred work, the outcome, the reply language. */
export interface Trace {
  after: (() => Promise<void>)[];
  outcome: Outcome;
  language: Language;
}

/**
 * The ephemeral reply to a failed handler: bad options say what is wrong, anything else is logged
 * and answered with a reference to the log line. Marks the trace's outcome when given one.
 */
export function failure(
  log: Logger,
  interaction: APIInteraction,
  error: unknown,
  language: Language,
  trace?: Trace,
): APIInteractionResponseChannelMessageWithSource {
  if (error instanceof OptionError) {
    if (trace) trace.outcome = "invalid_options";
    return reply.ephemeral(error.text(language));
  }
  if (trace) trace.outcome = "error";
  log.error("interaction handler failed", { interaction: interaction.id, error });
  return reply.ephemeral(t(language, "interaction.failed", { ref: interaction.id }));
}
