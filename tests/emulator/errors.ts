/** Discord's JSON error bodies, thrown by handlers and turned into responses by the pipeline. */
import { RESTJSONErrorCodes } from "discord-api-types/v10";

export interface FieldError {
  code: string;
  message: string;
}

/** Nested `errors` object of a 50035 answer: `{"name":{"_errors":[...]}}`. */
export type ErrorTree = {
  _errors?: FieldError[];
  [key: string]: ErrorTree | FieldError[] | undefined;
};

export class DiscordError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: ErrorTree,
    /** Extra top-level fields, e.g. retry_after on the daily command-create limit. */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { message: this.message, code: this.code };
    if (this.errors) body.errors = this.errors;
    return { ...body, ...this.extra };
  }
}

/** Collects field errors at paths and builds Discord's nested tree. */
export class FormErrors {
  #tree: ErrorTree = {};
  #count = 0;

  add(path: readonly (string | number)[], code: string, message: string): void {
    let node = this.#tree;
    for (const part of path) {
      const key = String(part);
      node = (node[key] ??= {}) as ErrorTree;
    }
    (node._errors ??= []).push({ code, message });
    this.#count++;
  }

  get empty(): boolean {
    return this.#count === 0;
  }

  get count(): number {
    return this.#count;
  }

  /** Throws 400 50035 when anything was added. */
  throwIfAny(): void {
    if (!this.empty) throw invalidForm(this.#tree);
  }

  toError(): DiscordError {
    return invalidForm(this.#tree);
  }
}

export function invalidForm(errors: ErrorTree): DiscordError {
  return new DiscordError(
    400,
    RESTJSONErrorCodes.InvalidFormBodyOrContentType,
    "Invalid Form Body",
    errors,
  );
}

/** One-field 50035, the common case. */
export function invalidField(
  path: readonly (string | number)[],
  code: string,
  message: string,
): DiscordError {
  const form = new FormErrors();
  form.add(path, code, message);
  return form.toError();
}

const C = RESTJSONErrorCodes;

export const unknownGuild = () => new DiscordError(404, C.UnknownGuild, "Unknown Guild");
export const unknownMember = () => new DiscordError(404, C.UnknownMember, "Unknown Member");
export const unknownRole = () => new DiscordError(404, C.UnknownRole, "Unknown Role");
export const unknownChannel = () => new DiscordError(404, C.UnknownChannel, "Unknown Channel");
export const unknownMessage = () => new DiscordError(404, C.UnknownMessage, "Unknown Message");
export const unknownWebhook = () => new DiscordError(404, C.UnknownWebhook, "Unknown Webhook");
export const unknownInteraction = () =>
  new DiscordError(404, C.UnknownInteraction, "Unknown interaction");
export const unknownCommand = () =>
  new DiscordError(404, C.UnknownApplicationCommand, "Unknown application command");
export const missingAccess = () => new DiscordError(403, C.MissingAccess, "Missing Access");
export const missingPermissions = () =>
  new DiscordError(403, C.MissingPermissions, "Missing Permissions");
export const emptyMessage = () =>
  new DiscordError(400, C.CannotSendAnEmptyMessage, "Cannot send an empty message");
export const invalidJson = () =>
  new DiscordError(
    400,
    C.RequestBodyContainsInvalidJSON,
    "The request body contains invalid JSON.",
  );
