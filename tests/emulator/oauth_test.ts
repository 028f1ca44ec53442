import { deepStrictEqual, match, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Routes } from "discord-api-types/v10";
import type { Emulator, TokenResponse } from "./server.ts";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

const small = { guilds: [{ members: 3 }] };
const CALLBACK = "http://127.0.0.1:9/linked-role/callback";
const SCOPE = "identify role_connections.write";

/** GET the authorize page without following the redirect. */
async function authorize(emu: Emulator, params: Record<string, string>) {
  const url = new URL(emu.oauthAuthorizeUrl);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: "manual" });
  const text = await res.text();
  const location = res.headers.get("location");
  return { status: res.status, text, type: res.headers.get("content-type"), location };
}

function authorizeParams(emu: Emulator, extra: Record<string, string> = {}) {
  return {
    client_id: emu.applicationId,
    redirect_uri: CALLBACK,
    response_type: "code",
    scope: SCOPE,
    ...extra,
  };
}

/** A form-encoded POST to the token endpoints. */
async function tokenCall<T = Record<string, unknown>>(
  emu: Emulator,
  fields: Record<string, string>,
  opts: { path?: string; basic?: [string, string]; json?: boolean } = {},
) {
  const headers: Record<string, string> = {
    "content-type": opts.json ? "application/json" : "application/x-www-form-urlencoded",
  };
  if (opts.basic) headers.authorization = `Basic ${btoa(opts.basic.join(":"))}`;
  const res = await fetch(emu.discordBase + (opts.path ?? "/oauth2/token"), {
    method: "POST",
    headers,
    body: opts.json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
  });
  return { status: res.status, headers: res.headers, body: await res.json() as T };
}

function client(emu: Emulator) {
  return { client_id: emu.applicationId, client_secret: emu.state.oauth.clientSecret };
}

/** Approves as `userId` and returns a fresh code. */
async function codeFor(emu: Emulator, userId: string, scope = SCOPE): Promise<string> {
  emu.state.oauth.approveAs(userId);
  const res = await authorize(emu, authorizeParams(emu, { scope }));
  strictEqual(res.status, 302);
  return new URL(res.location!).searchParams.get("code")!;
}

async function exchange(emu: Emulator, code: string) {
  return await tokenCall<TokenResponse>(emu, {
    ...client(emu),
    grant_type: "authorization_code",
    code,
    redirect_uri: CALLBACK,
  });
}

const bearer = (token: string) => `Bearer ${token}`;
const invalidGrant = (what: string) => ({
  error: "invalid_grant",
  error_description: `Invalid "${what}" in request.`,
});

Deno.test("authorize redirects to the redirect URI with a code and the state unchanged", async () => {
  await withEmulator(small, async (emu) => {
    const user = emu.state.guild(GUILD).members.ids()[0];
    emu.state.oauth.redirectUris.add(CALLBACK);
    emu.state.oauth.approveAs(user);
    const state = "a b&c=d/é+%";
    const res = await authorize(emu, authorizeParams(emu, { state, prompt: "consent" }));
    strictEqual(res.status, 302);
    const to = new URL(res.location!);
    strictEqual(to.origin + to.pathname, CALLBACK);
    match(to.searchParams.get("code")!, /^[A-Za-z0-9]{30}$/);
    strictEqual(to.searchParams.get("state"), state);
    deepStrictEqual([...to.searchParams.keys()], ["code", "state"]);

    // No state in, none out; the Discord-API-prefixed path works too.
    const url = new URL(emu.discordBase + "/oauth2/authorize");
    for (const [k, v] of Object.entries(authorizeParams(emu))) url.searchParams.set(k, v);
    const bare = await fetch(url, { redirect: "manual" });
    await bare.body?.cancel();
    strictEqual(bare.status, 302);
    deepStrictEqual([...new URL(bare.headers.get("location")!).searchParams.keys()], ["code"]);

    strictEqual(emu.stats.oauth.authorizations, 2);
    strictEqual(emu.state.oauth.authorizeLog[0].query.prompt, "consent");
    strictEqual(emu.state.oauth.authorizeLog[0].outcome, "code");
  });
});

Deno.test("authorize refusals: errors by redirect, bad client or redirect URI by page", async () => {
  await withEmulator(small, async (emu) => {
    const oauth = emu.state.oauth;
    const redirectError = (location: string | null) =>
      Object.fromEntries(new URL(location!).searchParams);

    // Nobody chosen to approve as: a 400 page saying so.
    const nobody = await authorize(emu, authorizeParams(emu));
    strictEqual(nobody.status, 400);
    match(nobody.type!, /^text\/html/);
    match(nobody.text, /approveAs/);

    oauth.deny = true;
    const denied = await authorize(emu, authorizeParams(emu, { state: "s1" }));
    strictEqual(denied.status, 302);
    deepStrictEqual(redirectError(denied.location), {
      error: "access_denied",
      error_description: "The resource owner or authorization server denied the request",
      state: "s1",
    });

    oauth.approveAs("300000000000000001");
    strictEqual(oauth.deny, false);
    const scope = await authorize(emu, authorizeParams(emu, { scope: "identify email" }));
    deepStrictEqual(redirectError(scope.location), {
      error: "invalid_scope",
      error_description: "The requested scope is invalid, unknown, or malformed.",
    });
    const noScope = await authorize(emu, authorizeParams(emu, { scope: "" }));
    strictEqual(redirectError(noScope.location).error, "invalid_scope");
    const type = await authorize(emu, authorizeParams(emu, { response_type: "token" }));
    strictEqual(redirectError(type.location).error, "unsupported_response_type");

    const badClient = await authorize(emu, authorizeParams(emu, { client_id: "1" }));
    strictEqual(badClient.status, 400);
    strictEqual(badClient.location, null);
    match(badClient.text, /Unknown Application/);

    const notHttp = await authorize(emu, authorizeParams(emu, { redirect_uri: "ftp://x/y" }));
    strictEqual(notHttp.status, 400);
    match(notHttp.text, /Invalid OAuth2 redirect_uri/);

    oauth.redirectUris.add(CALLBACK);
    const other = await authorize(
      emu,
      authorizeParams(emu, { redirect_uri: "http://127.0.0.1:9/elsewhere" }),
    );
    strictEqual(other.status, 400);
    strictEqual(other.location, null);
    // With exactly one registered URI, redirect_uri may be left out.
    const { redirect_uri: _, ...withoutUri } = authorizeParams(emu);
    const implied = await authorize(emu, withoutUri);
    strictEqual(implied.status, 302);
    ok(implied.location!.startsWith(CALLBACK + "?code="));

    deepStrictEqual(emu.stats.oauth.authorizeErrors, {
      no_user: 1,
      access_denied: 1,
      invalid_scope: 2,
      unsupported_response_type: 1,
      unknown_application: 1,
      invalid_redirect_uri: 2,
    });
  });
});

Deno.test("code exchange: tokens once, redirect mismatch, wrong secret, Basic auth", async () => {
  await withEmulator(small, async (emu) => {
    const user = emu.state.guild(GUILD).members.ids()[1];
    const code = await codeFor(emu, user);
    const first = await exchange(emu, code);
    strictEqual(first.status, 200);
    deepStrictEqual(Object.keys(first.body).sort(), [
      "access_token",
      "expires_in",
      "refresh_token",
      "scope",
      "token_type",
    ]);
    strictEqual(first.body.token_type, "Bearer");
    strictEqual(first.body.expires_in, 604800);
    strictEqual(first.body.scope, SCOPE);
    match(first.body.access_token, /^[A-Za-z0-9]{30}$/);
    notStrictEqual(first.body.access_token, first.body.refresh_token);
    strictEqual(first.headers.get("x-ratelimit-limit"), "50");

    const again = await exchange(emu, code);
    strictEqual(again.status, 400);
    deepStrictEqual(again.body, invalidGrant("code"));
    deepStrictEqual((await exchange(emu, "nope")).body, invalidGrant("code"));

    const code2 = await codeFor(emu, user);
    const mismatch = await tokenCall(emu, {
      ...client(emu),
      grant_type: "authorization_code",
      code: code2,
      redirect_uri: CALLBACK + "/other",
    });
    strictEqual(mismatch.status, 400);
    deepStrictEqual(mismatch.body, invalidGrant("redirect_uri"));
    // A failed redirect check leaves the code usable.
    strictEqual((await exchange(emu, code2)).status, 200);

    const code3 = await codeFor(emu, user);
    const wrong = await tokenCall(emu, {
      client_id: emu.applicationId,
      client_secret: "wrong",
      grant_type: "authorization_code",
      code: code3,
      redirect_uri: CALLBACK,
    });
    strictEqual(wrong.status, 401);
    deepStrictEqual(wrong.body, { error: "invalid_client" });
    const noClient = await tokenCall(emu, {
      grant_type: "authorization_code",
      code: code3,
      redirect_uri: CALLBACK,
    });
    strictEqual(noClient.status, 401);

    const basic = await tokenCall<TokenResponse>(
      emu,
      { grant_type: "authorization_code", code: code3, redirect_uri: CALLBACK },
      { basic: [emu.applicationId, emu.state.oauth.clientSecret] },
    );
    strictEqual(basic.status, 200);
    strictEqual(basic.body.scope, SCOPE);
    const badBasic = await tokenCall(
      emu,
      { grant_type: "refresh_token", refresh_token: basic.body.refresh_token },
      { basic: [emu.applicationId, "wrong"] },
    );
    deepStrictEqual([badBasic.status, badBasic.body], [401, { error: "invalid_client" }]);

    const missing = await tokenCall(emu, { ...client(emu), grant_type: "authorization_code" });
    deepStrictEqual([missing.status, missing.body], [400, {
      error: "invalid_request",
      error_description: 'Missing "code" in request.',
    }]);

    strictEqual(emu.stats.oauth.tokenExchanges, 3);
    deepStrictEqual(emu.stats.oauth.failures, {
      invalid_grant: 3,
      invalid_client: 3,
      invalid_request: 1,
    });
  });
});

Deno.test("unsupported grant types and JSON bodies answer unsupported_grant_type", async () => {
  await withEmulator(small, async (emu) => {
    const user = emu.state.guild(GUILD).members.ids()[0];
    const code = await codeFor(emu, user);
    for (const grant_type of ["client_credentials", "password", ""]) {
      const res = await tokenCall(emu, { ...client(emu), grant_type, code });
      deepStrictEqual([res.status, res.body], [400, { error: "unsupported_grant_type" }]);
    }
    const json = await tokenCall(emu, {
      ...client(emu),
      grant_type: "authorization_code",
      code,
      redirect_uri: CALLBACK,
    }, { json: true });
    deepStrictEqual([json.status, json.body], [400, { error: "unsupported_grant_type" }]);
    // The code was not spent by those.
    strictEqual((await exchange(emu, code)).status, 200);
    const get = await fetch(emu.discordBase + "/oauth2/token");
    strictEqual(get.status, 405);
    await get.body?.cancel();
  });
});

Deno.test("refresh rotates both tokens and refuses the old refresh token", async () => {
  await withEmulator(small, async (emu) => {
    const user = emu.state.guild(GUILD).members.ids()[0];
    const first = (await exchange(emu, await codeFor(emu, user))).body;
    const refreshed = await tokenCall<TokenResponse>(emu, {
      ...client(emu),
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
    });
    strictEqual(refreshed.status, 200);
    strictEqual(refreshed.body.expires_in, 604800);
    strictEqual(refreshed.body.scope, SCOPE);
    notStrictEqual(refreshed.body.access_token, first.access_token);
    notStrictEqual(refreshed.body.refresh_token, first.refresh_token);

    const old = await tokenCall(emu, {
      ...client(emu),
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
    });
    deepStrictEqual([old.status, old.body], [400, invalidGrant("refresh_token")]);
    // The old access token went with its refresh token; the new one works.
    const me = Routes.user("@me");
    strictEqual((await api(emu, "GET", me, { auth: bearer(first.access_token) })).status, 401);
    strictEqual(
      (await api(emu, "GET", me, { auth: bearer(refreshed.body.access_token) })).status,
      200,
    );
    strictEqual(emu.stats.oauth.refreshes, 1);
    strictEqual(emu.state.oauth.grants(user).length, 1);
  });
});

Deno.test("expiry follows the emulator clock; expired, revoked and unknown tokens get 401", async () => {
  let now = Date.UTC(2026, 0, 1);
  await withEmulator({ ...small, clock: { now: () => now } }, async (emu) => {
    const [alice, bob] = emu.state.guild(GUILD).members.ids();
    const me = Routes.user("@me");
    const unauthorized = { message: "401: Unauthorized", code: 0 };

    // A code lives 10 minutes.
    const stale = await codeFor(emu, alice);
    now += 600_000;
    deepStrictEqual((await exchange(emu, stale)).body, invalidGrant("code"));

    const tokens = (await exchange(emu, await codeFor(emu, alice))).body;
    now += 604_799_000;
    strictEqual((await api(emu, "GET", me, { auth: bearer(tokens.access_token) })).status, 200);
    now += 1_000;
    const expired = await api(emu, "GET", me, { auth: bearer(tokens.access_token) });
    deepStrictEqual([expired.status, expired.body], [401, unauthorized]);
    // The refresh token outlives its access token.
    const renewed = await tokenCall<TokenResponse>(emu, {
      ...client(emu),
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
    });
    strictEqual(renewed.status, 200);
    const live = renewed.body.access_token;
    strictEqual((await api(emu, "GET", me, { auth: bearer(live) })).status, 200);

    // Early expiry from a test.
    ok(emu.state.oauth.expire(live));
    strictEqual((await api(emu, "GET", me, { auth: bearer(live) })).status, 401);

    // Revoking the user's grant: access and refresh tokens both stop; others are untouched.
    const bobs = emu.state.oauth.issueTokens(bob);
    const again = (await exchange(emu, await codeFor(emu, alice))).body;
    strictEqual(emu.state.oauth.revoke(alice), 2);
    strictEqual((await api(emu, "GET", me, { auth: bearer(again.access_token) })).status, 401);
    const refused = await tokenCall(emu, {
      ...client(emu),
      grant_type: "refresh_token",
      refresh_token: again.refresh_token,
    });
    deepStrictEqual([refused.status, refused.body], [400, invalidGrant("refresh_token")]);
    strictEqual((await api(emu, "GET", me, { auth: bearer(bobs.accessToken) })).status, 200);

    const unknown = await api(emu, "GET", me, { auth: "Bearer not-a-token" });
    deepStrictEqual([unknown.status, unknown.body], [401, unauthorized]);
    strictEqual(emu.stats.oauth.bearerRejected, 4);
  });
});

Deno.test("POST /oauth2/token/revoke revokes the pair of either token", async () => {
  await withEmulator(small, async (emu) => {
    const user = emu.state.guild(GUILD).members.ids()[0];
    const me = Routes.user("@me");
    const revoke = (token: string, hint: string) =>
      tokenCall(emu, { ...client(emu), token, token_type_hint: hint }, {
        path: "/oauth2/token/revoke",
      });

    const a = emu.state.oauth.issueTokens(user);
    const res = await revoke(a.accessToken, "access_token");
    deepStrictEqual([res.status, res.body], [200, {}]);
    strictEqual((await api(emu, "GET", me, { auth: bearer(a.accessToken) })).status, 401);
    const refresh = await tokenCall(emu, {
      ...client(emu),
      grant_type: "refresh_token",
      refresh_token: a.refreshToken,
    });
    strictEqual(refresh.status, 400);

    const b = emu.state.oauth.issueTokens(user);
    strictEqual((await revoke(b.refreshToken, "refresh_token")).status, 200);
    strictEqual((await api(emu, "GET", me, { auth: bearer(b.accessToken) })).status, 401);

    // Unknown tokens are not an error (RFC 7009); client credentials are required.
    strictEqual((await revoke("unknown", "access_token")).status, 200);
    const noClient = await tokenCall(emu, { token: "x" }, { path: "/oauth2/token/revoke" });
    deepStrictEqual([noClient.status, noClient.body], [401, { error: "invalid_client" }]);
    strictEqual(emu.stats.oauth.revocations, 2);
  });
});

Deno.test("GET /users/@me with a bearer token answers the token's user", async () => {
  await withEmulator(small, async (emu) => {
    const member = emu.state.guild(GUILD).members.page("0", 1)[0];
    const me = Routes.user("@me");
    const tokens = (await exchange(emu, await codeFor(emu, member.id))).body;
    const res = await api<Record<string, unknown>>(emu, "GET", me, {
      auth: bearer(tokens.access_token),
    });
    strictEqual(res.status, 200);
    deepStrictEqual(res.body, {
      id: member.id,
      username: member.username,
      avatar: null,
      discriminator: "0",
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      global_name: null,
      avatar_decoration_data: null,
      banner_color: null,
      mfa_enabled: false,
      locale: "en-US",
      premium_type: 0,
    });
    // Bearer requests have their own per-user bucket.
    strictEqual(res.headers.get("x-ratelimit-remaining"), "49");

    const added = emu.state.addUser({ username: "ethos_fan", global_name: "Ethos Fan" });
    const t2 = emu.state.oauth.issueTokens(added.id, ["identify"]);
    const fan = await api<Record<string, unknown>>(emu, "GET", me, {
      auth: bearer(t2.accessToken),
    });
    deepStrictEqual([fan.body.id, fan.body.username, fan.body.global_name], [
      added.id,
      "ethos_fan",
      "Ethos Fan",
    ]);

    const stranger = emu.state.oauth.issueTokens("400000000000123456");
    const s = await api<Record<string, unknown>>(emu, "GET", me, {
      auth: bearer(stranger.accessToken),
    });
    strictEqual(s.body.username, "user_123456");

    // Without identify: 403 Missing Access.
    const narrow = emu.state.oauth.issueTokens(member.id, ["role_connections.write"]);
    const denied = await api(emu, "GET", me, { auth: bearer(narrow.accessToken) });
    deepStrictEqual([denied.status, denied.body], [403, {
      message: "Missing Access",
      code: 50001,
    }]);
    // Bearer tokens open only user routes.
    const guild = await api(emu, "GET", Routes.guild(GUILD), { auth: bearer(t2.accessToken) });
    strictEqual(guild.status, 401);
    // The bot token still gets the bot user.
    strictEqual((await api<{ bot: boolean }>(emu, "GET", me)).body.bot, true);
  });
});
