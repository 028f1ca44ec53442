/** Application command routes, global and per guild. */
import { withoutLocalizations } from "./commands.ts";
import {
  type Ctx,
  type DiscordRoute,
  guildOf,
  noContent,
  ok,
  route,
  snowflakeParam,
} from "./context.ts";
import { missingAccess, unknownCommand } from "./errors.ts";

export function commandRoutes(): DiscordRoute[] {
  const routes: DiscordRoute[] = [];
  for (const base of ["/applications/:app/commands", "/applications/:app/guilds/:guild/commands"]) {
    routes.push(
      route("GET", base, list),
      route("PUT", base, bulkOverwrite),
      route("POST", base, create),
      route("GET", `${base}/:command`, getOne),
      route("PATCH", `${base}/:command`, edit),
      route("DELETE", `${base}/:command`, remove),
    );
  }
  return routes;
}

/** The command scope of the request; other applications' commands are out of reach. */
function scopeOf(ctx: Ctx): string {
  const app = snowflakeParam(ctx.params.app, "application_id");
  if (app !== ctx.applicationId) throw missingAccess();
  return ctx.params.guild === undefined ? ctx.state.commandScope() : guildOf(ctx).id;
}

function list(ctx: Ctx) {
  const commands = ctx.state.commands.list(scopeOf(ctx));
  const full = ctx.query.get("with_localizations") === "true";
  return ok(full ? commands : commands.map(withoutLocalizations));
}

function bulkOverwrite(ctx: Ctx) {
  const scope = scopeOf(ctx);
  return ok(ctx.state.commands.bulkOverwrite(scope, ctx.body, ctx.limits.commandCreatesPerDay));
}

function create(ctx: Ctx) {
  const scope = scopeOf(ctx);
  const { command, created } = ctx.state.commands.create(
    scope,
    ctx.body,
    ctx.limits.commandCreatesPerDay,
  );
  return ok(command, created ? 201 : 200);
}

function commandId(ctx: Ctx): string {
  return snowflakeParam(ctx.params.command, "command_id");
}

function getOne(ctx: Ctx) {
  const command = ctx.state.commands.get(scopeOf(ctx), commandId(ctx));
  if (!command) throw unknownCommand();
  return ok(command);
}

function edit(ctx: Ctx) {
  const scope = scopeOf(ctx);
  return ok(ctx.state.commands.edit(scope, commandId(ctx), ctx.body));
}

function remove(ctx: Ctx) {
  const scope = scopeOf(ctx);
  ctx.state.commands.delete(scope, commandId(ctx));
  return noContent();
}
