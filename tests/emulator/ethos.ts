/**
 * Ethos API v2 score endpoints: bulk lookup by userkeys (capped at 500), single lookup, and the
 * feed of userkeys whose score changed after a time.
 */
import type { EmulatorState } from "./state.ts";
import type { EmulatorStats } from "./stats.ts";
import { handleEthosUsers } from "./ethos_users.ts";

export const ETHOS_PREFIX = "/ethos/api/v2";
export const MAX_BULK_USERKEYS = 500;
export const MAX_UPDATES_LIMIT = 1000;
const DISCORD_KEY = "service:discord:";

const LEVELS: readonly [number, string][] = [
  [2600, "renowned"],
  [2400, "revered"],
  [2200, "distinguished"],
  [2000, "exemplary"],
  [1800, "reputable"],
  [1600, "established"],
  [1400, "known"],
  [1200, "neutral"],
  [800, "questionable"],
  [0, "untrusted"],
];

export function ethosLevel(score: number): string {
  for (const [min, name] of LEVELS) if (score >= min) return name;
  return "untrusted";
}

export function discordUserkey(userId: string): string {
  return DISCORD_KEY + userId;
}

/** The Discord user id inside a "service:discord:<id>" userkey, or undefined for other keys. */
export function userIdOfKey(userkey: string): string | undefined {
  if (!userkey.startsWith(DISCORD_KEY)) return undefined;
  const id = userkey.slice(DISCORD_KEY.length);
  return /^\d{1,20}$/.test(id) ? id : undefined;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

function badRequest(message: string): Response {
  return json(400, { ok: false, code: "BAD_REQUEST", message });
}

export async function handleEthos(
  req: Request,
  url: URL,
  state: EmulatorState,
  stats: EmulatorStats,
  sleep: (ms: number) => Promise<void>,
): Promise<Response> {
  const path = url.pathname.slice(ETHOS_PREFIX.length);
  const endpoint = `${req.method} ${path}`;
  // Counted by route: single-user lookups carry the id in the path.
  const route = `${req.method} ${
    path.replace(/^\/user\/by\/(discord|x)\/[^/]+$/, "/user/by/$1/:id")
  }`;
  stats.ethosCalls[route] = (stats.ethosCalls[route] ?? 0) + 1;
  const client = req.headers.get("x-ethos-client") ?? "";
  stats.ethosClients[client] = (stats.ethosClients[client] ?? 0) + 1;

  if (state.ethos.latencyMs > 0) await sleep(state.ethos.latencyMs);
  if (state.ethos.failing || state.ethos.failPaths.has(path)) {
    await req.body?.cancel();
    const status = state.ethos.failStatus;
    return json(status, {
      ok: false,
      code: status === 503 ? "SERVICE_UNAVAILABLE" : "INTERNAL_SERVER_ERROR",
      message: "Service temporarily unavailable",
    });
  }

  if (endpoint === "POST /score/userkeys") return bulk(req, state, stats);
  if (endpoint === "GET /score/userkey") return single(url, state);
  if (endpoint === "GET /score/updates") return updates(url, state);
  const users = await handleEthosUsers(req, path, state);
  if (users) return users;
  await req.body?.cancel();
  return json(404, { ok: false, code: "NOT_FOUND", message: `No route ${endpoint}` });
}

async function bulk(req: Request, state: EmulatorState, stats: EmulatorStats): Promise<Response> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return badRequest("Request body must be JSON");
  }
  const userkeys = (body as { userkeys?: unknown })?.userkeys;
  if (!Array.isArray(userkeys) || userkeys.some((k) => typeof k !== "string")) {
    return badRequest("userkeys: expected an array of strings");
  }
  if (userkeys.length > MAX_BULK_USERKEYS) {
    return badRequest(`userkeys: at most ${MAX_BULK_USERKEYS} items`);
  }
  stats.ethosUserkeysRequested += userkeys.length;
  const out: Record<string, { score: number; level: string }> = {};
  for (const key of userkeys as string[]) {
    if (state.ethos.omitFromBulk.has(key)) continue;
    const id = userIdOfKey(key);
    const score = id === undefined ? undefined : state.scores.get(id);
    if (score !== undefined) out[key] = { score, level: ethosLevel(score) };
  }
  return json(200, out);
}

function single(url: URL, state: EmulatorState): Response {
  const key = url.searchParams.get("userkey");
  if (!key) return badRequest("userkey: required");
  const id = userIdOfKey(key);
  const score = id === undefined ? undefined : state.scores.get(id);
  if (score === undefined) {
    return json(404, { ok: false, code: "NOT_FOUND", message: "Score not found" });
  }
  return json(200, { score, level: ethosLevel(score) });
}

function updates(url: URL, state: EmulatorState): Response {
  const q = url.searchParams;
  const afterRaw = q.get("after");
  const after = afterRaw === null ? 0 : Date.parse(afterRaw);
  if (Number.isNaN(after)) return badRequest("after: expected an ISO 8601 date-time");
  const limit = intParam(q.get("limit"), 100);
  const offset = intParam(q.get("offset"), 0);
  if (limit === undefined || limit < 1 || limit > MAX_UPDATES_LIMIT) {
    return badRequest(`limit: expected an integer from 1 to ${MAX_UPDATES_LIMIT}`);
  }
  if (offset === undefined || offset < 0) {
    return badRequest("offset: expected a non-negative integer");
  }
  const { values, total } = state.scores.updatedAfter(after, offset, limit);
  return json(200, {
    values: values.map((u) => ({
      userkey: discordUserkey(u.userId),
      lastUpdatedAt: new Date(u.at).toISOString(),
    })),
    total,
    limit,
    offset,
  });
}

function intParam(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === "") return fallback;
  return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
}
