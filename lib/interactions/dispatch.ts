/**
 * Dispatch by interaction type. Every path ends in a response: unknown commands, refusals, bad
 * options and throwing handlers get an ephemeral message, never a 5xx; a handler slower than the
 * deadline is acknowledged in time and its answer delivered as an edit.
 *
 * This module routes by type and builds each handler's context; who is asking is read in
 * caller.ts, the deadline in deadline.ts, autocomplete in autocomplete.ts, the failure reply in
 * trace.ts.
 */
import {
  type APIApplicationCommandInteraction,
  type APIChatInputApplicationCommandInteraction,
  type APIInteraction,
  type APIInteractionResponse,
  type APIMessageComponentInteraction,
  type APIModalSubmitInteraction,
  type APIUser,
  ComponentType,
  InteractionResponseType,
  InteractionType,
} from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import type { Registry } from "./registry.ts";
import { type Command, parseOptions, resolveInvocation } from "./define.ts";
import type { CustomIds } from "./custom_id.ts";
import type { SigningKeys } from "../signing_keys.ts";
import type {
  CommandContext,
  ComponentContext,
  InteractionContext,
  ModalContext,
} from "./context.ts";
import { type Followup, replyGone } from "./followup.ts";
import * as reply from "./reply.ts";
import type { ResponseRecorder } from "./idempotency.ts";
import { admit, type GateRequest } from "./gate.ts";
import { t } from "../i18n/mod.ts";
import { autocomplete } from "./autocomplete.ts";
import {
  allowListFor,
  bitsRefusal,
  guildOnlyOutsideGuild,
  languageOfInteraction,
  permissionsOf,
  userOf,
} from "./caller.ts";
import { type DeadlineApp, followupFor, withDeadline } from "./deadline.ts";
import { isInteractionResponse } from "./response_check.ts";
import { failure, type Outcome, type Trace } from "./trace.ts";

export interface InteractionApp extends DeadlineApp {
  deps: AppDeps;
  registry: Registry;
  customIds: CustomIds;
  /** The App's signing keys (status and export links). */
  keys: SigningKeys;
  /** Writes the responses kept for duplicate deliveries, batched. */
  recorder: ResponseRecorder;
}

export interface Dispatched {
  response: APIInteractionResponse;
  /** Work to start once the response is on its way (deferred replies). */
  after: (() => Promise<void>)[];
  /** How it went, for metrics. */
  outcome: Outcome;
}

const CUSTOM_ID_TTL_MS = 15 * 60_000;

/** Who is asking, read once per interaction and handed to the gates and the context. */
interface Caller {
  user: APIUser;
  permissions: bigint;
}

function callerOf(interaction: APIInteraction): Caller {
  return { user: userOf(interaction), permissions: permissionsOf(interaction) };
}

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
    response = failure(app.deps.log, interaction, error, trace.language, trace);
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
  trace: Trace,
  ctx: InteractionContext<APIInteraction>,
  handler: () => Promise<APIInteractionResponse> | APIInteractionResponse,
): Promise<APIInteractionResponse> {
  const { interaction, command } = ctx;
  const response = await withDeadline(app, interaction, trace, async () => {
    const answer: unknown = await handler();
    if (!isInteractionResponse(answer)) {
      // Never serialise what a handler returned unless it is a response: a wrong value could be
      // anything in reach of the handler, the config with its secrets included.
      throw new Error(`handler of /${command.name} returned something that is not a response`);
    }
    return answer;
  }, ctx.followup);
  if (command.readOnly) return response;
  // Buffered and written in a batch shortly after the response is sent; a duplicate delivery in
  // the meantime sees the claim as pending.
  app.deps.waitUntil(
    app.recorder.record(ctx.user.id, interaction.id, response).catch((error) =>
      app.deps.log.warn("could not record the response for duplicate deliveries", { error })
    ),
  );
  return response;
}

/** The shared part of every context, and the queue its deferred work goes to. */
function baseContext<I extends APIInteraction>(
  app: InteractionApp,
  interaction: I,
  command: Command,
  trace: Trace,
  caller: Caller,
): { ctx: InteractionContext<I>; defer: (work: (f: Followup) => Promise<void>) => void } {
  const log = app.deps.log.child({ interaction: interaction.id, command: command.name });
  const followup = followupFor(app, interaction);
  const defer = (work: (f: Followup) => Promise<void>) => {
    trace.after.push(async () => {
      try {
        await work(followup);
      } catch (error) {
        if (replyGone(error)) {
          log.warn("deferred reply not delivered: Discord has no message to edit", { error });
          return;
        }
        log.error("deferred work failed", { error });
        await followup.editOriginal(
          failure(app.deps.log, interaction, error, trace.language).data ?? {},
        )
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
    user: caller.user,
    member: interaction.member,
    permissions: caller.permissions,
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
  if (guildOnlyOutsideGuild(interaction, cmd)) {
    trace.outcome = "refused";
    return reply.ephemeral(t(trace.language, "interaction.guild_only"));
  }
  const chat = interaction as APIChatInputApplicationCommandInteraction;
  const invocation = resolveInvocation(cmd, chat.data.options);
  if (!invocation) {
    trace.outcome = "unknown";
    return reply.ephemeral(t(trace.language, "interaction.unknown_subcommand", { command: name }));
  }
  const caller = callerOf(interaction);
  const refusal = bitsRefusal(
    interaction,
    cmd,
    trace.language,
    invocation.leaf.permissions,
    caller.permissions,
  );
  if (refusal) {
    trace.outcome = "refused";
    return reply.ephemeral(refusal);
  }
  // Bad options have no side effects: refused before the gate spends a cooldown use.
  const options = parseOptions(invocation.leaf, invocation.raw);
  const { user } = caller;
  const admission = await gate(app, {
    interactionId: interaction.id,
    userId: user.id,
    now: app.deps.clock.now(),
    claim: !cmd.readOnly,
    allowList: allowListFor(interaction, cmd, caller.permissions),
    cooldown: cmd.cooldown ? { command: name, userId: user.id, spec: cmd.cooldown } : undefined,
    language: trace.language,
  }, trace);
  if (!admission.ok) return admission.response;
  const ctx: CommandContext = {
    ...baseContext(app, chat, cmd, trace, caller).ctx,
    path: invocation.path,
    options,
    modal: (data) => reply.modal(data),
  };
  return await run(app, trace, ctx, () => invocation.leaf.handler(ctx));
}

/** Custom-ID check, route lookup, permission bits and gate shared by components and modals. */
async function admitRoute<H>(
  app: InteractionApp,
  interaction: APIMessageComponentInteraction | APIModalSubmitInteraction,
  lookup: (route: string) => { command: Command; handler: H } | undefined,
  trace: Trace,
  caller: Caller,
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
  const refusal = guarded
    ? bitsRefusal(interaction, found.command, trace.language, 0n, caller.permissions)
    : null;
  if (refusal) {
    trace.outcome = "refused";
    return { ok: false, response: reply.ephemeral(refusal) };
  }
  const admission = await gate(app, {
    interactionId: interaction.id,
    userId: caller.user.id,
    now: app.deps.clock.now(),
    claim: !found.command.readOnly,
    allowList: guarded ? allowListFor(interaction, found.command, caller.permissions) : undefined,
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
  const caller = callerOf(interaction);
  const found = await admitRoute(app, interaction, app.registry.component, trace, caller);
  if (!found.ok) return found.response;
  const base = baseContext(app, interaction, found.command, trace, caller);
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
  return await run(app, trace, ctx, () => found.handler(ctx));
}

async function modalSubmit(
  app: InteractionApp,
  interaction: APIModalSubmitInteraction,
  trace: Trace,
): Promise<APIInteractionResponse> {
  const caller = callerOf(interaction);
  const found = await admitRoute(app, interaction, app.registry.modal, trace, caller);
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
    ...baseContext(app, interaction, found.command, trace, caller).ctx,
    state: found.state,
    fields,
    update: (input) => reply.update(input),
  };
  return await run(app, trace, ctx, () => found.handler(ctx));
}
