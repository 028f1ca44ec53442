/**
 * Discord's OAuth2 endpoints: the authorize page (auto-approved as the user a test chose), the
 * token endpoint (authorization_code and refresh_token grants, form-encoded, client credentials
 * in the body or HTTP Basic) and token revocation. Errors follow RFC 6749 as Discord sends them.
 */
import { OAuthError, OAuthStore } from "./oauth.ts";
import type { EmulatorState } from "./state.ts";
import type { EmulatorStats } from "./stats.ts";

export const OAUTH_AUTHORIZE_PATH = "/oauth2/authorize";
export const OAUTH_TOKEN_PATH = "/oauth2/token";
export const OAUTH_REVOKE_PATH = "/oauth2/token/revoke";

export interface OAuthDeps {
  state: EmulatorState;
  stats: EmulatorStats;
  applicationId: string;
}

// --- authorize ----------------------------------------------------------------------------

const DESCRIPTIONS: Record<string, string> = {
  access_denied: "The resource owner or authorization server denied the request",
  invalid_scope: "The requested scope is invalid, unknown, or malformed.",
  unsupported_response_type:
    "The authorization server does not support obtaining an authorization code using this method.",
};

/**
 * GET /oauth2/authorize. A bad client_id or redirect_uri, or no user to approve as, gets an
 * HTML page (400), never a redirect; other errors redirect with error, error_description and
 * state; approval redirects with code and state.
 */
export function handleAuthorize(req: Request, url: URL, deps: OAuthDeps): Response {
  const { state, stats } = deps;
  const oauth = state.oauth;
  const q = url.searchParams;
  const log = (outcome: string) => {
    oauth.authorizeLog.push({ query: Object.fromEntries(q), at: state.now(), outcome });
    if (outcome === "code") stats.oauth.authorizations++;
    else stats.countAuthorizeError(outcome);
  };
  if (req.method !== "GET" && req.method !== "HEAD") {
    return page(405, "Method Not Allowed", "The authorize page only answers GET.");
  }

  const clientId = q.get("client_id");
  if (clientId !== deps.applicationId) {
    log("unknown_application");
    return page(400, "Unknown Application", `No application with client_id "${clientId ?? ""}".`);
  }
  const given = q.get("redirect_uri");
  const redirectUri = given ?? (oauth.redirectUris.size === 1 ? [...oauth.redirectUris][0] : null);
  if (redirectUri === null || !redirectAllowed(redirectUri, oauth.redirectUris)) {
    log("invalid_redirect_uri");
    return page(
      400,
      "Invalid OAuth2 redirect_uri",
      `Redirect URI "${given ?? ""}" is not allowed.`,
    );
  }

  const fail = (error: string) => {
    log(error);
    const params: Record<string, string> = { error, error_description: DESCRIPTIONS[error] };
    return redirect(redirectUri, params, q.get("state"));
  };
  if (q.get("response_type") !== "code") return fail("unsupported_response_type");
  const scopes = (q.get("scope") ?? "").split(" ").filter(Boolean);
  if (scopes.length === 0 || scopes.some((s) => !oauth.knownScopes.has(s))) {
    return fail("invalid_scope");
  }
  if (oauth.deny) return fail("access_denied");
  const userId = oauth.approver;
  if (userId === null) {
    log("no_user");
    return page(
      400,
      "No user to authorize as",
      "The emulator approves OAuth2 requests as the user a test chose: call " +
        "emu.state.oauth.approveAs(userId) first, or set emu.state.oauth.deny = true.",
    );
  }
  const code = oauth.issueCode(userId, [...new Set(scopes)], redirectUri, given !== null);
  log("code");
  return redirect(redirectUri, { code }, q.get("state"));
}

function redirectAllowed(uri: string, registered: Set<string>): boolean {
  if (registered.size > 0) return registered.has(uri);
  try {
    const u = new URL(uri);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function redirect(uri: string, params: Record<string, string>, state: string | null): Response {
  const target = new URL(uri);
  for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
  if (state !== null) target.searchParams.set("state", state);
  return new Response(null, { status: 302, headers: { location: target.toString() } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, text: string): Response {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${
    escapeHtml(title)
  } | Discord (emulator)</title></head><body><h1>${escapeHtml(title)}</h1><p>${
    escapeHtml(text)
  }</p></body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}

// --- token and revoke ---------------------------------------------------------------------

export interface OAuthReply {
  status: number;
  body: unknown;
}

/** POST /oauth2/token or /oauth2/token/revoke, given the raw body. */
export function handleTokenEndpoint(
  path: string,
  headers: Headers,
  bodyText: string,
  deps: OAuthDeps,
): OAuthReply {
  const { stats } = deps;
  const type = headers.get("content-type") ?? "";
  const form = type.toLowerCase().startsWith("application/x-www-form-urlencoded")
    ? new URLSearchParams(bodyText)
    : new URLSearchParams();
  try {
    return path === OAUTH_REVOKE_PATH ? revoke(headers, form, deps) : token(headers, form, deps);
  } catch (e) {
    if (!(e instanceof OAuthError)) throw e;
    stats.countOAuthFailure(e.error);
    return { status: e.status, body: e.body() };
  }
}

function token(headers: Headers, form: URLSearchParams, deps: OAuthDeps): OAuthReply {
  const { state, stats } = deps;
  const oauth = state.oauth;
  const grantType = form.get("grant_type");
  if (grantType !== "authorization_code" && grantType !== "refresh_token") {
    throw new OAuthError(400, "unsupported_grant_type");
  }
  authenticateClient(headers, form, deps);
  let grant;
  if (grantType === "authorization_code") {
    const code = form.get("code");
    if (!code) throw new OAuthError(400, "invalid_request", 'Missing "code" in request.');
    grant = oauth.exchangeCode(code, form.get("redirect_uri"));
    stats.oauth.tokenExchanges++;
  } else {
    const refresh = form.get("refresh_token");
    if (!refresh) {
      throw new OAuthError(400, "invalid_request", 'Missing "refresh_token" in request.');
    }
    grant = oauth.refresh(refresh);
    stats.oauth.refreshes++;
  }
  return { status: 200, body: OAuthStore.response(grant, oauth.accessTokenLifetimeS) };
}

function revoke(headers: Headers, form: URLSearchParams, deps: OAuthDeps): OAuthReply {
  authenticateClient(headers, form, deps);
  const value = form.get("token");
  if (!value) throw new OAuthError(400, "invalid_request", 'Missing "token" in request.');
  // RFC 7009: an unknown token is not an error.
  if (deps.state.oauth.revokeToken(value)) deps.stats.oauth.revocations++;
  return { status: 200, body: {} };
}

/** Client id and secret from HTTP Basic or the body; wrong or missing: 401 invalid_client. */
function authenticateClient(headers: Headers, form: URLSearchParams, deps: OAuthDeps): void {
  let id = form.get("client_id");
  let secret = form.get("client_secret");
  const auth = headers.get("authorization");
  if (auth && /^basic\s+/i.test(auth)) {
    try {
      const decoded = atob(auth.replace(/^basic\s+/i, "").trim());
      const i = decoded.indexOf(":");
      id = i < 0 ? null : decodeURIComponent(decoded.slice(0, i));
      secret = i < 0 ? null : decodeURIComponent(decoded.slice(i + 1));
    } catch {
      id = secret = null;
    }
  }
  if (id !== deps.applicationId || secret !== deps.state.oauth.clientSecret) {
    throw new OAuthError(401, "invalid_client");
  }
}
