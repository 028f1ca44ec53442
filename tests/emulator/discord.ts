/**
 * The Discord REST pipeline, in the order Discord applies it: invalid-request ban, routing,
 * token check, global limit, route bucket, then the handler. Every answer on a route carries
 * the bucket headers; every 401, 403 and non-shared 429 counts toward the ban.
 *
 * Routes take the bot token, a user's OAuth2 bearer token or either (context.ts RouteAuth). A
 * bearer request's global limit and buckets are its user's; a route's OAuth2 scope missing from
 * the token answers 403 50001. The OAuth2 token endpoints (routes_oauth.ts) take client
 * credentials instead and sit before the router.
 */
import type { Ctx, DiscordRoute, Reply } from "./context.ts";
import { DiscordError, invalidJson, missingAccess } from "./errors.ts";
import type { FaultInjector } from "./faults.ts";
import { Router } from "./router.ts";
import { channelRoutes } from "./routes_channels.ts";
import { commandRoutes } from "./routes_commands.ts";
import { guildRoutes } from "./routes_guild.ts";
import { interactionRoutes } from "./routes_interactions.ts";
import { memberRoutes } from "./routes_members.ts";
import { handleTokenEndpoint, OAUTH_REVOKE_PATH, OAUTH_TOKEN_PATH } from "./routes_oauth.ts";
import { roleConnectionRoutes } from "./routes_role_connections.ts";
import type { OAuthGrant } from "./oauth.ts";
import type { BucketState, InvalidRequestTracker, RateLimiter } from "./ratelimit.ts";
import type { EmulatorState } from "./state.ts";
import type { EmulatorStats, RateLimitScope } from "./stats.ts";

export const DISCORD_PREFIX = "/api/v10";

export interface DiscordDeps {
  state: EmulatorState;
  stats: EmulatorStats;
  limiter: RateLimiter;
  invalid: InvalidRequestTracker;
  faults: FaultInjector;
  token: string;
  applicationId: string;
  botUserId: string;
  sleep: (ms: number) => Promise<void>;
}

const JSON_TYPE = "application/json";
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function buildRouter(): Router<DiscordRoute> {
  const router = new Router<DiscordRoute>();
  for (
    const r of [
      ...guildRoutes(),
      ...memberRoutes(),
      ...channelRoutes(),
      ...commandRoutes(),
      ...interactionRoutes(),
      ...roleConnectionRoutes(),
    ]
  ) router.add(r);
  return router;
}

type Headers = Record<string, string>;

function respond(status: number, body: unknown, headers: Headers = {}): Response {
  if (status === 204 || body === undefined) return new Response(null, { status, headers });
  headers["content-type"] = JSON_TYPE;
  return new Response(JSON.stringify(body), { status, headers });
}

function bucketHeaders(s: BucketState, now: number, h: Headers = {}): Headers {
  h["x-ratelimit-limit"] = String(s.limit);
  h["x-ratelimit-remaining"] = String(s.remaining);
  h["x-ratelimit-reset"] = (s.resetAt / 1000).toFixed(3);
  h["x-ratelimit-reset-after"] = (Math.max(0, s.resetAt - now) / 1000).toFixed(3);
  h["x-ratelimit-bucket"] = s.bucket;
  return h;
}

function seconds(ms: number): number {
  return Math.round(Math.max(0, ms)) / 1000;
}

export function createDiscordHandler(
  deps: DiscordDeps,
): (req: Request, url: URL) => Promise<Response> {
  const { state, stats, limiter, invalid, faults } = deps;
  const router = buildRouter();
  const authorization = `Bot ${deps.token}`;

  const finish = (res: Response): Response => {
    stats.countStatus(res.status);
    return res;
  };
  const countInvalid = () => {
    invalid.record();
    stats.invalidRequests++;
  };
  const rateLimited = (
    scope: RateLimitScope,
    route: string,
    retryMs: number,
    headers: Headers,
  ): Response => {
    stats.countRateLimited(scope, route);
    if (scope !== "shared") countInvalid();
    const retryAfter = seconds(retryMs);
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfter)));
    headers["x-ratelimit-scope"] = scope;
    if (scope === "global") headers["x-ratelimit-global"] = "true";
    return finish(respond(429, {
      message: "You are being rate limited.",
      retry_after: retryAfter,
      global: scope === "global",
    }, headers));
  };

  /** POST /oauth2/token and /oauth2/token/revoke: client credentials, one bucket per endpoint. */
  const tokenEndpoint = (req: Request, path: string, bodyText: string): Response => {
    const key = `POST ${path}`;
    stats.countRequest(key);
    if (req.method !== "POST") {
      return finish(respond(405, { message: "405: Method Not Allowed", code: 0 }));
    }
    const bucket = limiter.take("default", key, "");
    const now = state.now();
    const headers = bucketHeaders(bucket, now);
    if (!bucket.allowed) return rateLimited("user", key, bucket.resetAt - now, headers);
    const reply = handleTokenEndpoint(path, req.headers, bodyText, {
      state,
      stats,
      applicationId: deps.applicationId,
    });
    if (reply.status === 401) countInvalid();
    return finish(respond(reply.status, reply.body, headers));
  };

  return async (req, url) => {
    const bodyText = MUTATING.has(req.method) ? await req.text() : "";
    if (faults.latencyMs > 0) await deps.sleep(faults.latencyMs);

    if (invalid.banned()) {
      // Cloudflare's ban: no Discord JSON and no rate-limit headers.
      stats.bannedRequests++;
      return finish(
        new Response("error code: 1015", {
          status: 429,
          headers: { "content-type": "text/plain; charset=UTF-8" },
        }),
      );
    }

    let path = url.pathname.slice(DISCORD_PREFIX.length);
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    if (path === OAUTH_TOKEN_PATH || path === OAUTH_REVOKE_PATH) {
      return tokenEndpoint(req, path, bodyText);
    }
    const match = router.match(req.method, path);
    if (match.kind !== "found") {
      stats.countRequest("unknown");
      return finish(
        match.kind === "not-found"
          ? respond(404, { message: "404: Not Found", code: 0 })
          : respond(405, { message: "405: Method Not Allowed", code: 0 }),
      );
    }
    const { route, params } = match;
    stats.countRequest(route.key);

    let bearer: OAuthGrant | undefined;
    if (route.auth !== "none") {
      const header = req.headers.get("authorization") ?? "";
      const bot = header === authorization && route.auth !== "bearer";
      const scheme = /^bearer\s+/i.exec(header);
      if (!bot && scheme && route.auth !== "bot") {
        bearer = state.oauth.authenticate(header.slice(scheme[0].length).trim());
        if (!bearer) stats.oauth.bearerRejected++;
      }
      if (!bot && !bearer) {
        countInvalid();
        return finish(respond(401, { message: "401: Unauthorized", code: 0 }));
      }
    }

    const routeMajor = route.major.map((p) => params[p]).join(":");
    const major = bearer
      ? `user:${bearer.userId}${routeMajor ? ":" + routeMajor : ""}`
      : routeMajor;
    const forced = state.takeForced429(route.key);
    if (forced) {
      const peek = limiter.take(route.bucket, route.key, major, false);
      const headers = forced.scope === "global" ? {} : bucketHeaders(peek, state.now());
      if (forced.scope === "user") headers["x-ratelimit-remaining"] = "0";
      return rateLimited(forced.scope, route.key, forced.retryAfter * 1000, headers);
    }

    if (!route.interaction) {
      const wait = limiter.takeGlobal(bearer ? `user:${bearer.userId}` : deps.token);
      if (wait > 0) return rateLimited("global", route.key, wait, {});
    }

    const bucket = limiter.take(route.bucket, route.key, major);
    const now = state.now();
    const headers = bucketHeaders(bucket, now);
    if (!bucket.allowed) return rateLimited("user", route.key, bucket.resetAt - now, headers);

    if (!route.interaction) {
      const fault = faults.roll();
      if (fault) {
        stats.faults++;
        return finish(
          fault === 500
            ? respond(500, { message: "500: Internal Server Error", code: 0 }, headers)
            : new Response("<html><body><h1>502 Bad Gateway</h1></body></html>", {
              status: 502,
              headers: { "content-type": "text/html" },
            }),
        );
      }
    }

    let reply: Reply;
    let body: unknown;
    try {
      if (bearer && route.scope && !bearer.scopes.includes(route.scope)) throw missingAccess();
      body = parseBody(req, bodyText);
      const ctx: Ctx = {
        state,
        limits: limiter.limits,
        method: req.method,
        path,
        params,
        query: url.searchParams,
        body,
        reason: auditReason(req),
        botUserId: deps.botUserId,
        applicationId: deps.applicationId,
        stats,
        ...(bearer ? { bearer } : {}),
      };
      reply = route.handler(ctx);
      if (MUTATING.has(req.method) && !route.interaction && reply.status < 300) {
        stats.writes.push({
          method: req.method,
          route: route.key,
          path,
          body,
          reason: ctx.reason,
          at: now,
          ...(ctx.rolesChange
            ? { rolesBefore: ctx.rolesChange.before, rolesAfter: ctx.rolesChange.after }
            : {}),
        });
      }
    } catch (e) {
      if (!(e instanceof DiscordError)) throw e;
      reply = { status: e.status, body: e.body() };
      if (e.status === 429) {
        const retry = Number(e.extra?.retry_after ?? 1);
        headers["retry-after"] = String(Math.max(1, Math.ceil(retry)));
        headers["x-ratelimit-scope"] = "user";
        stats.countRateLimited("user", route.key);
      }
      if (e.status === 401 || e.status === 403 || e.status === 429) countInvalid();
    }
    return finish(respond(reply.status, reply.body, headers));
  };
}

/** JSON bodies only, as Discord reads them; other content types count as no body. */
function parseBody(req: Request, text: string): unknown {
  if (text.length === 0) return undefined;
  const type = req.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith(JSON_TYPE)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw invalidJson();
  }
}

function auditReason(req: Request): string | null {
  const raw = req.headers.get("x-audit-log-reason");
  if (raw === null) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
