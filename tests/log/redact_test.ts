import { isSensitiveKey, redact, redactString, registerSecret } from "../../lib/log/redact.ts";
import assert from "node:assert/strict";

const R = "[redacted]";

// Secret-shaped samples. None is registered, so only the patterns can catch them.
const BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB";
const BOT_TOKEN_OLD = "NzkyNzE1NDU0MTk2MDg4ODQy.X-hvzA.Ovy4MCQywSkoMRRclStW4xAYK7I";
/** A token whose HMAC part ends in "-": `\b` used to stop one character short. */
const BOT_TOKEN_DASH = "OTk5OTk5OTk5OTk5OTk5OTk5.Yz_9aB.abcdefghijklmnopqrstuvwxyz01234567-";
const INTERACTION_TOKEN =
  "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OkVIZlBFUWpPQlBHM0hFTjZ0c2dJZFNhNHRUeXZZMEE1";
const SIGNATURE = "a1b2c3d4".repeat(16); // 128 hex characters
const WEBHOOK_TOKEN = "Xy9_abcDEF-0123456789ghijKLMNOP_qrstuvWXYZ-abcdefghijklmnopqrstuv";

/** The secret fragments that must not survive in `out`. */
function assertGone(out: string, ...secrets: string[]): void {
  for (const s of secrets) assert.ok(!out.includes(s), `${JSON.stringify(s)} survives in ${out}`);
}

Deno.test("redact: bot tokens", () => {
  for (const token of [BOT_TOKEN, BOT_TOKEN_OLD]) {
    assert.deepStrictEqual(redactString(`token is ${token} ok`), `token is ${R} ok`);
    assert.deepStrictEqual(redactString(`"${token}"`), `"${R}"`);
  }
});

Deno.test("redact: a bot token ending in - or _ is removed whole", () => {
  const out = redactString(`t=${BOT_TOKEN_DASH} end`);
  assert.deepStrictEqual(out, `t=${R} end`);
  const underscore = BOT_TOKEN_DASH.slice(0, -1) + "_";
  assert.deepStrictEqual(redactString(`${underscore}.`), `${R}.`);
});

Deno.test("redact: interaction tokens", () => {
  assert.deepStrictEqual(redactString(`token=${INTERACTION_TOKEN}&x=1`), `token=${R}&x=1`);
  assert.deepStrictEqual(redactString(JSON.stringify({ t: INTERACTION_TOKEN })), `{"t":"${R}"}`);
});

Deno.test("redact: Ed25519 signatures (128 hex characters)", () => {
  assert.deepStrictEqual(redactString(`sig ${SIGNATURE}`), `sig ${R}`);
  assert.deepStrictEqual(redactString(`sig ${SIGNATURE.toUpperCase()}.`), `sig ${R}.`);
});

Deno.test("redact: bearer credentials", () => {
  assert.deepStrictEqual(
    redactString("Authorization: Bearer abc123.def456-ghi789"),
    `Authorization: Bearer ${R}`,
  );
  assert.deepStrictEqual(
    redactString("authorization: bearer xyz987654321"),
    `authorization: bearer ${R}`,
  );
  // In a header, whatever the credential looks like.
  assert.deepStrictEqual(
    redactString("Authorization: Bearer onlyletterstoken"),
    `Authorization: Bearer ${R}`,
  );
  assert.deepStrictEqual(
    redactString('{"Authorization":"Bearer s3cr3t"}'),
    `{"Authorization":"Bearer ${R}"}`,
  );
  // Outside a header too, when it looks like a credential.
  assert.deepStrictEqual(
    redactString("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.x1 to api"),
    `sent Bearer ${R} to api`,
  );
  assert.deepStrictEqual(
    redactString("Basic: Authorization: Basic dXNlcjpwYXNz"),
    `Basic: Authorization: Basic ${R}`,
  );
});

Deno.test("redact: Bot authorization headers", () => {
  assert.deepStrictEqual(
    redactString(`Authorization: Bot ${BOT_TOKEN}`),
    `Authorization: Bot ${R}`,
  );
  assert.deepStrictEqual(
    redactString("headers: { authorization: 'Bot test-bot-token-0123456789abcdef' }"),
    `headers: { authorization: 'Bot ${R}' }`,
  );
  assert.deepStrictEqual(
    redactString("using Bot test-bot-token-0123456789abcdef now"),
    `using Bot ${R} now`,
  );
});

Deno.test("redact: Discord webhook URLs", () => {
  const urls = [
    `https://discord.com/api/webhooks/123456789012345678/${WEBHOOK_TOKEN}`,
    `https://discord.com/api/v10/webhooks/123456789012345678/${WEBHOOK_TOKEN}`,
    `https://discordapp.com/api/webhooks/123456789012345678/${WEBHOOK_TOKEN}`,
    `https://canary.discord.com/api/webhooks/123456789012345678/${WEBHOOK_TOKEN}`,
    `http://ptb.discordapp.com/api/v9/webhooks/1/${WEBHOOK_TOKEN}`,
    `https://discord.com/api/webhooks/123456789012345678/short`,
  ];
  for (const url of urls) {
    const out = redactString(`alert via ${url} failed`);
    assert.deepStrictEqual(out, `alert via ${R} failed`, url);
  }
  // What follows the token (a sub-path, a query) stays.
  assert.deepStrictEqual(
    redactString(
      `https://discord.com/api/v10/webhooks/1/${WEBHOOK_TOKEN}/messages/@original?wait=true`,
    ),
    `${R}/messages/@original?wait=true`,
  );
});

Deno.test("redact: token paths without a Discord host (relative, emulator)", () => {
  assert.deepStrictEqual(
    redactString(`POST /api/v10/interactions/123456789012345678/${INTERACTION_TOKEN}/callback`),
    `POST /api/v10/interactions/123456789012345678/${R}/callback`,
  );
  assert.deepStrictEqual(
    redactString(`PATCH http://127.0.0.1:8787/api/v10/webhooks/42/${WEBHOOK_TOKEN}/messages/1`),
    `PATCH http://127.0.0.1:8787/api/v10/webhooks/42/${R}/messages/1`,
  );
});

Deno.test("redact: registered secrets, wherever they occur", () => {
  const secret = "redact-test-registered-Q7w8e9";
  registerSecret(secret);
  assert.deepStrictEqual(redactString(`a${secret}b ${secret}`), `a${R}b ${R}`);
  assert.deepStrictEqual(redact({ deep: [{ note: `x ${secret} y` }] }), {
    deep: [{ note: `x ${R} y` }],
  });
});

Deno.test("redact: a registered secret that contains another is removed whole", () => {
  const short = "redact-overlap-abc123";
  const long = `${short}-tail-part-XYZ`;
  registerSecret(short); // registered first on purpose
  registerSecret(long);
  const out = redactString(`v=${long};`);
  assert.deepStrictEqual(out, `v=${R};`);
  assertGone(out, "tail-part");
  assert.deepStrictEqual(redactString(`v=${short};`), `v=${R};`);
});

Deno.test("redact: tiny or empty secrets are not registered (they would shred ordinary text)", () => {
  registerSecret("abc");
  registerSecret("");
  registerSecret(undefined);
  assert.deepStrictEqual(redactString("abc is fine"), "abc is fine");
});

Deno.test("redact: ordinary text, ids and token-free URLs stay intact", () => {
  const texts = [
    "Synced 42 members of guild 123456789012345678 in 1.5 s",
    "user 1234567890123456789 got role 987654321098765432",
    "Bot connected",
    "Bot started for 123456789012345678",
    "Bot 123456789012345678 joined",
    "the bearer receives nothing",
    "Authorization failed for user 123456789012345678",
    "https://discord.com/api/v10/channels/123456789012345678/messages",
    "https://discord.com/api/webhooks/123456789012345678",
    "https://discord.com/api/v10/interactions/123456789012345678",
    "https://api.ethos.network/api/v2/users/by/x/someone?limit=10",
    "public key " + "ab".repeat(32),
    "sha256 " + "0f".repeat(32),
    "MTIz is base64 for 123",
    "retry after 1.234 s (bucket abc:def)",
    "",
  ];
  for (const text of texts) assert.deepStrictEqual(redactString(text), text);
});

Deno.test("redact: nested objects and arrays, input untouched", () => {
  const input = {
    msg: `failed with ${BOT_TOKEN}`,
    list: [INTERACTION_TOKEN, { sig: SIGNATURE }, 7, null, true],
    nested: { deeper: { url: `https://discord.com/api/webhooks/1/${WEBHOOK_TOKEN}` } },
    guildId: "123456789012345678",
    count: 3,
    big: 10n,
    none: undefined,
  };
  const copy = structuredClone(input);
  assert.deepStrictEqual(redact(input), {
    msg: `failed with ${R}`,
    list: [R, { sig: R }, 7, null, true],
    nested: { deeper: { url: R } },
    guildId: "123456789012345678",
    count: 3,
    big: 10n,
    none: undefined,
  });
  assert.deepStrictEqual(input, copy, "the input is not modified");
});

Deno.test("redact: keys that name secrets are masked whole", () => {
  const out = redact<unknown>({
    token: "plain-looking",
    Token: "x",
    authorization: "anything",
    Authorization: "anything",
    password: "hunter2",
    secret: "s",
    client_secret: "s",
    signingSecret: "s",
    sync_token: "s",
    "x-api-token": "s",
    accessToken: "s",
    syncAuthToken: "s",
    apiKey: "s",
    api_key: "s",
    cookie: "session=1",
    "x-signature-ed25519": "s",
    signature: 12345,
    headers: { Authorization: "Basic abc" },
    // Kept: not secrets, or nothing to hide.
    tokenCount: 3,
    tokens: 7,
    author: "someone",
    guildId: "123456789012345678",
    expiresAt: 1,
    secretFound: false,
    token_type: "Bearer",
    refresh_token: null,
    id_token: undefined,
  });
  assert.deepStrictEqual(out, {
    token: R,
    Token: R,
    authorization: R,
    Authorization: R,
    password: R,
    secret: R,
    client_secret: R,
    signingSecret: R,
    sync_token: R,
    "x-api-token": R,
    accessToken: R,
    syncAuthToken: R,
    apiKey: R,
    api_key: R,
    cookie: R,
    "x-signature-ed25519": R,
    signature: R,
    headers: { Authorization: R },
    tokenCount: 3,
    tokens: 7,
    author: "someone",
    guildId: "123456789012345678",
    expiresAt: 1,
    secretFound: false, // booleans hide nothing
    token_type: "Bearer",
    refresh_token: null,
    id_token: undefined,
  });
});

Deno.test("redact: isSensitiveKey", () => {
  for (const k of ["token", "TOKEN", "bot_token", "botToken", "clientSecret", "Authorization"]) {
    assert.ok(isSensitiveKey(k), k);
  }
  for (const k of ["tokens", "tokenize", "guild", "authorId", "signatureValid", "Token2"]) {
    assert.ok(!isSensitiveKey(k), k);
  }
});

Deno.test("redact: a sensitive key holding an object or array is masked whole", () => {
  assert.deepStrictEqual(redact<unknown>({ token: ["a", "b"], secret: { value: "x" } }), {
    token: R,
    secret: R,
  });
});

Deno.test("redact: errors become name and redacted message", () => {
  const err = new TypeError(`request with Bot ${BOT_TOKEN} failed`);
  assert.deepStrictEqual(redact(err), {
    name: "TypeError",
    message: `request with Bot ${R} failed`,
  });
  const nested = redact({ error: new RangeError(`sig ${SIGNATURE}`), n: 1 });
  assert.deepStrictEqual(nested, { error: { name: "RangeError", message: `sig ${R}` }, n: 1 });
  const json = JSON.stringify(redact(err));
  assert.ok(!json.includes("stack"), "no stack trace");
});

Deno.test("redact: values nested too deep are replaced, never passed through", () => {
  const secret = "redact-deep-secret-Zx81";
  registerSecret(secret);
  // deno-lint-ignore no-explicit-any
  let deep: any = { note: `x ${secret}`, token: "deep-token-value" };
  for (let i = 0; i < 20; i++) deep = { level: i, child: deep };
  const json = JSON.stringify(redact(deep));
  assertGone(json, secret, "deep-token-value");
  assert.match(json, /\[truncated\]/);
  assert.match(json, /"level":19/);
});

Deno.test("redact: circular structures do not hang or throw", () => {
  // deno-lint-ignore no-explicit-any
  const a: any = { name: "a", token: "circ-token" };
  a.self = a;
  const out = JSON.stringify(redact(a));
  assert.match(out, /"name":"a"/);
  assertGone(out, "circ-token");
});

Deno.test("redact: Date and URL values keep their JSON form (URL redacted)", () => {
  const when = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const url = new URL(`https://discord.com/api/webhooks/1/${WEBHOOK_TOKEN}`);
  assert.deepStrictEqual(redact<unknown>({ when, url }), {
    when: "2026-01-02T03:04:05.000Z",
    url: R,
  });
  assert.deepStrictEqual(redact<unknown>(when), "2026-01-02T03:04:05.000Z");
});

Deno.test("redact: primitives pass through", () => {
  assert.deepStrictEqual(redact(5), 5);
  assert.deepStrictEqual(redact(5n), 5n);
  assert.deepStrictEqual(redact(null), null);
  assert.deepStrictEqual(redact(undefined), undefined);
  assert.deepStrictEqual(redact(false), false);
  assert.deepStrictEqual(redact("plain"), "plain");
});

Deno.test("redact: several secrets of different kinds in one string", () => {
  const text =
    `Bot ${BOT_TOKEN} posted to https://discord.com/api/webhooks/9/${WEBHOOK_TOKEN} for ` +
    `${INTERACTION_TOKEN} signed ${SIGNATURE} in guild 123456789012345678`;
  const out = redactString(text);
  assertGone(out, BOT_TOKEN, WEBHOOK_TOKEN, INTERACTION_TOKEN, SIGNATURE);
  assert.match(out, /in guild 123456789012345678/);
  assert.deepStrictEqual(
    out,
    `Bot ${R} posted to ${R} for ${R} signed ${R} in guild 123456789012345678`,
  );
});
