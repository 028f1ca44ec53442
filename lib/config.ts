/**
 * The environment, parsed once with zod. The only module that reads Deno.env. A bad environment
 * stops start-up with one message naming every bad variable (never its value: some are secrets).
 * Kept whole at about 400 lines: it is mostly the schema and its mapping to Config, which read best
 * side by side, and splitting it would make a second reader of Deno.env.
 */
import { z } from "zod";
import { registerSecret } from "./log/redact.ts";

export const VERSION = "0.1.0";

const snowflake = z.string().regex(/^\d{17,20}$/, "must be a Discord id (17-20 digits)");
const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);
/** true/false, 1/0, yes/no, on/off, in any case ("TRUE" is as good as "true"). */
const bool = z.string().transform((v, ctx) => {
  const s = v.toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  ctx.addIssue({ code: "custom", message: "must be true or false" });
  return z.NEVER;
});
/** A whole decimal number in [min, max]; "1e3", "0x50" or "80.5" are mistakes, not numbers. */
const int = (min: number, max: number) =>
  z.string().transform((v, ctx) => {
    const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) {
      ctx.addIssue({ code: "custom", message: `must be a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });
/** A rate-limit bucket "<limit>/<window>", window in s or ms: "10/10s", "50/1s", "10/500ms". */
const bucketSpec = z.string().transform((v, ctx) => {
  const m = /^(\d{1,6})\/(\d{1,7})(ms|s)$/.exec(v.trim());
  const limit = m ? Number(m[1]) : 0;
  const windowMs = m ? Number(m[2]) * (m[3] === "s" ? 1000 : 1) : 0;
  if (!m || limit < 1 || windowMs < 1) {
    ctx.addIssue({ code: "custom", message: 'must look like "10/10s" (requests per window)' });
    return z.NEVER;
  }
  return { limit, windowMs };
});
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL").transform((u) =>
  u.replace(/\/+$/, "")
);
const idList = z.string().transform((s, ctx) => {
  const ids = s.split(",").map((x) => x.trim()).filter(Boolean);
  for (const id of ids) {
    if (!/^\d{17,20}$/.test(id)) {
      ctx.addIssue({ code: "custom", message: "must be a comma-separated list of Discord ids" });
      return z.NEVER;
    }
  }
  return ids;
});

const tierSchema = z.object({
  name: z.string().min(1).max(50),
  minScore: z.number().int().min(0).max(100_000),
  roleId: snowflake,
  /** Variants: given instead of `roleId` to validator holders, human-verified members, or both. */
  validatorRoleId: snowflake.optional(),
  humanRoleId: snowflake.optional(),
  humanValidatorRoleId: snowflake.optional(),
});
export type Tier = z.infer<typeof tierSchema>;
const tiersJson = z.string().transform((s, ctx) => {
  let raw: unknown;
  try {
    raw = JSON.parse(s);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be JSON: a list of {name, minScore, roleId}" });
    return z.NEVER;
  }
  const parsed = z.array(tierSchema).min(1).max(25).safeParse(raw);
  if (!parsed.success) {
    ctx.addIssue({ code: "custom", message: "must be a list of {name, minScore, roleId}" });
    return z.NEVER;
  }
  return parsed.data;
});

const envSchema = z.object({
  PORT: int(0, 65535).default(8000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"], {
    message: "must be one of debug, info, warn, error",
  }).default("info"),
  KV_PATH: z.string().min(1).optional(),
  SELF_URL: httpUrl.optional(),
  // RFC 6750's token syntax: what an Authorization: Bearer header can carry (and bearerAuth takes).
  SYNC_AUTH_TOKEN: z.string().min(16, "must be at least 16 characters").regex(
    /^[A-Za-z0-9._~+/-]+=*$/,
    "may hold only letters, digits and . _ ~ + / - (then = padding): a bearer token",
  ).optional(),
  SIGNING_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  SIGNING_SECRET_PREVIOUS: z.string().min(16, "must be at least 16 characters").optional(),

  DISCORD_PUBLIC_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters"),
  DISCORD_APPLICATION_ID: snowflake,
  DISCORD_TOKEN: z.string().min(20, "must be a bot token"),
  DISCORD_API_BASE: httpUrl.default("https://discord.com/api/v10"),
  DISCORD_GUILD_ID: snowflake.optional(),
  DISCORD_DEV_GUILD_ID: snowflake.optional(),
  DISCORD_GLOBAL_RATE_LIMIT: int(1, 10_000).default(50),
  DISCORD_INVALID_REQUEST_LIMIT: int(10, 10_000).default(8_000),

  ETHOS_API_BASE: httpUrl.default("https://api.ethos.network/api/v2"),
  ETHOS_CLIENT: z.string().min(3).optional(),
  ETHOS_TIERS: tiersJson.optional(),
  ETHOS_ROLE_RENOWNED: snowflake.optional(),
  ETHOS_ROLE_REVERED: snowflake.optional(),
  ETHOS_ROLE_DISTINGUISHED: snowflake.optional(),
  ETHOS_ROLE_EXEMPLARY: snowflake.optional(),
  ETHOS_ROLE_REPUTABLE: snowflake.optional(),
  ETHOS_ROLE_ESTABLISHED: snowflake.optional(),
  ETHOS_ROLE_KNOWN: snowflake.optional(),
  ETHOS_ROLE_NEUTRAL: snowflake.optional(),
  ETHOS_ROLE_QUESTIONABLE: snowflake.optional(),
  ETHOS_ROLE_UNTRUSTED: snowflake.optional(),
  ETHOS_VERIFIED_PROFILE_ROLE_ID: snowflake.optional(),
  ETHOS_VALIDATOR_ROLE_ID: snowflake.optional(),
  ETHOS_HUMAN_ROLE_ID: snowflake.optional(),
  ETHOS_COUNT_DEFAULT_PROFILES: bool.default(false),
  VERIFIED_ROLE_ID: snowflake.optional(),
  ETHOS_SCORE_TTL_S: int(0, 7 * 86_400).default(3_600),
  ETHOS_NO_SCORE_TTL_S: int(0, 7 * 86_400).default(600),

  SYNC_MAX_CHUNK_MS: int(1_000, 3_600_000).default(12 * 60_000),
  SYNC_CHUNK_SIZE: int(1, 1_000_000).default(50),
  AUTO_CONTINUE_CHUNKS: bool.default(false),
  DISABLE_DAILY_SYNC: bool.default(false),
  SYNC_PATCH_LIMIT: bucketSpec.default({ limit: 10, windowMs: 10_000 }),
  SYNC_ROLE_LIMIT: bucketSpec.default({ limit: 10, windowMs: 10_000 }),
  SYNC_FRESH_MS: int(0, 60_000).default(5_000),
  SYNC_FRESHNESS: bool.default(true),

  FORCE_SYNC: bool.default(false),
  SYNC_COMMANDS_ON_START: bool.default(false),
  AUTO_SYNC_COMMANDS: bool.default(false),
  COMMAND_GUILD_IDS: idList.optional(),

  BACKUP_MAX_PER_GUILD: int(1, 1_000).default(25),
  BACKUP_COOLDOWN: int(0, 86_400).default(300),
  BACKUP_RETENTION_DAYS: int(0, 3_650).default(0),
  BOT_OWNER_ID: snowflake.optional(),

  ALERT_WEBHOOK_URL: httpUrl.optional(),
  DISCORD_CLIENT_ID: snowflake.optional(),
  DISCORD_CLIENT_SECRET: z.string().min(8, "must be at least 8 characters").optional(),
  DISCORD_OAUTH_AUTHORIZE_URL: httpUrl.default("https://discord.com/oauth2/authorize"),
  AUDIT_RETENTION_DAYS: int(0, 3_650).default(0),
  GUILD_RETENTION_DAYS: int(0, 3_650).default(30),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  version: string;
  port: number;
  logLevel: Env["LOG_LEVEL"];
  kvPath?: string;
  selfUrl?: string;
  syncAuthToken?: string;
  /** Key material for signed custom IDs, links and sessions (lib/signing_keys.ts); unset: KV's. */
  signingSecret?: string;
  /** The secret before a rotation: accepted when verifying, never used to sign. */
  signingSecretPrevious?: string;
  discord: {
    publicKey: string;
    applicationId: string;
    token: string;
    apiBase: string;
    guildId?: string;
    devGuildId?: string;
    globalRateLimit: number;
    invalidRequestLimit: number;
  };
  ethos: {
    apiBase: string;
    client: string;
    /** Highest minScore first. Empty when no tier role is configured. */
    tiers: Tier[];
    /** The tiers come from ETHOS_TIERS (not the level variables). */
    tiersFromJson: boolean;
    verifiedRoleId?: string;
    profileRoleId?: string;
    /** Verified members with a profile who hold an Ethos validator NFT. */
    validatorRoleId?: string;
    /** Verified members with a profile whose human verification is VERIFIED. */
    humanRoleId?: string;
    /** Whether a default (untouched) profile counts as a score. */
    countDefaultProfiles: boolean;
    scoreTtlMs: number;
    noScoreTtlMs: number;
  };
  sync: {
    maxChunkMs: number;
    chunkSize: number;
    autoContinue: boolean;
    disableDaily: boolean;
    /** Member PATCH bucket per guild (Discord reports 10 per 10 s). */
    patchLimit: { limit: number; windowMs: number };
    /** Member role PUT/DELETE bucket per guild (Discord reports 10 per 10 s). */
    roleLimit: { limit: number; windowMs: number };
    /** A member PATCH is computed from roles read at most this long before (else re-read). */
    freshMs: number;
    /** The freshness pass (every minute: Ethos score changes to roles). */
    freshness: boolean;
  };
  commands: { forceSync: boolean; syncOnStart: boolean; autoSync: boolean; guildIds: string[] };
  backup: { maxPerGuild: number; cooldownS: number; retentionDays: number; ownerId?: string };
  ops: { alertWebhookUrl?: string; auditRetentionDays: number; guildRetentionDays: number };
  /** Ethos as Discord linked roles (lib/linked_roles/): on when a client secret is set. */
  linkedRoles: {
    clientId: string;
    clientSecret?: string;
    authorizeUrl: string;
    /** Exactly `{SELF_URL}/linked-role/callback` (register it in the developer portal). */
    redirectUri?: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Ethos's ten levels (API strings, lowest first) and where each starts. */
export const LEVELS = [
  ["untrusted", 0],
  ["questionable", 800],
  ["neutral", 1200],
  ["known", 1400],
  ["established", 1600],
  ["reputable", 1800],
  ["exemplary", 2000],
  ["distinguished", 2200],
  ["revered", 2400],
  ["renowned", 2600],
] as const;
export type Level = typeof LEVELS[number][0];

/**
 * Default tiers: Ethos's ten levels, each used when its `ETHOS_ROLE_<LEVEL>` is set. A level
 * without a role falls to the nearest lower level that has one (the highest tier a score reaches).
 */
function defaultTiers(env: Env): Tier[] {
  return LEVELS.flatMap(([level, minScore]) => {
    const roleId = env[`ETHOS_ROLE_${level.toUpperCase()}` as keyof Env] as string | undefined;
    return roleId ? [{ name: level[0].toUpperCase() + level.slice(1), minScore, roleId }] : [];
  });
}

/**
 * Parses an environment map. Empty strings count as unset. Throws ConfigError. Pure: registering
 * the secrets with the redactor is loadConfig's job (see {@link configSecrets}).
 */
export function parseConfig(raw: Record<string, string | undefined>): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = raw[key]?.trim();
    if (value) cleaned[key] = value;
  }
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = new Map<string, string>();
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      const message = issue.code === "invalid_type" && cleaned[name] === undefined
        ? "is required"
        : issue.message;
      if (!problems.has(name)) problems.set(name, `${name} ${message}`);
    }
    throw new ConfigError([...problems.values()]);
  }
  const env = result.data;
  if (env.DISCORD_CLIENT_SECRET && !env.SELF_URL) {
    throw new ConfigError([
      "DISCORD_CLIENT_SECRET needs SELF_URL: linked roles redirect to {SELF_URL}/linked-role/callback",
    ]);
  }
  if (env.SIGNING_SECRET_PREVIOUS && !env.SIGNING_SECRET) {
    throw new ConfigError([
      "SIGNING_SECRET_PREVIOUS is only accepted for verification and needs SIGNING_SECRET",
    ]);
  }
  const tiers = [...(env.ETHOS_TIERS ?? defaultTiers(env))].sort((a, b) => b.minScore - a.minScore);
  const config: Config = {
    version: VERSION,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    kvPath: env.KV_PATH,
    selfUrl: env.SELF_URL,
    syncAuthToken: env.SYNC_AUTH_TOKEN,
    signingSecret: env.SIGNING_SECRET,
    signingSecretPrevious: env.SIGNING_SECRET_PREVIOUS,
    discord: {
      publicKey: env.DISCORD_PUBLIC_KEY.toLowerCase(),
      applicationId: env.DISCORD_APPLICATION_ID,
      token: env.DISCORD_TOKEN,
      apiBase: env.DISCORD_API_BASE,
      guildId: env.DISCORD_GUILD_ID,
      devGuildId: env.DISCORD_DEV_GUILD_ID,
      globalRateLimit: env.DISCORD_GLOBAL_RATE_LIMIT,
      invalidRequestLimit: env.DISCORD_INVALID_REQUEST_LIMIT,
    },
    ethos: {
      apiBase: env.ETHOS_API_BASE,
      client: env.ETHOS_CLIENT ?? `ethos-discord-bot@${VERSION}`,
      tiers,
      tiersFromJson: env.ETHOS_TIERS !== undefined,
      verifiedRoleId: env.VERIFIED_ROLE_ID,
      profileRoleId: env.ETHOS_VERIFIED_PROFILE_ROLE_ID,
      validatorRoleId: env.ETHOS_VALIDATOR_ROLE_ID,
      humanRoleId: env.ETHOS_HUMAN_ROLE_ID,
      countDefaultProfiles: env.ETHOS_COUNT_DEFAULT_PROFILES,
      scoreTtlMs: env.ETHOS_SCORE_TTL_S * 1000,
      noScoreTtlMs: env.ETHOS_NO_SCORE_TTL_S * 1000,
    },
    sync: {
      maxChunkMs: env.SYNC_MAX_CHUNK_MS,
      chunkSize: env.SYNC_CHUNK_SIZE,
      autoContinue: env.AUTO_CONTINUE_CHUNKS,
      disableDaily: env.DISABLE_DAILY_SYNC,
      patchLimit: env.SYNC_PATCH_LIMIT,
      roleLimit: env.SYNC_ROLE_LIMIT,
      freshMs: env.SYNC_FRESH_MS,
      freshness: env.SYNC_FRESHNESS,
    },
    commands: {
      forceSync: env.FORCE_SYNC,
      syncOnStart: env.SYNC_COMMANDS_ON_START,
      autoSync: env.AUTO_SYNC_COMMANDS,
      guildIds: env.COMMAND_GUILD_IDS ??
        (env.DISCORD_GUILD_ID ? [env.DISCORD_GUILD_ID] : []),
    },
    backup: {
      maxPerGuild: env.BACKUP_MAX_PER_GUILD,
      cooldownS: env.BACKUP_COOLDOWN,
      retentionDays: env.BACKUP_RETENTION_DAYS,
      ownerId: env.BOT_OWNER_ID,
    },
    ops: {
      alertWebhookUrl: env.ALERT_WEBHOOK_URL,
      auditRetentionDays: env.AUDIT_RETENTION_DAYS,
      guildRetentionDays: env.GUILD_RETENTION_DAYS,
    },
    linkedRoles: {
      clientId: env.DISCORD_CLIENT_ID ?? env.DISCORD_APPLICATION_ID,
      clientSecret: env.DISCORD_CLIENT_SECRET,
      authorizeUrl: env.DISCORD_OAUTH_AUTHORIZE_URL,
      redirectUri: env.SELF_URL ? `${env.SELF_URL}/linked-role/callback` : undefined,
    },
  };
  return config;
}

/**
 * The secret values a config holds (bot token, operator token, signing secrets, alert webhook URL,
 * OAuth client secret), for the redactor.
 */
export function configSecrets(config: Config): string[] {
  return [
    config.discord.token,
    config.syncAuthToken,
    config.signingSecret,
    config.signingSecretPrevious,
    config.ops.alertWebhookUrl,
    config.linkedRoles.clientSecret,
  ].filter((s): s is string => s !== undefined);
}

/**
 * The bot's environment, read once (this module is the only reader of Deno.env: here and in
 * cliEnv). Its secrets are registered with the redactor before anything can log them, so nothing
 * logged or replied carries them.
 */
export function loadConfig(): Config {
  const config = parseConfig(Deno.env.toObject());
  for (const secret of configSecrets(config)) registerSecret(secret);
  return config;
}

const cliEnvSchema = z.object({
  SYNC_URL: httpUrl.optional(),
  SYNC_AUTH_TOKEN: z.string().min(1).optional(),
  DISCORD_GUILD_ID: snowflake.optional(),
  NO_COLOR: z.string().optional(),
});
export type CliEnv = Partial<Record<keyof z.infer<typeof cliEnvSchema>, string>>;

/**
 * The few variables the operator CLIs read (never the bot's secrets). Invalid values are
 * dropped with a warning rather than fatal: a CLI flag can still supply them.
 */
export function cliEnv(): CliEnv {
  let raw: Record<string, string> = {};
  try {
    raw = Deno.env.toObject();
  } catch {
    return {}; // no --allow-env: flags only
  }
  const out: CliEnv = {};
  for (const key of Object.keys(cliEnvSchema.shape) as (keyof CliEnv)[]) {
    const value = raw[key]?.trim();
    if (!value) continue;
    const parsed = cliEnvSchema.shape[key].safeParse(value);
    if (parsed.success) out[key] = key === "SYNC_URL" ? parsed.data as string : value;
    else console.error(`warning: ignoring ${key}: ${parsed.error.issues[0]?.message}`);
  }
  return out;
}
