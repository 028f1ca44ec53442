/**
 * Discord's OAuth2 authorization-code grant as the emulator keeps it: codes (single use, 10
 * minutes), access tokens (7 days) each paired with a refresh token that rotates on use, and the
 * controls tests use (who approves, registered redirect URIs, client secret, early expiry,
 * revocation). The HTTP side lives in routes_oauth.ts.
 */

export const DEFAULT_CLIENT_SECRET = "emulator-client-secret-0123456789";
/** Seconds, the `expires_in` Discord answers. */
export const ACCESS_TOKEN_LIFETIME_S = 604_800;
export const CODE_LIFETIME_MS = 600_000;
export const OAUTH_SCOPES = ["identify", "role_connections.write"] as const;

/** One access token with its refresh token: what a code exchange or a refresh hands out. */
export interface OAuthGrant {
  accessToken: string;
  refreshToken: string;
  userId: string;
  scopes: string[];
  issuedAt: number;
  /** Epoch ms from which the access token answers 401. */
  expiresAt: number;
}

/** Discord's token endpoint answer. */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** An OAuth2 error answer (RFC 6749 section 5.2), as Discord sends it. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    readonly description?: string,
  ) {
    super(description ?? error);
  }

  body(): { error: string; error_description?: string } {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }
}

interface CodeRecord {
  userId: string;
  scopes: string[];
  redirectUri: string;
  /** Whether the authorize request named the redirect URI (then the exchange must repeat it). */
  redirectUriGiven: boolean;
  expiresAt: number;
  used: boolean;
}

/** One authorize request, as tests may want to check what the bot sent. */
export interface AuthorizeRecord {
  query: Record<string, string>;
  at: number;
  /** "code" when approved, else the error ("access_denied", "invalid_scope", "no_user", ...). */
  outcome: string;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** 30 random alphanumerics, the shape of Discord's codes and tokens. */
export function randomToken(length = 30): string {
  let out = "";
  for (const b of crypto.getRandomValues(new Uint8Array(length))) out += ALPHABET[b % 62];
  return out;
}

export class OAuthStore {
  /** The client secret the token endpoint accepts. */
  clientSecret = DEFAULT_CLIENT_SECRET;
  /** Registered redirect URIs; empty accepts any http(s) URI. */
  readonly redirectUris = new Set<string>();
  /** Scopes the authorize endpoint accepts; others answer invalid_scope. */
  readonly knownScopes = new Set<string>(OAUTH_SCOPES);
  /** true: the authorize endpoint redirects with error=access_denied, as when the user cancels. */
  deny = false;
  codeLifetimeMs = CODE_LIFETIME_MS;
  accessTokenLifetimeS = ACCESS_TOKEN_LIFETIME_S;
  /** Authorize requests, oldest first. */
  readonly authorizeLog: AuthorizeRecord[] = [];

  #approver: string | null = null;
  readonly #codes = new Map<string, CodeRecord>();
  readonly #byAccess = new Map<string, OAuthGrant>();
  readonly #byRefresh = new Map<string, OAuthGrant>();
  readonly #byUser = new Map<string, Set<OAuthGrant>>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The user the authorize endpoint approves as (null: nobody, the page says so). */
  approveAs(userId: string | null): void {
    this.#approver = userId;
    if (userId !== null) this.deny = false;
  }

  get approver(): string | null {
    return this.#approver;
  }

  /** Issues a code, as an approved authorize request does. */
  issueCode(
    userId: string,
    scopes: string[],
    redirectUri: string,
    redirectUriGiven = true,
  ): string {
    const code = randomToken();
    this.#codes.set(code, {
      userId,
      scopes: [...scopes],
      redirectUri,
      redirectUriGiven,
      expiresAt: this.#now() + this.codeLifetimeMs,
      used: false,
    });
    return code;
  }

  /** grant_type=authorization_code. Throws OAuthError invalid_grant as Discord answers it. */
  exchangeCode(code: string, redirectUri: string | null): OAuthGrant {
    const record = this.#codes.get(code);
    if (!record || record.used || this.#now() >= record.expiresAt) {
      throw new OAuthError(400, "invalid_grant", 'Invalid "code" in request.');
    }
    const mismatch = redirectUri === null
      ? record.redirectUriGiven
      : redirectUri !== record.redirectUri;
    if (mismatch) throw new OAuthError(400, "invalid_grant", 'Invalid "redirect_uri" in request.');
    record.used = true;
    this.#codes.delete(code);
    return this.issueTokens(record.userId, record.scopes);
  }

  /**
   * grant_type=refresh_token: a new access and refresh token with the same scopes; the old pair
   * stops working.
   */
  refresh(refreshToken: string): OAuthGrant {
    const old = this.#byRefresh.get(refreshToken);
    if (!old) throw new OAuthError(400, "invalid_grant", 'Invalid "refresh_token" in request.');
    this.#drop(old);
    return this.issueTokens(old.userId, old.scopes);
  }

  /** A fresh token pair for the user, without the authorize round trip (test setup). */
  issueTokens(userId: string, scopes: readonly string[] = OAUTH_SCOPES): OAuthGrant {
    const now = this.#now();
    const grant: OAuthGrant = {
      accessToken: randomToken(),
      refreshToken: randomToken(),
      userId,
      scopes: [...scopes],
      issuedAt: now,
      expiresAt: now + this.accessTokenLifetimeS * 1000,
    };
    this.#byAccess.set(grant.accessToken, grant);
    this.#byRefresh.set(grant.refreshToken, grant);
    let set = this.#byUser.get(userId);
    if (!set) this.#byUser.set(userId, set = new Set());
    set.add(grant);
    return grant;
  }

  /** The grant behind a live access token; undefined when unknown, expired or revoked. */
  authenticate(accessToken: string): OAuthGrant | undefined {
    const grant = this.#byAccess.get(accessToken);
    return grant && this.#now() < grant.expiresAt ? grant : undefined;
  }

  /** Makes an access token expired now; its refresh token still works. */
  expire(accessToken: string): boolean {
    const grant = this.#byAccess.get(accessToken);
    if (!grant) return false;
    grant.expiresAt = Math.min(grant.expiresAt, this.#now());
    return true;
  }

  /** Withdraws the user's authorization: every access and refresh token of theirs stops. */
  revoke(userId: string): number {
    const set = this.#byUser.get(userId);
    if (!set) return 0;
    const n = set.size;
    for (const grant of [...set]) this.#drop(grant);
    for (const [code, record] of this.#codes) {
      if (record.userId === userId) this.#codes.delete(code);
    }
    return n;
  }

  /** Revokes the pair an access or refresh token belongs to (POST /oauth2/token/revoke). */
  revokeToken(token: string): boolean {
    const grant = this.#byAccess.get(token) ?? this.#byRefresh.get(token);
    if (!grant) return false;
    this.#drop(grant);
    return true;
  }

  /** The user's current token pairs (expired access tokens included: they can refresh). */
  grants(userId: string): OAuthGrant[] {
    return [...this.#byUser.get(userId) ?? []];
  }

  static response(grant: OAuthGrant, lifetimeS: number): TokenResponse {
    return {
      access_token: grant.accessToken,
      token_type: "Bearer",
      expires_in: lifetimeS,
      refresh_token: grant.refreshToken,
      scope: grant.scopes.join(" "),
    };
  }

  #drop(grant: OAuthGrant): void {
    this.#byAccess.delete(grant.accessToken);
    this.#byRefresh.delete(grant.refreshToken);
    const set = this.#byUser.get(grant.userId);
    set?.delete(grant);
    if (set?.size === 0) this.#byUser.delete(grant.userId);
  }
}
