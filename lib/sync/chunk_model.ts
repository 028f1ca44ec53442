/**
 * What the parts of a sync chunk (engine.ts) share: the run's checkpoint, the chunk's deps,
 * options and figures, and the item each member becomes on its way from the reader through the
 * rule to the lanes and the tracker.
 */
import { z } from "zod";
import type { APIGuildMember } from "discord-api-types/v10";
import type { Config } from "../config.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../log/log.ts";
import type { RestClient } from "../discord/rest.ts";
import type { SingleRoleCall } from "../discord/member_roles.ts";
import type { EthosClient } from "../ethos/client.ts";
import type { Queued } from "../jobs/fresh_backlog.ts";
import type { ScoreCache } from "./score_cache.ts";
import { emptyScoreStats, type ScoreStats } from "./scores.ts";
import type { RoleDiff, SyncRules } from "./rule.ts";
import { type GuildContext, guildContextSchema } from "./context.ts";

export const syncCheckpointSchema = z.object({
  mode: z.enum(["full", "incremental"]),
  /** Full: the highest user id done ("0" before the first). Incremental: the feed offset. */
  cursor: z.string(),
  /** Members still to pass over (a startIndex that did not match a checkpoint). */
  skip: z.number().int().nonnegative(),
  ctx: guildContextSchema.nullable(),
  /** Incremental runs: the Ethos updates window. */
  inc: z.object({ after: z.string(), until: z.number() }).nullable(),
});
export type SyncCheckpoint = z.infer<typeof syncCheckpointSchema>;

export interface EngineDeps {
  config: Config;
  kv: Deno.Kv;
  rest: RestClient;
  ethos: EthosClient;
  cache: ScoreCache;
  clock: Clock;
  log: Logger;
}

export interface EngineOptions {
  rules: SyncRules;
  ctx: GuildContext;
  guildId: string;
  dryRun: boolean;
  reason: string;
  /** Checkpoint at most this often (default 1 s) or every `checkpointItems` members. */
  checkpointMs?: number;
  checkpointItems?: number;
}

/** What a dry run would change, per member. */
export interface PlannedChange {
  userId: string;
  username?: string;
  add: string[];
  remove: string[];
  blocked?: string[];
}

/** Figures of one chunk, for logs and the benchmark. */
export interface ChunkStats {
  listCalls: number;
  memberReads: number;
  rereads: number;
  patches: number;
  roleCalls: number;
  /** Oldest role read a PATCH was computed from, at the time it was handed to the client. */
  maxPatchReadAgeMs: number;
  scores: ScoreStats;
}

export function emptyChunkStats(): ChunkStats {
  return {
    listCalls: 0,
    memberReads: 0,
    rereads: 0,
    patches: 0,
    roleCalls: 0,
    maxPatchReadAgeMs: 0,
    scores: emptyScoreStats(),
  };
}

/** One member on its way through the chunk, at `pos` in the walk order. */
export interface Item {
  pos: string;
  id: string;
  username?: string;
  roles: string[];
  bot: boolean;
  readAt: number;
  diff: RoleDiff | null;
  callsLeft: number;
  done: boolean;
  outcome: string | null;
  error: string | null;
  extra: string[];
  /** A freshness backlog entry this chunk takes in between its pages (chunk_reader.ts). */
  side?: Queued;
}

/** One single-role call of an item, queued in the role lane. */
export interface RoleTask {
  item: Item;
  call: SingleRoleCall;
}

/** A member read at `readAt`, still to be decided. */
export function memberItem(m: APIGuildMember, pos: string, readAt: number): Item {
  return {
    pos,
    id: m.user.id,
    username: m.user.username,
    roles: [...m.roles],
    bot: m.user.bot === true,
    readAt,
    diff: null,
    callsLeft: 0,
    done: false,
    outcome: null,
    error: null,
    extra: [],
  };
}

/** A position already settled with `outcome` (no member to decide). */
export function doneItem(pos: string, id: string, outcome: string): Item {
  return {
    pos,
    id,
    roles: [],
    bot: false,
    readAt: 0,
    diff: null,
    callsLeft: 0,
    done: true,
    outcome,
    error: null,
    extra: [],
  };
}
