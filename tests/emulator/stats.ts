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
  }
}
