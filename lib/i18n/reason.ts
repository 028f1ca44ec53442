/**
 * Why something was refused or failed, as a catalogue key and its params: the layer that decides
 * says which `reason.` entry applies, and each edge renders it in its reader's language. The logs
 * and the HTTP API keep the English sentence, made from the same entry, so one text serves both.
 *
 * A refusal carries its Reason next to its English text (`{ reason, why }`); an error carries it
 * as `reason` (ReasonError, ReasonRangeError, or any error with that property).
 */
import type { MessageKey } from "./en.ts";
import { isMessageKey, type Language, t } from "./mod.ts";

export type ReasonKey = Extract<MessageKey, `reason.${string}`>;

export interface Reason {
  readonly key: ReasonKey;
  readonly params?: Readonly<Record<string, string | number>>;
}

export function reason(key: ReasonKey, params?: Record<string, string | number>): Reason {
  return params ? { key, params } : { key };
}

/** The reason in `language`. */
export function reasonText(language: Language, why: Reason): string {
  return t(language, why.key, { ...why.params });
}

/** An error whose message is its reason in English. */
export class ReasonError extends Error {
  constructor(readonly reason: Reason, options?: ErrorOptions) {
    super(reasonText("en", reason), options);
    this.name = "ReasonError";
  }
}

/**
 * A value out of its allowed range, with its Reason: still a RangeError (its name too), which is
 * what callers of range checks test for.
 */
export class ReasonRangeError extends RangeError {
  constructor(readonly reason: Reason, options?: ErrorOptions) {
    super(reasonText("en", reason), options);
  }
}

/** A refusal as services return it: the English sentence and, when the producer gives it, why. */
export interface Refusal {
  reason: string;
  why?: Reason;
}

/** The refusal of `why`, its English sentence beside it. */
export function refusal(why: Reason): Required<Refusal> {
  return { reason: reasonText("en", why), why };
}

/** Whether `value` is a Reason of the catalogue (a stored one may name a key since removed). */
export function isReason(value: unknown): value is Reason {
  if (typeof value !== "object" || value === null) return false;
  const { key, params } = value as { key?: unknown; params?: unknown };
  if (typeof key !== "string" || !key.startsWith("reason.") || !isMessageKey(key)) return false;
  if (params === undefined) return true;
  return typeof params === "object" && params !== null &&
    Object.values(params).every((v) => typeof v === "string" || typeof v === "number");
}

/** The Reason an error or a refusal carries, if any. */
export function reasonOf(source: Error | Refusal): Reason | undefined {
  const why = source instanceof Error ? (source as { reason?: unknown }).reason : source.why;
  return isReason(why) ? why : undefined;
}

/**
 * What an edge shows for an error, a refusal or a stored sentence: the carried Reason in
 * `language`. Without one the text is shown as it is: every sentence of the catalogue travels with
 * its Reason, so text without one is someone else's (Discord's, the runtime's, a run's own words),
 * or a record stored before its producer carried Reasons, which its next run replaces.
 */
export function explain(language: Language, source: Error | Refusal | string): string {
  if (typeof source === "string") return source;
  const why = reasonOf(source);
  if (why) return reasonText(language, why);
  return source instanceof Error ? source.message : source.reason;
}
