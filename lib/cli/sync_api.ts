/**
 * The bot's role-sync endpoints as the sync CLI (lib/cli/sync.ts) calls them: GET /sync-status,
 * POST /trigger-sync, POST /stop-sync, GET /guilds and POST /status-link, each one call through
 * lib/cli/common.ts's `request`. What an operator cannot act on past (the bot unreachable, a
 * refused token, a wrong URL, a server error, an unexpected refusal) is thrown as a SyncCliError
 * with its message; the answers the commands tell apart (a conflict, nothing to do) are returned.
 */
import { type BaseIO, errorAnswer, request } from "./common.ts";
import type { JobProgress } from "../jobs/progress.ts";

/** The call failed in a way the operator has to fix: printed as `error: message`, exit 1. */
export class SyncCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyncCliError";
  }
}

/** A guild's sync progress as GET /sync-status answers it. */
export type Status = JobProgress & { guildId?: string };

/** The outcome of POST /trigger-sync. */
export type Trigger =
  /** 202: a chunk started. */
  | { kind: "started"; runId: string; chunk: number; status?: Status }
  /** 409: refused, a chunk is running or the run cannot continue (`reason`). */
  | { kind: "conflict"; reason: string; status?: Status }
  /** 200: nothing to start. */
  | { kind: "nothing"; status?: Status };

export interface SyncApi {
  status(guild?: string): Promise<Status>;
  trigger(body: Record<string, unknown>, guild?: string): Promise<Trigger>;
  /** POST /stop-sync's answer: `message`, `stopped`, `status`. */
  stop(guild?: string): Promise<Record<string, unknown>>;
  guilds(): Promise<{ guildId: string; configured: boolean }[]>;
  statusLink(): Promise<{ url: string; expiresAt: string }>;
}

/** The sync API of the bot at `base`, with the token when there is one (30 s per call). */
export function syncApi(io: BaseIO, base: string, token: string | undefined): SyncApi {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await request(io, base, token, method, path, body, { timeoutMs: 30_000 });
    if (!r.ok) throw new SyncCliError(r.message);
    if (r.status === 404 || r.status >= 500) {
      throw new SyncCliError(errorAnswer(base, path, r).message);
    }
    const json = r.json;
    const answer: Record<string, unknown> = json !== null && typeof json === "object"
      ? json as Record<string, unknown>
      : { error: new TextDecoder().decode(r.raw.slice(0, 200)) };
    return { status: r.status, body: answer };
  };
  const guildQuery = (guild?: string) => guild ? `?guild=${guild}` : "";
  return {
    async status(guild) {
      const r = await call("GET", `/sync-status${guildQuery(guild)}`);
      if (r.status !== 200) {
        throw new SyncCliError(`status answered ${r.status}: ${r.body.error ?? ""}`);
      }
      return r.body as unknown as Status;
    },
    async trigger(body, guild) {
      const r = await call("POST", "/trigger-sync", guild ? { guildId: guild, ...body } : body);
      const status = r.body.status as Status | undefined;
      if (r.status === 202) {
        return {
          kind: "started",
          runId: String(r.body.runId),
          chunk: Number(r.body.chunk),
          status,
        };
      }
      if (r.status === 409) return { kind: "conflict", reason: String(r.body.error ?? ""), status };
      if (r.status === 200) return { kind: "nothing", status };
      throw new SyncCliError(`the bot refused to start: ${r.status} ${r.body.error ?? ""}`);
    },
    async stop(guild) {
      return (await call("POST", `/stop-sync${guildQuery(guild)}`)).body;
    },
    async guilds() {
      const r = await call("GET", "/guilds");
      if (r.status !== 200) {
        throw new SyncCliError(`guilds answered ${r.status}: ${r.body.error ?? ""}`);
      }
      return (r.body.guilds as { guildId: string; configured: boolean }[]) ?? [];
    },
    async statusLink() {
      const r = await call("POST", "/status-link");
      return { url: String(r.body.url), expiresAt: String(r.body.expiresAt) };
    },
  };
}
