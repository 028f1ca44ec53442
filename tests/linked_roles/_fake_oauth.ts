/**
 * An in-memory fake of what linked roles talk to, used as the deps' `fetch`: Discord's OAuth2
 * token endpoints (code exchange, refresh with rotation, revoke), the two bearer calls (`GET
 * /users/@me`, `PUT .../role-connection`) and Ethos's profile lookups (one by Discord id, many in
 * bulk). Every call is recorded; `fail` scripts the next answers of a route.
 */
import { ManualClock } from "../_clock.ts";
import { type MemoryDeps, memoryDeps } from "../_deps.ts";

export const APP = "100000000000000001";
export const CLIENT_SECRET = "client-secret-0123456789";
/** The env that turns linked roles on. */
export const LINKED_ENV = {
  DISCORD_CLIENT_SECRET: CLIENT_SECRET,
  SELF_URL: "https://bot.example",
  SIGNING_SECRET: "signing-secret-0123456789abcdef",
};
const DISCORD = "https://discord.com/api/v10";
const ETHOS = "https://api.ethos.network/api/v2";

export interface FakeCall {
  method: string;
  /** `discord:/path` or `ethos:/path`. */
  route: string;
  bearer: string | null;
  form: Record<string, string> | null;
  body: unknown;
}

interface Grant {
  userId: string;
  access: string;
  refresh: string;
  scopes: string[];
}

/** An Ethos user as the API answers it (the fields the bot reads). */
export function ethosUser(id: string, score: number, over: Record<string, unknown> = {}) {
  return {
    id: Number(id.slice(-6)),
    profileId: 1,
    displayName: `user ${id.slice(-4)}`,
    username: null,
    score,
    userkeys: [`service:discord:${id}`],
    ...over,
  };
}

/** A JSON answer, as Discord and Ethos give one. */
export const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export class FakeOAuth {
  readonly calls: FakeCall[] = [];
  /** Role connections as pushed, by user id (the last one). */
  readonly connections = new Map<string, unknown>();
  readonly revoked: string[] = [];
  /** Ethos users by Discord id; absent: no profile. */
  readonly ethos = new Map<string, ReturnType<typeof ethosUser>>();
  readonly #codes = new Map<string, { userId: string; scopes: string[] }>();
  readonly #byAccess = new Map<string, Grant>();
  readonly #byRefresh = new Map<string, Grant>();
  readonly #failures = new Map<string, Response[]>();
  #n = 0;
  /** `expires_in` of issued tokens, seconds. */
  expiresIn = 604_800;

  /** A code Discord's authorize page would hand back for `userId`. */
  code(userId: string, scopes = ["identify", "role_connections.write"]): string {
    const code = `code-${++this.#n}`;
    this.#codes.set(code, { userId, scopes });
    return code;
  }

  /** A live grant for `userId` (as if they connected), with its tokens. */
  grant(userId: string): { access: string; refresh: string } {
    const g: Grant = {
      userId,
      access: `access-${++this.#n}`,
      refresh: `refresh-${this.#n}`,
      scopes: ["identify", "role_connections.write"],
    };
    this.#byAccess.set(g.access, g);
    this.#byRefresh.set(g.refresh, g);
    return g;
  }

  /** Ends the access token early (a bearer call answers 401), keeping the refresh token. */
  expireAccess(access: string): void {
    this.#byAccess.delete(access);
  }

  /** Revokes the whole grant (the user removed the app). */
  revokeUser(userId: string): void {
    for (const [k, g] of this.#byAccess) if (g.userId === userId) this.#byAccess.delete(k);
    for (const [k, g] of this.#byRefresh) if (g.userId === userId) this.#byRefresh.delete(k);
  }

  /** The next answers of `route` (e.g. "PUT discord:/users/@me/applications/:app/role-connection"). */
  fail(route: string, ...answers: Response[]): void {
    this.#failures.set(route, [...(this.#failures.get(route) ?? []), ...answers]);
  }

  callsTo(route: string): FakeCall[] {
    return this.calls.filter((c) => `${c.method} ${c.route.replace(APP, ":app")}` === route);
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const base = req.url.startsWith(DISCORD) ? "discord" : req.url.startsWith(ETHOS) ? "ethos" : "";
    const path = url.pathname.replace(/^\/api\/v(10|2)/, "");
    const text = await req.text();
    const isForm = req.headers.get("content-type")?.startsWith("application/x-www-form");
    const call: FakeCall = {
      method: req.method,
      route: `${base}:${path}`,
      bearer: req.headers.get("authorization")?.replace(/^Bearer /, "") ?? null,
      form: isForm ? Object.fromEntries(new URLSearchParams(text)) : null,
      body: !isForm && text ? JSON.parse(text) : null,
    };
    this.calls.push(call);
    const key = `${call.method} ${call.route.replace(APP, ":app")}`;
    const scripted = this.#failures.get(key)?.shift();
    if (scripted) return scripted;
    return this.#answer(key, call);
  };

  #issue(g: Omit<Grant, "access" | "refresh">): Response {
    const grant: Grant = { ...g, access: `access-${++this.#n}`, refresh: `refresh-${this.#n}` };
    this.#byAccess.set(grant.access, grant);
    this.#byRefresh.set(grant.refresh, grant);
    return json(200, {
      access_token: grant.access,
      token_type: "Bearer",
      expires_in: this.expiresIn,
      refresh_token: grant.refresh,
      scope: grant.scopes.join(" "),
    });
  }

  #answer(key: string, call: FakeCall): Response {
    const form = call.form ?? {};
    if (key === "POST discord:/oauth2/token") {
      if (form.client_secret !== CLIENT_SECRET) return json(401, { error: "invalid_client" });
      if (form.grant_type === "authorization_code") {
        const c = this.#codes.get(form.code);
        this.#codes.delete(form.code);
        if (!c) return json(400, { error: "invalid_grant", error_description: "bad code" });
        return this.#issue(c);
      }
      const g = this.#byRefresh.get(form.refresh_token);
      if (!g) return json(400, { error: "invalid_grant", error_description: "revoked" });
      // Discord rotates the refresh token and ends the old access token.
      this.#byRefresh.delete(g.refresh);
      this.#byAccess.delete(g.access);
      return this.#issue(g);
    }
    if (key === "POST discord:/oauth2/token/revoke") {
      this.revoked.push(form.token);
      const g = this.#byRefresh.get(form.token) ?? this.#byAccess.get(form.token);
      if (g) this.revokeUser(g.userId);
      return new Response(null, { status: 200 });
    }
    if (call.route.startsWith("discord:/users/@me")) {
      const g = call.bearer ? this.#byAccess.get(call.bearer) : undefined;
      if (!g) return json(401, { message: "401: Unauthorized", code: 0 });
      if (key === "GET discord:/users/@me") {
        return json(200, { id: g.userId, username: `u${g.userId.slice(-4)}`, global_name: null });
      }
      if (key === "PUT discord:/users/@me/applications/:app/role-connection") {
        this.connections.set(g.userId, call.body);
        return json(200, call.body);
      }
    }
    const one = /^GET ethos:\/user\/by\/discord\/(\d+)$/.exec(key);
    if (one) {
      const u = this.ethos.get(one[1]);
      return u ? json(200, u) : json(404, { error: "not found" });
    }
    if (key === "POST ethos:/users/by/discord") {
      const ids = (call.body as { discordIds: string[] }).discordIds;
      return json(200, ids.flatMap((id) => this.ethos.get(id) ?? []));
    }
    if (key === "POST ethos:/activities/profile/received") return json(200, { values: [] });
    return json(404, { message: `fake: no route ${key}` });
  }
}

/** Deps with linked roles on, over the fake (and `env` on top). */
export function linkedDeps(
  kv: Deno.Kv,
  fake: FakeOAuth,
  env: Record<string, string> = {},
  clock = new ManualClock(Date.UTC(2026, 10, 22, 12)),
): MemoryDeps {
  return memoryDeps(kv, { fetch: fake.fetch, env: { ...LINKED_ENV, ...env }, clock });
}
