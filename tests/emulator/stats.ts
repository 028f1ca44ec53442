/** Counters and the write log that tests and benchmarks assert on. */

export type RateLimitScope = "user" | "global" | "shared";

export interface WriteRecord {
  method: string;
  /** Route key, e.g. "PATCH /guilds/:guild/members/:user". */
  route: string;
  /** Path after /api/v10, e.g. "/guilds/1/members/2". */
  path: string;
  body: unknown;
  /** Decoded X-Audit-Log-Reason, or null. */
  reason: string | null;
  /** Epoch ms. */
  at: number;
  /** Member role writes only: the member's roles before and after, sorted. */
  rolesBefore?: string[];
  rolesAfter?: string[];
}

/** One successful PUT /users/@me/applications/{app}/role-connection. */
export interface RoleConnectionPut {
  userId: string;
  /** Epoch ms. */
  at: number;
  /** The request body as sent. */
  body: unknown;
}

export interface OAuthStats {
  /** Codes issued by the authorize endpoint. */
  authorizations: number;
  /** Authorize requests refused, by error ("access_denied", "invalid_scope", "no_user", ...). */
  authorizeErrors: Record<string, number>;
  /** Codes exchanged for tokens. */
  tokenExchanges: number;
  /** Refresh-token grants. */
  refreshes: number;
  /** POST /oauth2/token/revoke calls that revoked a token pair. */
  revocations: number;
  /** Token endpoint failures by OAuth error ("invalid_grant", "invalid_client", ...). */
  failures: Record<string, number>;
  /** Bearer requests answered 401 (unknown, expired or revoked access token). */
  bearerRejected: number;
}

function emptyOAuthStats(): OAuthStats {
  return {
    authorizations: 0,
    authorizeErrors: {},
    tokenExchanges: 0,
    refreshes: 0,
    revocations: 0,
    failures: {},
    bearerRejected: 0,
  };
}

export class EmulatorStats {
  /** Discord requests per route key (unknown routes under "unknown"). */
  requests: Record<string, number> = {};
  /** Discord responses by status. */
  statuses: Record<number, number> = {};
  /** Discord 429s by X-RateLimit-Scope. */
  rateLimited: Record<RateLimitScope, number> = { user: 0, global: 0, shared: 0 };
  /** Discord 429s by "scope route key", to tell which limit was overrun. */
  rateLimitedRoutes: Record<string, number> = {};
  /** Successful mutating Discord requests, oldest first (interaction routes excluded). */
  writes: WriteRecord[] = [];
  /** 401, 403 and non-shared 429 answers, as Discord counts them toward the ban. */
  invalidRequests = 0;
  /** Requests refused because the invalid-request ban was in force. */
  bannedRequests = 0;
  /** Injected 500/502 faults. */
  faults = 0;
  /** Ethos calls per endpoint, e.g. "POST /score/userkeys". */
  ethosCalls: Record<string, number> = {};
  /** X-Ethos-Client values seen, with counts ("" when the header was missing). */
  ethosClients: Record<string, number> = {};
  /** Userkeys asked for across all bulk calls. */
  ethosUserkeysRequested = 0;
  /** OAuth2 authorize and token endpoint counters. */
  oauth: OAuthStats = emptyOAuthStats();
  /** Successful role-connection PUTs, oldest first. */
  roleConnectionPuts: RoleConnectionPut[] = [];

  /** One user's role-connection PUTs. */
  roleConnectionPutsBy(userId: string): RoleConnectionPut[] {
    return this.roleConnectionPuts.filter((p) => p.userId === userId);
  }

  countOAuthFailure(error: string): void {
    this.oauth.failures[error] = (this.oauth.failures[error] ?? 0) + 1;
  }

  countAuthorizeError(error: string): void {
    this.oauth.authorizeErrors[error] = (this.oauth.authorizeErrors[error] ?? 0) + 1;
  }

  get totalRequests(): number {
    let n = 0;
    for (const v of Object.values(this.requests)) n += v;
    return n;
  }

  /** Writes to one route key. */
  writesTo(route: string): WriteRecord[] {
    return this.writes.filter((w) => w.route === route);
  }

  /** Member role writes that changed nothing. */
  noopRoleWrites(): WriteRecord[] {
    return this.writes.filter((w) =>
      w.rolesBefore !== undefined && w.rolesAfter !== undefined &&
      w.rolesBefore.join(",") === w.rolesAfter.join(",")
    );
  }

  countRequest(route: string): void {
    this.requests[route] = (this.requests[route] ?? 0) + 1;
  }

  countRateLimited(scope: RateLimitScope, route: string): void {
    this.rateLimited[scope]++;
    const key = `${scope} ${route}`;
    this.rateLimitedRoutes[key] = (this.rateLimitedRoutes[key] ?? 0) + 1;
  }

  countStatus(status: number): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  reset(): void {
    this.requests = {};
    this.statuses = {};
    this.rateLimited = { user: 0, global: 0, shared: 0 };
    this.rateLimitedRoutes = {};
    this.writes = [];
    this.invalidRequests = 0;
    this.bannedRequests = 0;
    this.faults = 0;
    this.ethosCalls = {};
    this.ethosClients = {};
    this.ethosUserkeysRequested = 0;
    this.oauth = emptyOAuthStats();
    this.roleConnectionPuts = [];
  }
}
