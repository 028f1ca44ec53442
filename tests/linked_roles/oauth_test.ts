/**
 * lib/linked_roles/oauth.ts: the authorize URL, the token calls with the app's credentials and
 * their failures told apart (grant gone, Discord failing, a bad body), and the bearer calls with
 * 401 and bounded 429 handling.
 */
import assert from "node:assert/strict";
import {
  authorizeUrl,
  currentUser,
  DiscordOAuthError,
  exchangeCode,
  InvalidGrantError,
  pushRoleConnection,
  refreshTokens,
  revokeToken,
  UnauthorizedError,
} from "../../lib/linked_roles/oauth.ts";
import { testConfig } from "../_config.ts";
import { CLIENT_SECRET, FakeOAuth, json, LINKED_ENV } from "./_fake_oauth.ts";

const USER = "300000000000000001";
const NOW = Date.UTC(2026, 10, 22, 12);
const config = testConfig(LINKED_ENV);

/** The fake server, and deps whose clock records each wait instead of sleeping. */
function deps() {
  const fake = new FakeOAuth();
  const slept: number[] = [];
  const clock = {
    now: () => NOW,
    sleep: (ms: number) => {
      slept.push(ms);
      return Promise.resolve();
    },
  };
  return { fake, slept, deps: { config, fetch: fake.fetch, clock } };
}

Deno.test("authorizeUrl: the app, the exact redirect URI, both scopes, the state, consent", () => {
  const u = new URL(authorizeUrl(config, "state-123"));
  assert.equal(`${u.origin}${u.pathname}`, "https://discord.com/oauth2/authorize");
  assert.deepEqual(Object.fromEntries(u.searchParams), {
    client_id: "100000000000000001",
    redirect_uri: "https://bot.example/linked-role/callback",
    response_type: "code",
    scope: "identify role_connections.write",
    state: "state-123",
    prompt: "consent",
  });
});

Deno.test("exchangeCode: a form POST with the app's credentials; tokens with their expiry", async () => {
  const { fake, deps: d } = deps();
  const tokens = await exchangeCode(d, fake.code(USER), NOW);
  assert.equal(tokens.expiresAt, NOW + 604_800_000);
  assert.deepEqual(tokens.scopes, ["identify", "role_connections.write"]);
  assert.match(tokens.accessToken, /^access-/);
  const [call] = fake.callsTo("POST discord:/oauth2/token");
  assert.deepEqual({ ...call.form, code: undefined }, {
    grant_type: "authorization_code",
    code: undefined,
    redirect_uri: "https://bot.example/linked-role/callback",
    client_id: "100000000000000001",
    client_secret: CLIENT_SECRET,
  });
});

Deno.test("exchangeCode: a used or unknown code is InvalidGrantError with Discord's words", async () => {
  const { deps: d } = deps();
  await assert.rejects(
    exchangeCode(d, "never-issued", NOW),
    (e) => e instanceof InvalidGrantError && e.message === "Discord refused the grant: bad code",
  );
});

Deno.test("token calls: Discord failing or answering oddly is DiscordOAuthError with the status", async () => {
  const { fake, deps: d } = deps();
  fake.fail("POST discord:/oauth2/token", json(502, { error: "bad_gateway" }));
  await assert.rejects(
    refreshTokens(d, "r", NOW),
    (e) =>
      e instanceof DiscordOAuthError && e.status === 502 &&
      e.message === "token exchange: Discord answered 502 (bad_gateway)",
  );
  fake.fail("POST discord:/oauth2/token", json(200, { access_token: "a" }));
  await assert.rejects(
    refreshTokens(d, "r", NOW),
    (e) => e instanceof DiscordOAuthError && /unexpected body/.test(e.message),
  );
  fake.fail("POST discord:/oauth2/token", new Response("<html>", { status: 400 }));
  await assert.rejects(
    refreshTokens(d, "r", NOW),
    (e) => e instanceof DiscordOAuthError && e.status === 400,
    "a 400 without invalid_grant is not 'the grant is gone'",
  );
});

Deno.test("refreshTokens: a refresh token is good once (Discord rotates it)", async () => {
  const { fake, deps: d } = deps();
  const g = fake.grant(USER);
  const next = await refreshTokens(d, g.refresh, NOW);
  assert.notEqual(next.refreshToken, g.refresh);
  assert.equal(fake.callsTo("POST discord:/oauth2/token")[0].form!.grant_type, "refresh_token");
  await assert.rejects(refreshTokens(d, g.refresh, NOW), InvalidGrantError);
});

Deno.test("currentUser: the user of the bearer token; 401 is UnauthorizedError", async () => {
  const { fake, deps: d } = deps();
  const g = fake.grant(USER);
  assert.deepEqual(await currentUser(d, g.access), {
    id: USER,
    username: "u0001",
    global_name: null,
  });
  assert.equal(fake.calls[0].bearer, g.access);
  await assert.rejects(currentUser(d, "stale"), UnauthorizedError);
  fake.fail("GET discord:/users/@me", json(200, { id: "not-a-snowflake", username: "x" }));
  await assert.rejects(currentUser(d, g.access), /reading the user: .*unexpected body/);
});

Deno.test("pushRoleConnection: PUT to this app's role connection with the user's token", async () => {
  const { fake, deps: d } = deps();
  const g = fake.grant(USER);
  const connection = {
    platform_name: "Ethos",
    platform_username: "Ann",
    metadata: { score: "1400", level: "3", validator: "0", human: "1" },
  };
  await pushRoleConnection(d, g.access, connection);
  assert.deepEqual(fake.connections.get(USER), connection);
  fake.fail(
    "PUT discord:/users/@me/applications/:app/role-connection",
    json(400, { message: "Invalid Form Body", code: 50035 }),
  );
  await assert.rejects(
    pushRoleConnection(d, g.access, connection),
    (e) =>
      e instanceof DiscordOAuthError &&
      e.message === "updating the role connection: Discord answered 400 (Invalid Form Body)",
  );
});

Deno.test("bearer calls: a 429 is waited out and tried again, within a bound", async () => {
  const { fake, slept, deps: d } = deps();
  const g = fake.grant(USER);
  fake.fail("GET discord:/users/@me", json(429, { retry_after: 0.01 }));
  assert.equal((await currentUser(d, g.access)).id, USER);
  assert.equal(fake.callsTo("GET discord:/users/@me").length, 2);
  assert.deepEqual(slept, [10], "the wait is the injected clock's");
  fake.fail("GET discord:/users/@me", json(429, { retry_after: 11 }));
  await assert.rejects(
    currentUser(d, g.access),
    (e) => e instanceof DiscordOAuthError && e.status === 429,
    "a wait past 10 s gives up at once",
  );
  assert.deepEqual(slept, [10]);
  // Without a body the Retry-After header counts.
  fake.fail(
    "GET discord:/users/@me",
    new Response("", { status: 429, headers: { "retry-after": "2", "x-ratelimit-scope": "user" } }),
  );
  assert.equal((await currentUser(d, g.access)).id, USER);
  assert.deepEqual(slept, [10, 2_000]);
  fake.fail(
    "GET discord:/users/@me",
    new Response("", { status: 429, headers: { "retry-after": "30" } }),
  );
  await assert.rejects(currentUser(d, g.access), /rate limited/);
});

Deno.test("revokeToken: posts the token with the app's credentials; a refusal throws", async () => {
  const { fake, deps: d } = deps();
  const g = fake.grant(USER);
  await revokeToken(d, g.refresh);
  assert.deepEqual(fake.revoked, [g.refresh]);
  const [call] = fake.callsTo("POST discord:/oauth2/token/revoke");
  assert.equal(call.form!.token_type_hint, "refresh_token");
  assert.equal(call.form!.client_secret, CLIENT_SECRET);
  fake.fail("POST discord:/oauth2/token/revoke", new Response("", { status: 503 }));
  await assert.rejects(revokeToken(d, "x"), /revoking a token: Discord answered 503/);
});
