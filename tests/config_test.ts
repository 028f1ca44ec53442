import { ConfigError, parseConfig, testConfig, VERSION } from "../lib/config.ts";
import { redactString } from "../lib/log/redact.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "./_assert.ts";

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
  return assertThrows(() => parseConfig(raw), ConfigError);
}

/** The problem line naming `name` (there is exactly one). */
function problemOf(error: ConfigError, name: string): string {
  const lines = error.problems.filter((p) => p.startsWith(`${name} `));
  assertEquals(lines.length, 1, `one problem for ${name} in ${JSON.stringify(error.problems)}`);
  return lines[0];
}

Deno.test("config: defaults for everything optional", () => {
  const c = parseConfig(env());
  assertEquals(c.version, VERSION);
  assertEquals(c.port, 8000);
  assertEquals(c.logLevel, "info");
  assertEquals(c.kvPath, undefined);
  assertEquals(c.selfUrl, undefined);
  assertEquals(c.syncAuthToken, undefined);
  assertEquals(c.signingSecret, undefined);
  assertEquals(c.discord, {
    publicKey: PUBLIC_KEY,
    applicationId: APP_ID,
    token: TOKEN,
    apiBase: "https://discord.com/api/v10",
    guildId: undefined,
    devGuildId: undefined,
    globalRateLimit: 50,
    invalidRequestLimit: 8_000,
  });
  assertEquals(c.ethos, {
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
  assertEquals(c.sync, {
    maxChunkMs: 720_000,
    chunkSize: 50,
    autoContinue: false,
    disableDaily: false,
    patchLimit: { limit: 10, windowMs: 10_000 },
    roleLimit: { limit: 10, windowMs: 10_000 },
    freshMs: 5_000,
    freshness: true,
  });
  assertEquals(c.commands, { forceSync: false, syncOnStart: false, autoSync: false, guildIds: [] });
  assertEquals(c.backup, { maxPerGuild: 25, cooldownS: 300, retentionDays: 0, ownerId: undefined });
  assertEquals(c.ops, {
    alertWebhookUrl: undefined,
    auditRetentionDays: 0,
    guildRetentionDays: 30,
  });
});

Deno.test("config: testConfig is complete and takes overrides", () => {
  const c = testConfig();
  assertEquals(c.port, 8000);
  assertMatch(c.discord.publicKey, /^[0-9a-f]{64}$/);
  assertMatch(c.discord.applicationId, /^\d{17,20}$/);
  assertEquals(testConfig({ PORT: "9001", LOG_LEVEL: "debug" }).port, 9001);
  assertEquals(testConfig({ LOG_LEVEL: "debug" }).logLevel, "debug");
  assertThrows(() => testConfig({ DISCORD_APPLICATION_ID: "nope" }), ConfigError);
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
  assertEquals(c.port, 9000);
  assertEquals(c.logLevel, "warn");
  assertEquals(c.kvPath, "/tmp/bot.kv");
  assertEquals(c.selfUrl, "https://bot.example.test");
  assertEquals(c.syncAuthToken, "sync-auth-token-0123456789");
  assertEquals(c.signingSecret, "signing-secret-0123456789");
  assertEquals(c.discord.publicKey, PUBLIC_KEY, "public key is lower-cased");
  assertEquals(c.discord.guildId, "200000000000000002");
  assertEquals(c.discord.devGuildId, "300000000000000003");
  assertEquals(c.discord.globalRateLimit, 40);
  assertEquals(c.discord.invalidRequestLimit, 5000);
  assertEquals(c.ethos.client, "my-client");
  assertEquals(c.ethos.profileRoleId, "400000000000000004");
  assertEquals(c.ethos.verifiedRoleId, "500000000000000005");
  assertEquals(c.ethos.scoreTtlMs, 60_000);
  assertEquals(c.ethos.noScoreTtlMs, 0);
  assertEquals(c.sync.maxChunkMs, 60_000);
  assertEquals(c.sync.chunkSize, 10);
  assertEquals(c.backup, {
    maxPerGuild: 3,
    cooldownS: 0,
    retentionDays: 30,
    ownerId: "600000000000000006",
  });
  assertEquals(c.ops.auditRetentionDays, 90);
  assertEquals(c.commands.guildIds, ["200000000000000002"], "falls back to DISCORD_GUILD_ID");
});

Deno.test("config: one error names every bad variable at once", () => {
  const err = configError({
    DISCORD_APPLICATION_ID: "12345",
    DISCORD_TOKEN: TOKEN,
    PORT: "eighty",
  });
  assertInstanceOf(err, Error);
  assertEquals(err.name, "ConfigError");
  assertEquals(err.problems.length, 3, JSON.stringify(err.problems));
  assertEquals(problemOf(err, "DISCORD_PUBLIC_KEY"), "DISCORD_PUBLIC_KEY is required");
  assertStringIncludes(problemOf(err, "DISCORD_APPLICATION_ID"), "Discord id");
  assertStringIncludes(problemOf(err, "PORT"), "whole number");
  for (const name of ["DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID", "PORT"]) {
    assertStringIncludes(err.message, name);
  }
  assert(!err.message.includes("DISCORD_TOKEN"), "a good variable is not named");
  assertMatch(err.message, /^Invalid configuration:\n {2}- /);
});

Deno.test("config: every required variable is reported missing from an empty environment", () => {
  const err = configError({});
  assertEquals(err.problems.sort(), [
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
  assertEquals(err.problems.length, Object.keys(secrets).length, JSON.stringify(err.problems));
  const text = `${err.message}\n${err.problems.join("\n")}\n${err.stack ?? ""}`;
  for (const [name, value] of Object.entries(secrets)) {
    assertStringIncludes(err.message, name);
    assert(!text.includes(value), `the message leaks ${name}'s value`);
  }
  for (const fragment of ["sekrit", "s3cr3t", "hookSecretValue", "tierSecretRole"]) {
    assert(!text.includes(fragment), `the message leaks ${fragment}`);
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
  assertEquals(c.port, 8000);
  assertEquals(c.logLevel, "info");
  assertEquals(c.discord.apiBase, "https://discord.com/api/v10");
  assertEquals(c.syncAuthToken, undefined);
  assertEquals(c.signingSecret, undefined);
  assertEquals(c.discord.guildId, undefined);
  assertEquals(c.commands.forceSync, false);
  assertEquals(c.ethos.tiers, []);
  assertEquals(c.commands.guildIds, []);

  const err = configError(env({ DISCORD_PUBLIC_KEY: "", DISCORD_TOKEN: "  " }));
  assertEquals(err.problems.sort(), [
    "DISCORD_PUBLIC_KEY is required",
    "DISCORD_TOKEN is required",
  ]);
});

Deno.test("config: surrounding whitespace is trimmed", () => {
  const c = parseConfig(env({ PORT: " 8081 ", DISCORD_APPLICATION_ID: ` ${APP_ID}\n` }));
  assertEquals(c.port, 8081);
  assertEquals(c.discord.applicationId, APP_ID);
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
      assertEquals(read(parseConfig(env({ [name]: v }))), true, `${name}=${v}`);
    }
    for (const v of ["false", "0", "no", "off", "FALSE", "No"]) {
      assertEquals(read(parseConfig(env({ [name]: v }))), false, `${name}=${v}`);
    }
    assertEquals(read(parseConfig(env())), false, `${name} defaults to false`);
  }
  for (const bad of ["maybe", "2", "y", "truee"]) {
    const err = configError(env({ FORCE_SYNC: bad }));
    assertEquals(err.problems, ["FORCE_SYNC must be true or false"]);
  }
});

Deno.test("config: integers must be whole decimal numbers within range", () => {
  assertEquals(parseConfig(env({ PORT: "0" })).port, 0);
  assertEquals(parseConfig(env({ PORT: "65535" })).port, 65535);
  assertEquals(parseConfig(env({ PORT: "0080" })).port, 80);
  for (const bad of ["65536", "-1", "80.5", "1e3", "0x50", "abc", "8080abc", "Infinity"]) {
    const err = configError(env({ PORT: bad }));
    assertEquals(err.problems, ["PORT must be a whole number from 0 to 65535"], `PORT=${bad}`);
  }
  const err = configError(env({ SYNC_CHUNK_SIZE: "0", DISCORD_INVALID_REQUEST_LIMIT: "9" }));
  assertEquals(err.problems.sort(), [
    "DISCORD_INVALID_REQUEST_LIMIT must be a whole number from 10 to 10000",
    "SYNC_CHUNK_SIZE must be a whole number from 1 to 1000000",
  ]);
});

Deno.test("config: LOG_LEVEL is one of four", () => {
  for (const level of ["debug", "info", "warn", "error"] as const) {
    assertEquals(parseConfig(env({ LOG_LEVEL: level })).logLevel, level);
  }
  assertEquals(configError(env({ LOG_LEVEL: "verbose" })).problems, [
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
  assertEquals(err.problems.map((p) => p.split(" ")[0]).sort(), [
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
  assertEquals(c.discord.guildId, "12345678901234567");
  assertEquals(c.syncAuthToken, "y".repeat(16));
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
  assertEquals(
    parseConfig(env(all)).ethos.tiers,
    levels.map(([v, name, minScore]) => ({ name, minScore, roleId: all[`ETHOS_ROLE_${v}`] })),
  );
  // The five older names keep working, on today's thresholds (Reputable from 1800).
  assertEquals(parseConfig(env(ROLES)).ethos.tiers, [
    { name: "Exemplary", minScore: 2000, roleId: ROLES.ETHOS_ROLE_EXEMPLARY },
    { name: "Reputable", minScore: 1800, roleId: ROLES.ETHOS_ROLE_REPUTABLE },
    { name: "Neutral", minScore: 1200, roleId: ROLES.ETHOS_ROLE_NEUTRAL },
    { name: "Questionable", minScore: 800, roleId: ROLES.ETHOS_ROLE_QUESTIONABLE },
    { name: "Untrusted", minScore: 0, roleId: ROLES.ETHOS_ROLE_UNTRUSTED },
  ]);
  // Only the tiers whose role is configured.
  assertEquals(
    parseConfig(env({
      ETHOS_ROLE_UNTRUSTED: ROLES.ETHOS_ROLE_UNTRUSTED,
      ETHOS_ROLE_REPUTABLE: ROLES.ETHOS_ROLE_REPUTABLE,
    })).ethos.tiers,
    [
      { name: "Reputable", minScore: 1800, roleId: ROLES.ETHOS_ROLE_REPUTABLE },
      { name: "Untrusted", minScore: 0, roleId: ROLES.ETHOS_ROLE_UNTRUSTED },
    ],
  );
  assertEquals(configError(env({ ETHOS_ROLE_NEUTRAL: "neutral" })).problems.length, 1);
  assertEquals(configError(env({ ETHOS_VALIDATOR_ROLE_ID: "x" })).problems.length, 1);
  const flags = parseConfig(env({
    ETHOS_VALIDATOR_ROLE_ID: "700000000000000201",
    ETHOS_HUMAN_ROLE_ID: "700000000000000202",
    ETHOS_COUNT_DEFAULT_PROFILES: "true",
  })).ethos;
  assertEquals(
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
  assertEquals(c.ethos.tiers, [tiers[1], tiers[2], tiers[0]]);
  // Unknown fields are dropped.
  const extra = parseConfig(env({
    ETHOS_TIERS: JSON.stringify([{ ...tiers[0], colour: "brown" }]),
  }));
  assertEquals(extra.ethos.tiers, [tiers[0]]);
});

Deno.test("config: ETHOS_TIERS that is not JSON is reported as such", () => {
  for (const bad of ["[{name: 'Gold'}]", "not json", "[", "{"]) {
    assertEquals(configError(env({ ETHOS_TIERS: bad })).problems, [
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
    assertEquals(configError(env({ ETHOS_TIERS: JSON.stringify(shape) })).problems, [
      "ETHOS_TIERS must be a list of {name, minScore, roleId}",
    ], JSON.stringify(shape));
  }
});

Deno.test("config: COMMAND_GUILD_IDS is a comma-separated list of ids", () => {
  const a = "900000000000000001";
  const b = "900000000000000002";
  const c = "900000000000000003";
  assertEquals(parseConfig(env({ COMMAND_GUILD_IDS: a })).commands.guildIds, [a]);
  assertEquals(
    parseConfig(env({ COMMAND_GUILD_IDS: ` ${a}, ${b} ,,${c},` })).commands.guildIds,
    [a, b, c],
  );
  // Takes precedence over DISCORD_GUILD_ID.
  assertEquals(
    parseConfig(env({ COMMAND_GUILD_IDS: b, DISCORD_GUILD_ID: a })).commands.guildIds,
    [b],
  );
  assertEquals(parseConfig(env({ DISCORD_GUILD_ID: a })).commands.guildIds, [a]);
  for (const bad of [`${a};${b}`, `${a},guild`, "123"]) {
    assertEquals(configError(env({ COMMAND_GUILD_IDS: bad })).problems, [
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
  assertEquals(c.discord.apiBase, "http://localhost:8787/api/v10");
  assertEquals(c.ethos.apiBase, "https://ethos.example.test/api");
  assertEquals(c.selfUrl, "https://bot.example.test");
  assertEquals(c.ops.alertWebhookUrl, "https://alerts.example.test/hook");
  const err = configError(env({
    DISCORD_API_BASE: "discord.com/api",
    SELF_URL: "ftp://bot.example.test",
    ETHOS_API_BASE: "https://has space.example",
  }));
  assertEquals(err.problems.sort(), [
    "DISCORD_API_BASE must be an http(s) URL",
    "ETHOS_API_BASE must be an http(s) URL",
    "SELF_URL must be an http(s) URL",
  ]);
});

Deno.test("config: the configured secrets are registered for redaction", () => {
  const token = "cfg-registered-token-1f2e3d4c5b6a";
  const sync = "cfg-registered-sync-9a8b7c6d5e";
  const signing = "cfg-registered-signing-0f1e2d3c";
  const hook = "https://alerts.example.test/cfg-registered-hook-77aa";
  parseConfig(env({
    DISCORD_TOKEN: token,
    SYNC_AUTH_TOKEN: sync,
    SIGNING_SECRET: signing,
    ALERT_WEBHOOK_URL: hook,
  }));
  const out = redactString(`t=${token} s=${sync} g=${signing} h=${hook}`);
  assertEquals(out, "t=[redacted] s=[redacted] g=[redacted] h=[redacted]");
});

Deno.test("config: a failed parse registers nothing", () => {
  const token = "cfg-unregistered-token-5e6f7a8b9c0d";
  configError({ DISCORD_TOKEN: token });
  assertEquals(redactString(`t=${token}`), `t=${token}`);
});

Deno.test("config: linked roles need SELF_URL; the client secret is redacted; the client id defaults", () => {
  const off = parseConfig(env());
  assertEquals(off.linkedRoles.clientSecret, undefined);
  assertEquals(off.linkedRoles.clientId, off.discord.applicationId);
  assertEquals(off.linkedRoles.authorizeUrl, "https://discord.com/oauth2/authorize");
  const e = configError(env({ DISCORD_CLIENT_SECRET: "client-secret-value-1" }));
  assertStringIncludes(e.message, "DISCORD_CLIENT_SECRET needs SELF_URL");
  assert(!e.message.includes("client-secret-value-1"));
  const on = parseConfig(env({
    DISCORD_CLIENT_SECRET: "client-secret-value-2",
    SELF_URL: "https://bot.example.com/",
    DISCORD_CLIENT_ID: "100000000000000777",
  }));
  assertEquals(on.linkedRoles.redirectUri, "https://bot.example.com/linked-role/callback");
  assertEquals(on.linkedRoles.clientId, "100000000000000777");
  assertEquals(redactString("secret=client-secret-value-2"), "secret=[redacted]");
});
