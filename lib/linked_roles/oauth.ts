/**
 * The user side of Discord for linked roles: the OAuth2 authorize URL, the code exchange and the
 * refresh at `{DISCORD_API_BASE}/oauth2/token`, and the two calls made with a user's bearer token
 * (`GET /users/@me`, `PUT /users/@me/applications/{app}/role-connection`). Bearer calls are limited
 * per user by Discord: a 429 waits its `retry_after` (bounded) and tries again; the bot's REST
 * client, which holds the bot token and the bot's global budget, is not involved.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { parseRateLimitHeaders, readRateLimit } from "../discord/response.ts";
import type { Metadata } from "./metadata.ts";

export const SCOPES = ["identify", "role_connections.write"] as const;
/** The longest a bearer call waits out a 429 before giving up. */
const MAX_RETRY_WAIT_MS = 10_000;

/** What the OAuth calls use of the app's deps (an `AppDeps` is one). */
export interface OAuthDeps {
  config: Pick<Config, "discord" | "linkedRoles">;
  fetch: typeof fetch;
  /** Waits out a 429. */
  clock: Pick<Clock, "now" | "sleep">;
}

const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
  refresh_token: z.string().min(1),
  scope: z.string(),
});

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
  scopes: string[];
}

const userSchema = z.object({
  id: z.string().regex(/^\d{17,20}$/),
  username: z.string(),
  global_name: z.string().nullable().optional(),
});
export type DiscordUser = z.infer<typeof userSchema>;

/** The grant is gone (revoked, expired, used): the user must connect again. */
export class InvalidGrantError extends Error {
  constructor(detail: string) {
    super(`Discord refused the grant: ${detail}`);
    this.name = "InvalidGrantError";
  }
}

/** The access token was refused (401): refresh it, or the grant is gone. */
export class UnauthorizedError extends Error {
  constructor() {
    super("Discord refused the user's access token");
    this.name = "UnauthorizedError";
  }
}

/** Discord failed or answered something unexpected (5xx, a 429 past the wait, a bad body). */
export class DiscordOAuthError extends Error {
  constructor(what: string, readonly status: number, detail = "") {
    super(`${what}: Discord answered ${status}${detail ? ` (${detail})` : ""}`);
    this.name = "DiscordOAuthError";
  }
}

/** Where the connect page sends the browser. */
export function authorizeUrl(config: OAuthDeps["config"], state: string): string {
  const u = new URL(config.linkedRoles.authorizeUrl);
  u.searchParams.set("client_id", config.linkedRoles.clientId);
  u.searchParams.set("redirect_uri", config.linkedRoles.redirectUri!);
  u.searchParams.set("response_type", "code");
  u.searchParams.set("scope", SCOPES.join(" "));
  u.searchParams.set("state", state);
  u.searchParams.set("prompt", "consent");
  return u.toString();
}

/** A form POST to Discord's OAuth2 endpoints, with the app's client credentials. */
function postForm(deps: OAuthDeps, path: string, form: Record<string, string>): Promise<Response> {
  const { linkedRoles, discord } = deps.config;
  return deps.fetch(`${discord.apiBase}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      ...form,
      client_id: linkedRoles.clientId,
      client_secret: linkedRoles.clientSecret ?? "",
    }),
  });
}

async function tokenCall(deps: OAuthDeps, form: Record<string, string>, now: number) {
  const res = await postForm(deps, "/oauth2/token", form);
  const body = await res.json().catch(() => null) as { error?: string } | null;
  if (res.status === 400 && body?.error === "invalid_grant") {
    throw new InvalidGrantError(
      String((body as { error_description?: string }).error_description ?? "invalid_grant"),
    );
  }
  if (!res.ok) throw new DiscordOAuthError("token exchange", res.status, body?.error ?? "");
  const t = tokenSchema.safeParse(body);
  if (!t.success) throw new DiscordOAuthError("token exchange", res.status, "unexpected body");
  return {
    accessToken: t.data.access_token,
    refreshToken: t.data.refresh_token,
    expiresAt: now + t.data.expires_in * 1000,
    scopes: t.data.scope.split(" ").filter(Boolean),
  } satisfies Tokens;
}

export function exchangeCode(deps: OAuthDeps, code: string, now: number): Promise<Tokens> {
  return tokenCall(deps, {
    grant_type: "authorization_code",
    code,
    redirect_uri: deps.config.linkedRoles.redirectUri!,
  }, now);
}

export function refreshTokens(deps: OAuthDeps, refreshToken: string, now: number): Promise<Tokens> {
  return tokenCall(deps, { grant_type: "refresh_token", refresh_token: refreshToken }, now);
}

/** A bearer call, waiting out 429s up to MAX_RETRY_WAIT_MS in all. */
async function bearer(
  deps: OAuthDeps,
  what: string,
  accessToken: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  let waited = 0;
  for (;;) {
    const res = await deps.fetch(`${deps.config.discord.apiBase}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) {
      await res.body?.cancel();
      throw new UnauthorizedError();
    }
    if (res.status === 429) {
      // Read as the bot's REST client reads a 429: the body's retry_after, else the headers.
      const info = parseRateLimitHeaders(res.headers, deps.clock.now());
      const wait = readRateLimit(info, await res.json().catch(() => null)).retryAfterMs;
      if (waited + wait > MAX_RETRY_WAIT_MS) throw new DiscordOAuthError(what, 429, "rate limited");
      waited += wait;
      await deps.clock.sleep(wait);
      continue;
    }
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      const detail = (json as { message?: string } | null)?.message ?? "";
      throw new DiscordOAuthError(what, res.status, detail);
    }
    return json;
  }
}

export async function currentUser(deps: OAuthDeps, accessToken: string): Promise<DiscordUser> {
  const raw = await bearer(deps, "reading the user", accessToken, "GET", "/users/@me");
  const u = userSchema.safeParse(raw);
  if (!u.success) throw new DiscordOAuthError("reading the user", 200, "unexpected body");
  return u.data;
}

/** The platform name Discord shows beside a linked user's role connection. */
export const PLATFORM_NAME = "Ethos";

export interface RoleConnection {
  platform_name: string;
  platform_username: string | null;
  metadata: Metadata;
}

/** The body every push sends: this platform, the user's Ethos name (if any), their metadata. */
export function roleConnection(
  platformUsername: string | null,
  metadata: Metadata,
): RoleConnection {
  return { platform_name: PLATFORM_NAME, platform_username: platformUsername, metadata };
}

export async function pushRoleConnection(
  deps: OAuthDeps,
  accessToken: string,
  connection: RoleConnection,
): Promise<void> {
  const app = encodeURIComponent(deps.config.discord.applicationId);
  await bearer(
    deps,
    "updating the role connection",
    accessToken,
    "PUT",
    `/users/@me/applications/${app}/role-connection`,
    connection,
  );
}

/** Revokes a token (and its pair) at Discord; best effort (a failure is the caller's to log). */
export async function revokeToken(deps: OAuthDeps, token: string): Promise<void> {
  const res = await postForm(deps, "/oauth2/token/revoke", {
    token,
    token_type_hint: "refresh_token",
  });
  await res.body?.cancel();
  if (!res.ok) throw new DiscordOAuthError("revoking a token", res.status);
}
