/**
 * lib/config.ts: the environment parsed once (every variable's format, defaults and errors, which
 * values are secrets), including the sync's and linked roles' settings. Kept in one file past 400
 * lines, as the module it tests is.
 */
import { ConfigError, configSecrets, loadConfig, parseConfig, VERSION } from "../lib/config.ts";
import { testConfig } from "./_config.ts";
import { redactString } from "../lib/log/redact.ts";
import assert from "node:assert/strict";

const PUBLIC_KEY = "ab".repeat(32);
const APP_ID = "100000000000000001";
const TOKEN = "cfg-test-bot-token-0123456789abcdef";

/** A minimal valid environment, plus overrides. */
const env = (overrides: Record<string, string | undefined> = {}) => ({
  DISCORD_PUBLIC_KEY: PUBLIC_KEY,
  DISCORD_APPLICATION_ID: APP_ID,
  DISCORD_TOKEN: TOKEN,
  ...overrides,
});

/** The ConfigError parseConfig throws for `raw`. */
function configError(raw: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(raw);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e;
  }
  assert.fail("expected parseConfig to throw");
}

/** The problem line naming `name` (there is exactly one). */
function problemOf(error: ConfigError, name: string): string {
  const lines = error.problems.filter((p) => p.startsWith(`${name} `));
  assert.deepStrictEqual(
    lines.length,
    1,
    `one problem for ${name} in ${JSON.stringify(error.problems)}`,
  );
  return lines[0];
}

Deno.test("config: defaults for everything optional", () => {
  const c = parseConfig(env());
  assert.deepStrictEqual(c.version, VERSION);
  assert.deepStrictEqual(c.port, 8000);
  assert.deepStrictEqual(c.logLevel, "info");
  assert.deepStrictEqual(c.kvPath, undefined);
  assert.deepStrictEqual(c.selfUrl, undefined);
  assert.deepStrictEqual(c.syncAuthToken, undefined);
  assert.deepStrictEqual(c.signingSecret, undefined);
  assert.deepStrictEqual(c.discord, {
    publicKey: PUBLIC_KEY,
    applicationId: APP_ID,
    token: TOKEN,
    apiBase: "https://discord.com/api/v10",
    guildId: undefined,
    devGuildId: undefined,
    globalRateLimit: 50,
    invalidRequestLimit: 8_000,
  });
  assert.deepStrictEqual(c.ethos, {
    apiBase: "https://api.ethos.network/api/v2",
    client: `ethos-discord-bot@${VERSION}`,
    tiers: [],
    tiersFromJson: false,
    verifiedRoleId: undefined,
    profileRoleId: undefined,
    validatorRoleId: undefined,
    humanRoleId: undefined,
    countDefaultProfiles: false,
    scoreTtlMs: 3_600_000,
    noScoreTtlMs: 600_000,
  });
  assert.deepStrictEqual(c.sync, {
    maxChunkMs: 720_000,
    chunkSize: 50,
    autoContinue: false,
    disableDaily: false,
    patchLimit: { limit: 10, windowMs: 10_000 },
    roleLimit: { limit: 10, windowMs: 10_000 },
    freshMs: 5_000,
    freshness: true,
  });
  assert.deepStrictEqual(c.commands, {
    forceSync: false,
    syncOnStart: false,
    autoSync: false,
    guildIds: [],
  });
  assert.deepStrictEqual(c.backup, {
    maxPerGuild: 25,
    cooldownS: 300,
    retentionDays: 0,
    ownerId: undefined,
  });
  assert.deepStrictEqual(c.ops, {
    alertWebhookUrl: undefined,
    auditRetentionDays: 0,
    guildRetentionDays: 30,
  });
});

Deno.test("config: testConfig is complete and takes overrides", () => {
  const c = testConfig();
  assert.deepStrictEqual(c.port, 8000);
  assert.match(c.discord.publicKey, /^[0-9a-f]{64}$/);
  assert.match(c.discord.applicationId, /^\d{17,20}$/);
  assert.deepStrictEqual(testConfig({ PORT: "9001", LOG_LEVEL: "debug" }).port, 9001);
  assert.deepStrictEqual(testConfig({ LOG_LEVEL: "debug" }).logLevel, "debug");
  assert.throws(() => testConfig({ DISCORD_APPLICATION_ID: "nope" }), ConfigError);
});

Deno.test("config: values are read and mapped", () => {
  const c = parseConfig(env({
    PORT: "9000",
    LOG_LEVEL: "warn",
    KV_PATH: "/tmp/bot.kv",
    SELF_URL: "https://bot.example.test",
    SYNC_AUTH_TOKEN: "sync-auth-token-0123456789",
    SIGNING_SECRET: "signing-secret-0123456789",
    DISCORD_PUBLIC_KEY: PUBLIC_KEY.toUpperCase(),
    DISCORD_GUILD_ID: "200000000000000002",
    DISCORD_DEV_GUILD_ID: "300000000000000003",
    DISCORD_GLOBAL_RATE_LIMIT: "40",
    DISCORD_INVALID_REQUEST_LIMIT: "5000",
    ETHOS_CLIENT: "my-client",
    ETHOS_VERIFIED_PROFILE_ROLE_ID: "400000000000000004",
    VERIFIED_ROLE_ID: "500000000000000005",
    ETHOS_SCORE_TTL_S: "60",
    ETHOS_NO_SCORE_TTL_S: "0",
    SYNC_MAX_CHUNK_MS: "60000",
    SYNC_CHUNK_SIZE: "10",
    BACKUP_MAX_PER_GUILD: "3",
    BACKUP_COOLDOWN: "0",
    BACKUP_RETENTION_DAYS: "30",
    BOT_OWNER_ID: "600000000000000006",
    AUDIT_RETENTION_DAYS: "90",
    UNRELATED_VARIABLE: "ignored",
  }));
  assert.deepStrictEqual(c.port, 9000);
  assert.deepStrictEqual(c.logLevel, "warn");
  assert.deepStrictEqual(c.kvPath, "/tmp/bot.kv");
  assert.deepStrictEqual(c.selfUrl, "https://bot.example.test");
  assert.deepStrictEqual(c.syncAuthToken, "sync-auth-token-0123456789");
  assert.deepStrictEqual(c.signingSecret, "signing-secret-0123456789");
  assert.deepStrictEqual(c.discord.publicKey, PUBLIC_KEY, "public key is lower-cased");
  assert.deepStrictEqual(c.discord.guildId, "200000000000000002");
  assert.deepStrictEqual(c.discord.devGuildId, "300000000000000003");
  assert.deepStrictEqual(c.discord.globalRateLimit, 40);
  assert.deepStrictEqual(c.discord.invalidRequestLimit, 5000);
  assert.deepStrictEqual(c.ethos.client, "my-client");
  assert.deepStrictEqual(c.ethos.profileRoleId, "400000000000000004");
  assert.deepStrictEqual(c.ethos.verifiedRoleId, "500000000000000005");
  assert.deepStrictEqual(c.ethos.scoreTtlMs, 60_000);
  assert.deepStrictEqual(c.ethos.noScoreTtlMs, 0);
  assert.deepStrictEqual(c.sync.maxChunkMs, 60_000);
  assert.deepStrictEqual(c.sync.chunkSize, 10);
  assert.deepStrictEqual(c.backup, {
    maxPerGuild: 3,
    cooldownS: 0,
    retentionDays: 30,
    ownerId: "600000000000000006",
  });
  assert.deepStrictEqual(c.ops.auditRetentionDays, 90);
  assert.deepStrictEqual(
    c.commands.guildIds,
    ["200000000000000002"],
    "falls back to DISCORD_GUILD_ID",
  );
});

Deno.test("config: one error names every bad variable at once", () => {
  const err = configError({
    DISCORD_APPLICATION_ID: "12345",
    DISCORD_TOKEN: TOKEN,
    PORT: "eighty",
  });
  assert.ok(err instanceof Error);
  assert.deepStrictEqual(err.name, "ConfigError");
  assert.deepStrictEqual(err.problems.length, 3, JSON.stringify(err.problems));
  assert.deepStrictEqual(problemOf(err, "DISCORD_PUBLIC_KEY"), "DISCORD_PUBLIC_KEY is required");
  assert.match(problemOf(err, "DISCORD_APPLICATION_ID"), /Discord id/);
  assert.match(problemOf(err, "PORT"), /whole number/);
  for (const name of ["DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID", "PORT"]) {
    assert.ok(err.message.includes(name), err.message);
  }
  assert.ok(!err.message.includes("DISCORD_TOKEN"), "a good variable is not named");
  assert.match(err.message, /^Invalid configuration:\n {2}- /);
});

Deno.test("config: every required variable is reported missing from an empty environment", () => {
  const err = configError({});
  assert.deepStrictEqual(err.problems.sort(), [
    "DISCORD_APPLICATION_ID is required",
    "DISCORD_PUBLIC_KEY is required",
    "DISCORD_TOKEN is required",
  ]);
});

Deno.test("config: the error never contains the bad values (some are secrets)", () => {
  const secrets = {
    DISCORD_TOKEN: "MTIzNDU2.Gh.sekrit", // too short: a malformed token still a secret
    SYNC_AUTH_TOKEN: "s3cr3t-sync", // under 16 characters
    SIGNING_SECRET: "s1gn-s3cr3t",
    DISCORD_PUBLIC_KEY: "zz" + "9".repeat(62),
    ALERT_WEBHOOK_URL: "discord.com/api/webhooks/123456789012345678/hookSecretValue",
    ETHOS_TIERS: '[{"name":"Gold","minScore":"lots","roleId":"tierSecretRole"}]',
    PORT: "port-secret-value",
  };
  const err = configError({ ...secrets, DISCORD_APPLICATION_ID: APP_ID });
  assert.deepStrictEqual(
    err.problems.length,
    Object.keys(secrets).length,
    JSON.stringify(err.problems),
  );
  const text = `${err.message}\n${err.problems.join("\n")}\n${err.stack ?? ""}`;
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(err.message.includes(name), err.message);
    assert.ok(!text.includes(value), `the message leaks ${name}'s value`);
  }
  for (const fragment of ["sekrit", "s3cr3t", "hookSecretValue", "tierSecretRole"]) {
    assert.ok(!text.includes(fragment), `the message leaks ${fragment}`);
  }
});

Deno.test("config: empty and blank strings count as unset", () => {
  const c = parseConfig(env({
    PORT: "",
    LOG_LEVEL: "   ",
    DISCORD_API_BASE: "",
    SYNC_AUTH_TOKEN: "",
    SIGNING_SECRET: " ",
    DISCORD_GUILD_ID: "",
    FORCE_SYNC: "",
    ETHOS_TIERS: "",
    COMMAND_GUILD_IDS: "",
  }));
  assert.deepStrictEqual(c.port, 8000);
  assert.deepStrictEqual(c.logLevel, "info");
  assert.deepStrictEqual(c.discord.apiBase, "https://discord.com/api/v10");
  assert.deepStrictEqual(c.syncAuthToken, undefined);
  assert.deepStrictEqual(c.signingSecret, undefined);
  assert.deepStrictEqual(c.discord.guildId, undefined);
  assert.deepStrictEqual(c.commands.forceSync, false);
  assert.deepStrictEqual(c.ethos.tiers, []);
  assert.deepStrictEqual(c.commands.guildIds, []);

  const err = configError(env({ DISCORD_PUBLIC_KEY: "", DISCORD_TOKEN: "  " }));
  assert.deepStrictEqual(err.problems.sort(), [
    "DISCORD_PUBLIC_KEY is required",
    "DISCORD_TOKEN is required",
  ]);
});

Deno.test("config: surrounding whitespace is trimmed", () => {
  const c = parseConfig(env({ PORT: " 8081 ", DISCORD_APPLICATION_ID: ` ${APP_ID}\n` }));
  assert.deepStrictEqual(c.port, 8081);
  assert.deepStrictEqual(c.discord.applicationId, APP_ID);
});

Deno.test("config: booleans accept true/false, 1/0, yes/no, on/off in any case", () => {
  const flags = {
    FORCE_SYNC: (c: ReturnType<typeof parseConfig>) => c.commands.forceSync,
    SYNC_COMMANDS_ON_START: (c: ReturnType<typeof parseConfig>) => c.commands.syncOnStart,
    AUTO_SYNC_COMMANDS: (c: ReturnType<typeof parseConfig>) => c.commands.autoSync,
    AUTO_CONTINUE_CHUNKS: (c: ReturnType<typeof parseConfig>) => c.sync.autoContinue,
    DISABLE_DAILY_SYNC: (c: ReturnType<typeof parseConfig>) => c.sync.disableDaily,
  };
  for (const [name, read] of Object.entries(flags)) {
    for (const v of ["true", "1", "yes", "on", "TRUE", "Yes", "On"]) {
      assert.deepStrictEqual(read(parseConfig(env({ [name]: v }))), true, `${name}=${v}`);
    }
    for (const v of ["false", "0", "no", "off", "FALSE", "No"]) {
      assert.deepStrictEqual(read(parseConfig(env({ [name]: v }))), false, `${name}=${v}`);
    }
    assert.deepStrictEqual(read(parseConfig(env())), false, `${name} defaults to false`);
  }
  for (const bad of ["maybe", "2", "y", "truee"]) {
    const err = configError(env({ FORCE_SYNC: bad }));
    assert.deepStrictEqual(err.problems, ["FORCE_SYNC must be true or false"]);
  }
});

Deno.test("config: integers must be whole decimal numbers within range", () => {
  assert.deepStrictEqual(parseConfig(env({ PORT: "0" })).port, 0);
  assert.deepStrictEqual(parseConfig(env({ PORT: "65535" })).port, 65535);
  assert.deepStrictEqual(parseConfig(env({ PORT: "0080" })).port, 80);
  for (const bad of ["65536", "-1", "80.5", "1e3", "0x50", "abc", "8080abc", "Infinity"]) {
    const err = configError(env({ PORT: bad }));
    assert.deepStrictEqual(
      err.problems,
      ["PORT must be a whole number from 0 to 65535"],
      `PORT=${bad}`,
    );
  }
  const err = configError(env({ SYNC_CHUNK_SIZE: "0", DISCORD_INVALID_REQUEST_LIMIT: "9" }));
  assert.deepStrictEqual(err.problems.sort(), [
    "DISCORD_INVALID_REQUEST_LIMIT must be a whole number from 10 to 10000",
    "SYNC_CHUNK_SIZE must be a whole number from 1 to 1000000",
  ]);
});

Deno.test("config: LOG_LEVEL is one of four", () => {
  for (const level of ["debug", "info", "warn", "error"] as const) {
    assert.deepStrictEqual(parseConfig(env({ LOG_LEVEL: level })).logLevel, level);
  }
  assert.deepStrictEqual(configError(env({ LOG_LEVEL: "verbose" })).problems, [
    "LOG_LEVEL must be one of debug, info, warn, error",
  ]);
});

Deno.test("config: other formats are checked (key, ids, token and secret lengths)", () => {
  const err = configError(env({
    DISCORD_PUBLIC_KEY: "ab".repeat(31),
    DISCORD_GUILD_ID: "1234567890123456", // 16 digits
    BOT_OWNER_ID: "123456789012345678901", // 21 digits
    DISCORD_TOKEN: "x".repeat(19),
    SYNC_AUTH_TOKEN: "x".repeat(15),
    SIGNING_SECRET: "x".repeat(15),
    ETHOS_CLIENT: "ab",
  }));
  assert.deepStrictEqual(err.problems.map((p) => p.split(" ")[0]).sort(), [
    "BOT_OWNER_ID",
    "DISCORD_GUILD_ID",
    "DISCORD_PUBLIC_KEY",
    "DISCORD_TOKEN",
    "ETHOS_CLIENT",
    "SIGNING_SECRET",
    "SYNC_AUTH_TOKEN",
  ]);
  // The boundaries are accepted.
  const c = parseConfig(env({
    DISCORD_GUILD_ID: "12345678901234567",
    BOT_OWNER_ID: "12345678901234567890",
    DISCORD_TOKEN: "y".repeat(20),
    SYNC_AUTH_TOKEN: "y".repeat(16),
  }));
  assert.deepStrictEqual(c.discord.guildId, "12345678901234567");
  assert.deepStrictEqual(c.syncAuthToken, "y".repeat(16));
});

Deno.test("config: SYNC_AUTH_TOKEN must be sendable as a bearer token (RFC 6750)", () => {
  for (const token of ["with space 0123456789", "semi;colon0123456789", 'quote"0123456789ab']) {
    const err = configError(env({ SYNC_AUTH_TOKEN: token }));
    assert.deepStrictEqual(err.problems.length, 1, token);
    assert.match(err.problems[0], /^SYNC_AUTH_TOKEN may hold only letters, digits/);
    // The refusal never repeats the secret.
    assert.ok(!err.message.includes(token), token);
  }
  const ok = "Az09._~+/-0123456789==";
  assert.deepStrictEqual(parseConfig(env({ SYNC_AUTH_TOKEN: ok })).syncAuthToken, ok);
});

const ROLES = {
  ETHOS_ROLE_EXEMPLARY: "700000000000000001",
  ETHOS_ROLE_REPUTABLE: "700000000000000002",
  ETHOS_ROLE_NEUTRAL: "700000000000000003",
  ETHOS_ROLE_QUESTIONABLE: "700000000000000004",
  ETHOS_ROLE_UNTRUSTED: "700000000000000005",
};

Deno.test("config: ETHOS_ROLE_<LEVEL> gives Ethos's ten levels as default tiers, highest first", () => {
  const levels = [
    ["RENOWNED", "Renowned", 2600],
    ["REVERED", "Revered", 2400],
    ["DISTINGUISHED", "Distinguished", 2200],
    ["EXEMPLARY", "Exemplary", 2000],
    ["REPUTABLE", "Reputable", 1800],
    ["ESTABLISHED", "Established", 1600],
    ["KNOWN", "Known", 1400],
    ["NEUTRAL", "Neutral", 1200],
    ["QUESTIONABLE", "Questionable", 800],
    ["UNTRUSTED", "Untrusted", 0],
  ] as const;
  const all = Object.fromEntries(
    levels.map(([v], i) => [`ETHOS_ROLE_${v}`, String(700000000000000100n + BigInt(i))]),
  );
  assert.deepStrictEqual(
    parseConfig(env(all)).ethos.tiers,
    levels.map(([v, name, minScore]) => ({ name, minScore, roleId: all[`ETHOS_ROLE_${v}`] })),
  );
  // The five older names keep working, on today's thresholds (Reputable from 1800).
  assert.deepStrictEqual(parseConfig(env(ROLES)).ethos.tiers, [
    { name: "Exemplary", minScore: 2000, roleId: ROLES.ETHOS_ROLE_EXEMPLARY },
    { name: "Reputable", minScore: 1800, roleId: ROLES.ETHOS_ROLE_REPUTABLE },
    { name: "Neutral", minScore: 1200, roleId: ROLES.ETHOS_ROLE_NEUTRAL },
    { name: "Questionable", minScore: 800, roleId: ROLES.ETHOS_ROLE_QUESTIONABLE },
    { name: "Untrusted", minScore: 0, roleId: ROLES.ETHOS_ROLE_UNTRUSTED },
  ]);
  // Only the tiers whose role is configured.
  assert.deepStrictEqual(
    parseConfig(env({
      ETHOS_ROLE_UNTRUSTED: ROLES.ETHOS_ROLE_UNTRUSTED,
      ETHOS_ROLE_REPUTABLE: ROLES.ETHOS_ROLE_REPUTABLE,
    })).ethos.tiers,
    [
      { name: "Reputable", minScore: 1800, roleId: ROLES.ETHOS_ROLE_REPUTABLE },
      { name: "Untrusted", minScore: 0, roleId: ROLES.ETHOS_ROLE_UNTRUSTED },
    ],
  );
  assert.deepStrictEqual(configError(env({ ETHOS_ROLE_NEUTRAL: "neutral" })).problems.length, 1);
  assert.deepStrictEqual(configError(env({ ETHOS_VALIDATOR_ROLE_ID: "x" })).problems.length, 1);
  const flags = parseConfig(env({
    ETHOS_VALIDATOR_ROLE_ID: "700000000000000201",
    ETHOS_HUMAN_ROLE_ID: "700000000000000202",
    ETHOS_COUNT_DEFAULT_PROFILES: "true",
  })).ethos;
  assert.deepStrictEqual(
    [flags.validatorRoleId, flags.humanRoleId, flags.countDefaultProfiles],
    ["700000000000000201", "700000000000000202", true],
  );
});

Deno.test("config: ETHOS_TIERS overrides the role variables and is sorted by minScore, highest first", () => {
  const tiers = [
    { name: "Bronze", minScore: 0, roleId: "800000000000000001" },
    { name: "Gold", minScore: 1500, roleId: "800000000000000003" },
    { name: "Silver", minScore: 900, roleId: "800000000000000002" },
  ];
  const c = parseConfig(env({ ...ROLES, ETHOS_TIERS: JSON.stringify(tiers) }));
  assert.deepStrictEqual(c.ethos.tiers, [tiers[1], tiers[2], tiers[0]]);
  // Unknown fields are dropped.
  const extra = parseConfig(env({
    ETHOS_TIERS: JSON.stringify([{ ...tiers[0], colour: "brown" }]),
  }));
  assert.deepStrictEqual(extra.ethos.tiers, [tiers[0]]);
});

Deno.test("config: ETHOS_TIERS that is not JSON is reported as such", () => {
  for (const bad of ["[{name: 'Gold'}]", "not json", "[", "{"]) {
    assert.deepStrictEqual(configError(env({ ETHOS_TIERS: bad })).problems, [
      "ETHOS_TIERS must be JSON: a list of {name, minScore, roleId}",
    ], bad);
  }
});

Deno.test("config: ETHOS_TIERS of the wrong shape is reported", () => {
  const ok = { name: "Gold", minScore: 1000, roleId: "800000000000000003" };
  const shapes: unknown[] = [
    [],
    {},
    ok,
    "Gold",
    [{ ...ok, roleId: "not-an-id" }],
    [{ ...ok, minScore: -1 }],
    [{ ...ok, minScore: 1.5 }],
    [{ ...ok, minScore: "1000" }],
    [{ ...ok, name: "" }],
    [{ name: "Gold", minScore: 1000 }],
    Array.from({ length: 26 }, () => ok),
  ];
  for (const shape of shapes) {
    assert.deepStrictEqual(configError(env({ ETHOS_TIERS: JSON.stringify(shape) })).problems, [
      "ETHOS_TIERS must be a list of {name, minScore, roleId}",
    ], JSON.stringify(shape));
  }
});

Deno.test("config: COMMAND_GUILD_IDS is a comma-separated list of ids", () => {
  const a = "900000000000000001";
  const b = "900000000000000002";
  const c = "900000000000000003";
  assert.deepStrictEqual(parseConfig(env({ COMMAND_GUILD_IDS: a })).commands.guildIds, [a]);
  assert.deepStrictEqual(
    parseConfig(env({ COMMAND_GUILD_IDS: ` ${a}, ${b} ,,${c},` })).commands.guildIds,
    [a, b, c],
  );
  // Takes precedence over DISCORD_GUILD_ID.
  assert.deepStrictEqual(
    parseConfig(env({ COMMAND_GUILD_IDS: b, DISCORD_GUILD_ID: a })).commands.guildIds,
    [b],
  );
  assert.deepStrictEqual(parseConfig(env({ DISCORD_GUILD_ID: a })).commands.guildIds, [a]);
  for (const bad of [`${a};${b}`, `${a},guild`, "123"]) {
    assert.deepStrictEqual(configError(env({ COMMAND_GUILD_IDS: bad })).problems, [
      "COMMAND_GUILD_IDS must be a comma-separated list of Discord ids",
    ], bad);
  }
});

Deno.test("config: URLs must be http(s) and lose their trailing slashes", () => {
  const c = parseConfig(env({
    DISCORD_API_BASE: "http://localhost:8787/api/v10/",
    ETHOS_API_BASE: "https://ethos.example.test/api///",
    SELF_URL: "https://bot.example.test/",
    ALERT_WEBHOOK_URL: "https://alerts.example.test/hook/",
  }));
  assert.deepStrictEqual(c.discord.apiBase, "http://localhost:8787/api/v10");
  assert.deepStrictEqual(c.ethos.apiBase, "https://ethos.example.test/api");
  assert.deepStrictEqual(c.selfUrl, "https://bot.example.test");
  assert.deepStrictEqual(c.ops.alertWebhookUrl, "https://alerts.example.test/hook");
  const err = configError(env({
    DISCORD_API_BASE: "discord.com/api",
    SELF_URL: "ftp://bot.example.test",
    ETHOS_API_BASE: "https://has space.example",
  }));
  assert.deepStrictEqual(err.problems.sort(), [
    "DISCORD_API_BASE must be an http(s) URL",
    "ETHOS_API_BASE must be an http(s) URL",
    "SELF_URL must be an http(s) URL",
  ]);
});

Deno.test("config: configSecrets lists every secret the config holds, and only those", () => {
  assert.deepStrictEqual(configSecrets(parseConfig(env())), [TOKEN]);
  const c = parseConfig(env({
    SYNC_AUTH_TOKEN: "cfg-listed-sync-0123456789",
    SIGNING_SECRET: "cfg-listed-signing-0123456789",
    SIGNING_SECRET_PREVIOUS: "cfg-listed-previous-0123456789",
    ALERT_WEBHOOK_URL: "https://alerts.example.test/cfg-listed-hook/",
    DISCORD_CLIENT_SECRET: "cfg-listed-client-secret",
    SELF_URL: "https://bot.example.test",
  }));
  assert.deepStrictEqual(configSecrets(c), [
    TOKEN,
    "cfg-listed-sync-0123456789",
    "cfg-listed-signing-0123456789",
    "cfg-listed-previous-0123456789",
    "https://alerts.example.test/cfg-listed-hook",
    "cfg-listed-client-secret",
  ]);
});

Deno.test("config: loadConfig registers the configured secrets for redaction", () => {
  const secrets = {
    DISCORD_TOKEN: "cfg-registered-token-1f2e3d4c5b6a",
    SYNC_AUTH_TOKEN: "cfg-registered-sync-9a8b7c6d5e",
    SIGNING_SECRET: "cfg-registered-signing-0f1e2d3c",
    SIGNING_SECRET_PREVIOUS: "cfg-registered-previous-4b5c6d7e",
    ALERT_WEBHOOK_URL: "https://alerts.example.test/cfg-registered-hook-77aa",
    DISCORD_CLIENT_SECRET: "cfg-registered-client-secret-88bb",
  };
  const vars = env({ ...secrets, SELF_URL: "https://bot.example.test" });
  const saved = Object.keys(vars).map((k) => [k, Deno.env.get(k)] as const);
  try {
    for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v!);
    loadConfig();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
  for (const [name, value] of Object.entries(secrets)) {
    assert.deepStrictEqual(redactString(`${name}=${value}`), `${name}=[redacted]`);
  }
});

Deno.test("config: parseConfig registers nothing (it is pure)", () => {
  const token = "cfg-parsed-only-token-3c4d5e6f7a8b";
  parseConfig(env({ DISCORD_TOKEN: token }));
  assert.deepStrictEqual(redactString(`t=${token}`), `t=${token}`);
});

Deno.test("config: a failed parse registers nothing", () => {
  const token = "cfg-unregistered-token-5e6f7a8b9c0d";
  configError({ DISCORD_TOKEN: token });
  assert.deepStrictEqual(redactString(`t=${token}`), `t=${token}`);
});

Deno.test("config: linked roles need SELF_URL; the client secret is a secret; the client id defaults", () => {
  const off = parseConfig(env());
  assert.deepStrictEqual(off.linkedRoles.clientSecret, undefined);
  assert.deepStrictEqual(off.linkedRoles.clientId, off.discord.applicationId);
  assert.deepStrictEqual(off.linkedRoles.authorizeUrl, "https://discord.com/oauth2/authorize");
  const e = configError(env({ DISCORD_CLIENT_SECRET: "client-secret-value-1" }));
  assert.match(e.message, /DISCORD_CLIENT_SECRET needs SELF_URL/);
  assert.ok(!e.message.includes("client-secret-value-1"));
  const on = parseConfig(env({
    DISCORD_CLIENT_SECRET: "client-secret-value-2",
    SELF_URL: "https://bot.example.com/",
    DISCORD_CLIENT_ID: "100000000000000777",
  }));
  assert.deepStrictEqual(
    on.linkedRoles.redirectUri,
    "https://bot.example.com/linked-role/callback",
  );
  assert.deepStrictEqual(on.linkedRoles.clientId, "100000000000000777");
  assert.ok(configSecrets(on).includes("client-secret-value-2"));
});

Deno.test("sync config: bucket limits and the freshness window", () => {
  const c = testConfig({
    SYNC_PATCH_LIMIT: "10/1s",
    SYNC_ROLE_LIMIT: "5/500ms",
    SYNC_FRESH_MS: "3000",
  });
  assert.deepStrictEqual(c.sync.patchLimit, { limit: 10, windowMs: 1000 });
  assert.deepStrictEqual(c.sync.roleLimit, { limit: 5, windowMs: 500 });
  assert.deepStrictEqual(c.sync.freshMs, 3000);
  for (const bad of ["10", "10/0s", "0/10s", "ten/10s", "10/10m"]) {
    assert.throws(
      () => testConfig({ SYNC_PATCH_LIMIT: bad }),
      (e) => e instanceof ConfigError && e.message.includes("SYNC_PATCH_LIMIT"),
    );
  }
});
