/**
 * Properties every request must keep, shared by the suite (tests/e2e/properties_test.ts: fixed seed,
 * bounded runs) and bench/fuzz.ts (many more runs): signed interactions built from arbitrary JSON
 * or from mutations of valid interactions, and operator routes with arbitrary bodies and query
 * strings, never answer 5xx, never log at error level, never dispatch a payload refused as
 * invalid, and never return a configured secret.
 */
import fc from "fast-check";
import {
  ApplicationCommandOptionType,
  InteractionType,
  PermissionFlagsBits,
} from "discord-api-types/v10";
import {
  autocompleteInteraction,
  commandInteraction,
  componentInteraction,
  subcommand,
  USER_ID,
} from "./_harness.ts";
import { Metrics } from "../lib/ops/metrics.ts";
import { type Fixture, GUILD as GUILD_ID, startFixture, TOKEN } from "./backup/_fixture.ts";
import { emulatorCallback } from "./_bot.ts";
import type { LogFields } from "../lib/log/log.ts";

export const SECRETS = {
  SIGNING_SECRET: "signing-secret-property-0123456789",
  ALERT_WEBHOOK_URL: "https://discord.com/api/webhooks/1/property-webhook-secret",
};

export interface PropertyBot {
  fx: Fixture;
  metrics: Metrics;
  /** Signed custom IDs the bot really issues, for valid component interactions. */
  customIds: string[];
  secrets: string[];
  close(): Promise<void>;
}

/** The bot in-process against the Discord emulator (a small seeded guild). */
export async function propertyBot(): Promise<PropertyBot> {
  const metrics = new Metrics();
  const fx = await startFixture({ guilds: [{ members: 20 }] }, {
    env: { ...SECRETS, LOG_LEVEL: "info" },
    metrics,
  });
  const now = fx.bot.deps.clock.now();
  const ids = fx.bot.app.customIds;
  const customIds = await Promise.all([
    ids.sign("help.page", `${USER_ID}.0.1`, 3_600_000, now),
    ids.sign("help.category", USER_ID, 3_600_000, now),
  ]);
  const secrets = [...Object.values(SECRETS), TOKEN, fx.bot.deps.config.discord.token];
  return { fx, metrics, customIds, secrets, close: () => fx.close() };
}

/** A problem found, or null. */
export type Finding = string | null;

async function dispatched(metrics: Metrics): Promise<number> {
  const data = await metrics.interactions.get();
  return data.values.reduce((sum, v) => sum + v.value, 0);
}

function leaked(bot: PropertyBot, text: string): boolean {
  return bot.secrets.some((s) => text.includes(s));
}

function errorsSince(bot: PropertyBot, mark: number): LogFields[] {
  return bot.fx.bot.log.lines.slice(mark).filter((l) => l.level === "error");
}

/** Signs and posts one payload; says what is wrong with the answer, if anything. */
export async function checkInteraction(bot: PropertyBot, payload: unknown): Promise<Finding> {
  const { fx, metrics } = bot;
  const mark = fx.bot.log.lines.length;
  const before = await dispatched(metrics);
  const raw = JSON.stringify(payload) ?? "null";
  const res = await fx.bot.postRaw(raw);
  const body = await res.text();
  if (res.status === 200) {
    // Discord's part: the answer becomes the original message that deferred work edits.
    const p = payload as { id: string; token: string };
    await emulatorCallback(fx.emu, p, JSON.parse(body)).catch(() => {});
  }
  await fx.bot.settle();
  const after = await dispatched(metrics);
  if (res.status >= 500) return `HTTP ${res.status}: ${body.slice(0, 200)}`;
  if (leaked(bot, body)) return "a secret reached the response";
  const errors = errorsSince(bot, mark);
  if (errors.length) return `error-level log: ${JSON.stringify(errors[0]).slice(0, 400)}`;
  if (res.status !== 200 && after !== before) return `HTTP ${res.status} yet it was dispatched`;
  if (res.status === 200 && after === before) return "HTTP 200 without a dispatch";
  return null;
}

/** The valid interactions mutations start from: every kind, real commands, real custom IDs. */
export function validInteractions(bot: PropertyBot): unknown[] {
  const admin = { permissions: PermissionFlagsBits.Administrator };
  const member = { permissions: 0n, roles: ["210000000000000001"] };
  const [page, category] = bot.customIds;
  return [
    {
      id: "400000000000000001",
      application_id: "100000000000000001",
      type: 1,
      token: "t",
      version: 1,
    },
    commandInteraction("help", [], member),
    commandInteraction("help", [], { guildId: null }),
    commandInteraction("ethos_sync_status", [], member),
    commandInteraction("audit", [], admin),
    commandInteraction("commands_status", [], admin),
    commandInteraction("config", [], admin),
    commandInteraction("config", [
      { name: "feature", type: ApplicationCommandOptionType.String, value: "backups" },
      { name: "enabled", type: ApplicationCommandOptionType.Boolean, value: true },
    ], admin),
    commandInteraction("privacy", subcommand("view"), member),
    commandInteraction("backup", subcommand("list"), admin),
    commandInteraction("backup", subcommand("view", { id: "abcdef" }), admin),
    commandInteraction("status_link", [], admin),
    commandInteraction("ethos_sync", [], { permissions: PermissionFlagsBits.ManageRoles }),
    commandInteraction("ethos_refresh", [], member),
    commandInteraction("backup", subcommand("create", { label: "fuzz" }), admin),
    componentInteraction(page, { userId: USER_ID }),
    componentInteraction(category, { userId: USER_ID, values: ["1"] }),
    autocompleteInteraction("backup", [{
      name: "view",
      type: ApplicationCommandOptionType.Subcommand,
      options: [{ name: "id", type: 3, value: "ab", focused: true }],
    }], admin),
    autocompleteInteraction("config", [
      { name: "command", type: 3, value: "ba", focused: true },
    ], { permissions: PermissionFlagsBits.ManageGuild }),
    {
      ...(componentInteraction(page) as object),
      type: InteractionType.ModalSubmit,
      data: {
        custom_id: page,
        components: [{ type: 1, components: [{ type: 4, custom_id: "x", value: "y" }] }],
      },
    },
  ];
}

/** Strings that have broken lookups, parsers and serialisers elsewhere. */
const nasty = fc.constantFrom(
  "constructor",
  "__proto__",
  "toString",
  "prototype",
  "hasOwnProperty",
  "",
  " ",
  "0",
  "-1",
  "1e309",
  "NaN",
  "null",
  "999999999999999999999999",
  "help.constructor",
  "a".repeat(5000),
  "\u0000",
  "😀",
  "%",
  "../..",
);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, -0, 2 ** 53) },
);

type Path = (string | number)[];

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

type Mutation = { at: number; op: "set" | "delete" | "addKey"; value: unknown; key: string };

function mutate(seed: unknown, mutations: Mutation[]): unknown {
  const root = JSON.parse(JSON.stringify(seed));
  let doc: unknown = root;
  for (const original of mutations) {
    // fast-check hands out the same instance for a constant ([] or {}) every time: cloned, a
    // value can neither end up inside itself nor carry one case's mutation into the next.
    const m = { ...original, value: structuredClone(original.value) };
    const all = paths(doc);
    const path = all[m.at % all.length];
    if (path.length === 0) {
      if (m.op === "set") doc = m.value;
      continue;
    }
    let parent = doc as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    const target = parent[last];
    if (m.op === "delete") {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (
      m.op === "addKey" && target && typeof target === "object" && !Array.isArray(target)
    ) {
      Object.defineProperty(target, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      parent[last] = m.value;
    }
  }
  return doc;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("set", "set", "delete", "addKey"),
  value: anyValue,
  key: fc.oneof(nasty, fc.constantFrom("options", "values", "member", "user", "data", "type")),
});

/** Valid interactions with one to three mutations anywhere in their tree. */
export function mutatedInteraction(bot: PropertyBot): fc.Arbitrary<unknown> {
  const seeds = validInteractions(bot);
  return fc.tuple(
    fc.nat({ max: seeds.length - 1 }),
    fc.array(mutation, { minLength: 1, maxLength: 3 }),
  )
    .map(([i, ms]) => mutate(seeds[i], ms));
}

/** Arbitrary JSON, and arbitrary objects that look like interactions at the top. */
export const arbitraryInteraction: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record({
    id: fc.oneof(fc.constant("400000000000000009"), nasty),
    application_id: fc.constant("100000000000000001"),
    type: fc.integer({ min: 0, max: 6 }),
    token: fc.string(),
    version: fc.constant(1),
    data: fc.jsonValue({ maxDepth: 3 }),
    member: fc.jsonValue({ maxDepth: 2 }),
  }, { requiredKeys: ["id", "application_id", "type", "token", "version"] }),
);

export interface OperatorRequest {
  method: string;
  path: string;
  query: [string, string][];
  body: string | null;
  auth: "valid" | "none" | "wrong";
}

const segment = fc.oneof(
  nasty,
  fc.constantFrom(GUILD_ID, "abcdef", "capture", "restore", "live", "1"),
  fc.string({ maxLength: 12 }),
).map((s) => encodeURIComponent(s));

const ROUTES: [string, string][] = [
  ["POST", "/trigger-sync"],
  ["GET", "/sync-status"],
  ["POST", "/stop-sync"],
  ["POST", "/status-link"],
  ["GET", "/status"],
  ["GET", "/status.json"],
  ["GET", "/status/login"],
  ["GET", "/commands/diff"],
  ["POST", "/commands/sync"],
  ["GET", "/commands/log"],
  ["GET", "/metrics"],
  ["GET", "/health"],
  ["GET", "/backups"],
  ["POST", "/backups"],
  ["GET", "/backups/status"],
  ["POST", "/backups/jobs/capture/continue"],
  ["POST", "/backups/jobs/restore/continue"],
  ["POST", "/backups/jobs/:s/stop"],
  ["GET", "/backups/download/:s/:s"],
  ["GET", "/backups/:s"],
  ["DELETE", "/backups/:s"],
  ["GET", "/backups/:s/verify"],
  ["GET", "/backups/:s/diff"],
  ["POST", "/backups/:s/restore"],
  ["GET", "/backups/:s/export"],
  ["POST", "/backups/:s/pin"],
  ["POST", "/backups/:s/note"],
];

/** Requests to every operator route, with arbitrary parameters, query strings and bodies. */
export const operatorRequest: fc.Arbitrary<OperatorRequest> = fc.record({
  route: fc.constantFrom(...ROUTES),
  // Mostly the route's own method, sometimes another.
  otherMethod: fc.oneof(
    { weight: 7, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "DELETE", "PUT") },
  ),
  segments: fc.array(segment, { minLength: 2, maxLength: 2 }),
  query: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom("guild", "t", "exp", "sig", "wait", "job", "json", "against", "limit"),
        nasty,
      ),
      fc.oneof(nasty, fc.string({ maxLength: 20 }), fc.constantFrom("true", GUILD_ID, "10")),
    ),
    { maxLength: 3 },
  ),
  body: fc.option(
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }),
      fc.record({
        startIndex: anyValue,
        chunkSize: anyValue,
        dryRun: anyValue,
        guildId: anyValue,
        label: anyValue,
        note: anyValue,
        only: anyValue,
      }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    ),
    { nil: null },
  ),
  auth: fc.constantFrom("valid", "valid", "valid", "none", "wrong"),
}).map(({ route: [method, template], otherMethod, segments, ...rest }) => {
  let i = 0;
  return {
    ...rest,
    method: otherMethod ?? method,
    path: template.replace(/:s/g, () => segments[i++]),
  };
});

export async function checkOperator(bot: PropertyBot, r: OperatorRequest): Promise<Finding> {
  const { bot: b } = bot.fx;
  const url = new URL(`${b.url}${r.path}`);
  for (const [k, v] of r.query) url.searchParams.append(k, v);
  const headers = new Headers({ "content-type": "application/json" });
  if (r.auth === "valid") headers.set("authorization", `Bearer ${TOKEN}`);
  if (r.auth === "wrong") headers.set("authorization", "Bearer not-the-token-0123456789");
  const mark = b.log.lines.length;
  const res = await b.handle(
    new Request(url, {
      method: r.method,
      headers,
      body: r.method === "GET" ? undefined : r.body ?? undefined,
    }),
  );
  const body = await res.text();
  await b.settle();
  if (res.status >= 500) return `HTTP ${res.status}: ${body.slice(0, 200)}`;
  if (leaked(bot, body)) return "a secret reached the response";
  const errors = errorsSince(bot, mark);
  if (errors.length) return `error-level log: ${JSON.stringify(errors[0]).slice(0, 400)}`;
  const open = ["/health", "/status/login", "/status", "/status.json"].includes(r.path) ||
    r.path.startsWith("/backups/download/");
  if (r.auth !== "valid" && !open && res.status < 400) {
    return `HTTP ${res.status} without the operator token`;
  }
  return null;
}
