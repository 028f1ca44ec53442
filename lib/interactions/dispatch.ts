/**
 * Dispatch by interaction type. Every path ends in a response: unknown commands, refusals, bad
 * options and throwing handlers get an ephemeral message, never a 5xx; a handler slower than the
 * deadline is acknowledged in time and its answer delivered as an edit.
 */
import {
  type APIApplicationCommandAutocompleteInteraction,
  type APIApplicationCommandInteraction,
  type APIApplicationCommandInteractionDataOption,
  type APIChatInputApplicationCommandInteraction,
  type APIInteraction,
  type APIInteractionResponse,
  type APIInteractionResponseChannelMessageWithSource,
  type APIMessageComponentInteraction,
  type APIModalSubmitInteraction,
  ApplicationCommandOptionType,
  ComponentType,
  InteractionResponseType,
  InteractionType,
} from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import type { Registry } from "./registry.ts";
import { type Command, OptionError, own, parseOptions, resolveInvocation } from "./define.ts";
import type { CustomIds } from "./custom_id.ts";
import type { SigningKeys } from "../signing_keys.ts";
import type {
  AutocompleteContext,
  CommandContext,
  ComponentContext,
  InteractionContext,
  ModalContext,
} from "./context.ts";
import { createFollowup, type Followup } from "./followup.ts";
import * as reply from "./reply.ts";
import { isAdministrator, permissionRefusal } from "./permissions.ts";
import type { ResponseRecorder } from "./idempotency.ts";
import { admit, type GateRequest } from "./gate.ts";
import { DiscordApiError } from "../discord/errors.ts";
import { type Language, languageOf, t } from "../i18n/mod.ts";

export interface InteractionApp {
  deps: AppDeps;
  registry: Registry;
  customIds: CustomIds;
  /** The App's signing keys (status and export links). */
  keys: SigningKeys;
  /** Writes the responses kept for duplicate deliveries, batched. */
  recorder: ResponseRecorder;
  /** After this long a handler is acknowledged with a deferred response (Discord allows 3 s). */
  deadlineMs?: number;
}

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

export interface Dispatched {
  response: APIInteractionResponse;
  /** Work to start once the response is on its way (deferred replies). */
  after: (() => Promise<void>)[];
  /** How it went, for metrics. */
  outcome: Outcome;
}

/** What one dispatch accumulates on its way: deferred work, the outcome, the reply language. */
interface Trace {
  after: (() => Promise<void>)[];
  outcome: Outcome;
  language: Language;
}

/** The member's language, else the guild's (set once per interaction, read by every reply). */
function languageOfInteraction(interaction: APIInteraction): Language {
  const i = interaction as { locale?: string; guild_locale?: string };
  return languageOf(i.locale, i.guild_locale);
}

const DEFAULT_DEADLINE_MS = 2_500;
const CUSTOM_ID_TTL_MS = 15 * 60_000;

export async function dispatch(
  app: InteractionApp,
  interaction: APIInteraction,
): Promise<Dispatched> {
  if (interaction.type === InteractionType.Ping) {
    return { response: { type: InteractionResponseType.Pong }, after: [], outcome: "pong" };
  }
  if (interaction.type === InteractionType.ApplicationCommandAutocomplete) {
    return { response: await autocomplete(app, interaction), after: [], outcome: "autocomplete" };
  }
  const trace: Trace = { after: [], outcome: "ok", language: languageOfInteraction(interaction) };
  let response: APIInteractionResponse;
  try {
    response = await route(app, interaction, trace);
  } catch (error) {
    response = failure(app, interaction, error, trace.language, trace);
  }
  return { response, after: trace.after, outcome: trace.outcome };
}

type Admission = { ok: true } | { ok: false; response: APIInteractionResponse };

/** Runs the gate; KV failing means a clear "degraded" reply, not a timeout. */
async function gate(app: InteractionApp, req: GateRequest, trace: Trace): Promise<Admission> {
  let result;
  try {
    result = await admit(app.deps.kv, req);
  } catch (error) {
    app.deps.log.error("interaction gate unavailable", { interaction: req.interactionId, error });
    trace.outcome = "degraded";
    return { ok: false, response: reply.ephemeral(t(trace.language, "interaction.degraded")) };
  }
  if (result.kind === "admitted") return { ok: true };
  trace.outcome = result.kind === "refused" ? "refused" : "duplicate";
  if (result.kind === "refused") return { ok: false, response: reply.ephemeral(result.message) };
  app.deps.log.info("duplicate delivery ignored", { interaction: req.interactionId });
  return {
    ok: false,
    response: result.response ?? reply.ephemeral(t(trace.language, "interaction.duplicate")),
  };
}

/**
 * Runs an admitted handler under the deadline; the response of a claimed interaction is kept for
 * duplicate deliveries (a read-only command's duplicate is simply answered again).
 */
async function run(
  app: InteractionApp,
  interaction: APIInteraction,
  trace: Trace,
  command: Command,
  handler: () => Promise<APIInteractionResponse> | APIInteractionResponse,
): Promise<APIInteractionResponse> {
  const response = await withDeadline(app, interaction, trace, async () => {
    const answer: unknown = await handler();
    if (!isInteractionResponse(answer)) {
      // Never serialise what a handler returned unless it is a response: a wrong value could be
      // anything in reach of the handler, the config with its secrets included.
      throw new Error(`handler of /${command.name} returned something that is not a response`);
    }
    return answer;
  });
  if (command.readOnly) return response;
  // Buffered and written in a batch shortly after the response is sent; a duplicate delivery in
  // the meantime sees the claim as pending.
  app.deps.waitUntil(
    app.recorder.record(userOf(interaction).id, interaction.id, response).catch((error) =>
      app.deps.log.warn("could not record the response for duplicate deliveries", { error })
    ),
  );
  return response;
}

const RESPONSE_TYPES = new Set<number>([
  InteractionResponseType.ChannelMessageWithSource,
  InteractionResponseType.DeferredChannelMessageWithSource,
  InteractionResponseType.DeferredMessageUpdate,
  InteractionResponseType.UpdateMessage,
  InteractionResponseType.ApplicationCommandAutocompleteResult,
  InteractionResponseType.Modal,
]);

/** A plain object of a response type a handler may return, with plain-object data if any. */
function isInteractionResponse(value: unknown): value is APIInteractionResponse {
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

function userOf(interaction: APIInteraction) {
  return interaction.member?.user ?? interaction.user!;
}

/** The allow-list part of a gate request, when the command is restricted for this member. */
function allowListFor(interaction: APIInteraction, command: Command): GateRequest["allowList"] {
  const have = BigInt(interaction.member?.permissions ?? "0");
  if (!command.restricted || !interaction.guild_id || isAdministrator(have)) return undefined;
  return {
    guildId: interaction.guild_id,
    command: command.name,
    memberRoles: interaction.member?.roles ?? [],
  };
}

function bitsRefusal(
  interaction: APIInteraction,
  command: Command,
  language: Language,
  extra = 0n,
): string | null {
  return permissionRefusal(
    BigInt(interaction.member?.permissions ?? "0"),
    command.permissions | extra,
    command.name,
    language,
  );
}

function failure(
  app: InteractionApp,
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
  app.deps.log.error("interaction handler failed", { interaction: interaction.id, error });
  return reply.ephemeral(t(language, "interaction.failed", { ref: interaction.id }));
}

async function withDeadline(
  app: InteractionApp,
  interaction: APIInteraction,
  trace: Trace,
  run: () => Promise<APIInteractionResponse>,
): Promise<APIInteractionResponse> {
  const work = run().catch((error) => failure(app, interaction, error, trace.language, trace));
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
  const followup = followupFor(app, interaction);
  trace.after.push(async () => {
    const answer = await work;
    if (
      answer.type === InteractionResponseType.ChannelMessageWithSource ||
      answer.type === InteractionResponseType.UpdateMessage
    ) {
      await followup.editOriginal(answer.data ?? {});
    } else if (answer.type === InteractionResponseType.Modal) {
      await followup.editOriginal(t(trace.language, "interaction.modal_too_slow"));
    }
  });
  return interaction.type === InteractionType.MessageComponent
    ? reply.deferredUpdate()
    : reply.deferred(true);
}

function followupFor(app: InteractionApp, interaction: APIInteraction): Followup {
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

/** The shared part of every context, and the queue its deferred work goes to. */
function baseContext<I extends APIInteraction>(
  app: InteractionApp,
  interaction: I,
  command: Command,
  trace: Trace,
): { ctx: InteractionContext<I>; defer: (work: (f: Followup) => Promise<void>) => void } {
  const user = interaction.member?.user ?? interaction.user!;
  const log = app.deps.log.child({ interaction: interaction.id, command: command.name });
  const followup = followupFor(app, interaction);
  const defer = (work: (f: Followup) => Promise<void>) => {
    trace.after.push(async () => {
      try {
        await work(followup);
      } catch (error) {
        log.error("deferred work failed", { error });
        await followup.editOriginal(failure(app, interaction, error, trace.language).data ?? {})
          .catch(() => {});
      }
    });
  };
  const ctx: InteractionContext<I> = {
    interaction,
    deps: app.deps,
    registry: app.registry,
    log,
    command,
    guildId: interaction.guild_id,
    channelId: interaction.channel?.id,
    user,
    member: interaction.member,
    permissions: BigInt(interaction.member?.permissions ?? "0"),
    language: trace.language,
    followup,
    reply: (input) => reply.message(input),
    ephemeral: (input) => reply.ephemeral(input),
    defer: (work, opts) => {
      defer(work);
      return reply.deferred(opts?.ephemeral ?? true);
    },
    keys: app.keys,
    customId: (route, state = "", ttlMs = CUSTOM_ID_TTL_MS) =>
      app.customIds.sign(`${command.name}.${route}`, state, ttlMs, app.deps.clock.now()),
  };
  return { ctx, defer };
}

async function route(
  app: InteractionApp,
  interaction: APIInteraction,
  trace: Trace,
): Promise<APIInteractionResponse> {
  switch (interaction.type) {
    case InteractionType.ApplicationCommand:
      return await command(app, interaction, trace);
    case InteractionType.MessageComponent:
      return await component(app, interaction, trace);
    case InteractionType.ModalSubmit:
      return await modalSubmit(app, interaction, trace);
    default:
      return reply.ephemeral(t(trace.language, "interaction.unsupported"));
  }
}

async function command(
  app: InteractionApp,
  interaction: APIApplicationCommandInteraction,
  trace: Trace,
): Promise<APIInteractionResponse> {
  const name = interaction.data.name;
  const cmd = app.registry.get(name);
  if (!cmd || interaction.data.type !== cmd.type) {
    app.deps.log.warn("unknown command", { interaction: interaction.id, command: name });
    trace.outcome = "unknown";
    return reply.ephemeral(t(trace.language, "interaction.unknown_command", { command: name }));
  }
  if (!interaction.guild_id && cmd.contexts.length === 1 && cmd.contexts[0] === 0) {
    trace.outcome = "refused";
    return reply.ephemeral(t(trace.language, "interaction.guild_only"));
  }
  const chat = interaction as APIChatInputApplicationCommandInteraction;
  const invocation = resolveInvocation(cmd, chat.data.options);
  if (!invocation) {
    trace.outcome = "unknown";
    return reply.ephemeral(t(trace.language, "interaction.unknown_subcommand", { command: name }));
  }
  const refusal = bitsRefusal(interaction, cmd, trace.language, invocation.leaf.permissions);
  if (refusal) {
    trace.outcome = "refused";
    return reply.ephemeral(refusal);
  }
  // Bad options have no side effects: refused before the gate spends a cooldown use.
  const options = parseOptions(invocation.leaf, invocation.raw);
  const user = interaction.member?.user ?? interaction.user!;
  const admission = await gate(app, {
    interactionId: interaction.id,
    userId: userOf(interaction).id,
    now: app.deps.clock.now(),
    claim: !cmd.readOnly,
    allowList: allowListFor(interaction, cmd),
    cooldown: cmd.cooldown ? { command: name, userId: user.id, spec: cmd.cooldown } : undefined,
    language: trace.language,
  }, trace);
  if (!admission.ok) return admission.response;
  const ctx: CommandContext = {
    ...baseContext(app, chat, cmd, trace).ctx,
    path: invocation.path,
    options,
    modal: (data) => reply.modal(data),
  };
  return await run(app, interaction, trace, cmd, () => invocation.leaf.handler(ctx));
}

/** Custom-ID check, route lookup, permission bits and gate shared by components and modals. */
async function admitRoute<H>(
  app: InteractionApp,
  interaction: APIMessageComponentInteraction | APIModalSubmitInteraction,
  lookup: (route: string) => { command: Command; handler: H } | undefined,
  trace: Trace,
): Promise<
  { ok: true; command: Command; handler: H; state: string } | {
    ok: false;
    response: APIInteractionResponse;
  }
> {
  const checked = await app.customIds.verify(interaction.data.custom_id, app.deps.clock.now());
  const found = checked.ok ? lookup(checked.route) : undefined;
  if (!checked.ok || !found) {
    if (!checked.ok && checked.reason === "tampered") {
      app.deps.log.warn("tampered custom id", { interaction: interaction.id });
    }
    trace.outcome = "expired";
    return { ok: false, response: reply.ephemeral(t(trace.language, "interaction.expired")) };
  }
  const guarded = !found.command.publicComponents;
  const refusal = guarded ? bitsRefusal(interaction, found.command, trace.language) : null;
  if (refusal) {
    trace.outcome = "refused";
    return { ok: false, response: reply.ephemeral(refusal) };
  }
  const admission = await gate(app, {
    interactionId: interaction.id,
    userId: userOf(interaction).id,
    now: app.deps.clock.now(),
    claim: !found.command.readOnly,
    allowList: guarded ? allowListFor(interaction, found.command) : undefined,
    language: trace.language,
  }, trace);
  if (!admission.ok) return admission;
  return { ok: true, ...found, state: checked.state };
}

function componentValues(interaction: APIMessageComponentInteraction): string[] {
  const data = interaction.data;
  return data.component_type === ComponentType.Button ? [] : [...data.values];
}

async function component(
  app: InteractionApp,
  interaction: APIMessageComponentInteraction,
  trace: Trace,
): Promise<APIInteractionResponse> {
  const found = await admitRoute(app, interaction, app.registry.component, trace);
  if (!found.ok) return found.response;
  const base = baseContext(app, interaction, found.command, trace);
  const ctx: ComponentContext = {
    ...base.ctx,
    state: found.state,
    values: componentValues(interaction),
    update: (input) => reply.update(input),
    deferUpdate: (work) => {
      base.defer(work);
      return reply.deferredUpdate();
    },
    modal: (data) => reply.modal(data),
  };
  return await run(app, interaction, trace, found.command, () => found.handler(ctx));
}

async function modalSubmit(
  app: InteractionApp,
  interaction: APIModalSubmitInteraction,
  trace: Trace,
): Promise<APIInteractionResponse> {
  const found = await admitRoute(app, interaction, app.registry.modal, trace);
  if (!found.ok) return found.response;
  const entries: [string, string][] = [];
  for (const row of interaction.data.components ?? []) {
    const inner = "components" in row ? row.components : "component" in row ? [row.component] : [];
    for (const c of inner) {
      if ("custom_id" in c && "value" in c && typeof c.value === "string") {
        entries.push([c.custom_id, c.value]);
      }
    }
  }
  // fromEntries defines own properties: a field named `__proto__` stays a field.
  const fields: Record<string, string> = Object.fromEntries(entries);
  const ctx: ModalContext = {
    ...baseContext(app, interaction, found.command, trace).ctx,
    state: found.state,
    fields,
    update: (input) => reply.update(input),
  };
  return await run(app, interaction, trace, found.command, () => found.handler(ctx));
}

function flattenOptions(
  options: APIApplicationCommandInteractionDataOption[] = [],
): APIApplicationCommandInteractionDataOption[] {
  const first = options[0];
  if (
    first && (first.type === ApplicationCommandOptionType.Subcommand ||
      first.type === ApplicationCommandOptionType.SubcommandGroup)
  ) return flattenOptions(first.options);
  return options;
}

async function autocomplete(
  app: InteractionApp,
  interaction: APIApplicationCommandAutocompleteInteraction,
): Promise<APIInteractionResponse> {
  const none = reply.autocompleteResult([]);
  const language = languageOfInteraction(interaction);
  try {
    const cmd = app.registry.get(interaction.data.name);
    const invocation = cmd && resolveInvocation(cmd, interaction.data.options);
    if (!cmd || !invocation) return none;
    const raw = flattenOptions(interaction.data.options);
    const focused = raw.find((o) => "focused" in o && o.focused);
    const spec = focused && own(invocation.leaf.options, focused.name);
    if (!focused || !spec?.autocomplete) return none;
    // Suggestions show data (backup labels and ids): the command's own gates apply, and a refusal
    // is an empty list.
    if (!interaction.guild_id && cmd.contexts.length === 1 && cmd.contexts[0] === 0) return none;
    if (bitsRefusal(interaction, cmd, language, invocation.leaf.permissions)) return none;
    const allowList = allowListFor(interaction, cmd);
    if (allowList) {
      const admission = await admit(app.deps.kv, {
        interactionId: interaction.id,
        userId: userOf(interaction).id,
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
      user: userOf(interaction),
      permissions: BigInt(interaction.member?.permissions ?? "0"),
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
