/**
 * Linked Roles routes: the application's role connection metadata records (bot token) and the
 * user's role connection (the user's OAuth2 bearer token with role_connections.write).
 */
import { type Ctx, type DiscordRoute, noContent, ok, route, snowflakeParam } from "./context.ts";
import { missingAccess } from "./errors.ts";

export const ROLE_CONNECTION_SCOPE = "role_connections.write";
const METADATA = "/applications/:app/role-connections/metadata";
const CONNECTION = "/users/@me/applications/:app/role-connection";

export function roleConnectionRoutes(): DiscordRoute[] {
  const user = { auth: "bearer", scope: ROLE_CONNECTION_SCOPE } as const;
  return [
    route("GET", METADATA, getMetadata),
    route("PUT", METADATA, putMetadata),
    route("GET", CONNECTION, getConnection, user),
    route("PUT", CONNECTION, putConnection, { ...user, bucket: "roleConnection" }),
    route("DELETE", CONNECTION, deleteConnection, user),
  ];
}

/** The application in the path; other applications' are out of reach, as for commands. */
function appOf(ctx: Ctx): string {
  const app = snowflakeParam(ctx.params.app, "application_id");
  if (app !== ctx.applicationId) throw missingAccess();
  return app;
}

function getMetadata(ctx: Ctx) {
  appOf(ctx);
  return ok(ctx.state.roleConnections.metadata());
}

function putMetadata(ctx: Ctx) {
  appOf(ctx);
  return ok(ctx.state.roleConnections.setMetadata(ctx.body));
}

function getConnection(ctx: Ctx) {
  appOf(ctx);
  return ok(ctx.state.roleConnections.connectionOrEmpty(ctx.bearer!.userId));
}

function putConnection(ctx: Ctx) {
  appOf(ctx);
  const userId = ctx.bearer!.userId;
  const connection = ctx.state.roleConnections.put(userId, ctx.body);
  ctx.stats.roleConnectionPuts.push({ userId, at: ctx.state.now(), body: ctx.body });
  return ok(connection);
}

function deleteConnection(ctx: Ctx) {
  appOf(ctx);
  ctx.state.roleConnections.delete(ctx.bearer!.userId);
  return noContent();
}
