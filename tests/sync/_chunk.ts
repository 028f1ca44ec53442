/**
 * What the unit tests of a sync chunk's parts (lib/sync/chunk_*.ts) share: one guild's rules and
 * context with a tier role above the bot, a job context that records its checkpoints and pauses,
 * a scriptable Ethos, and members to feed in. The parts are built by hand around them, each with
 * fakes of its neighbours, where tests/sync/engine_test.ts runs them all together.
 */
import type { APIGuildMember } from "discord-api-types/v10";
import type { CheckpointUpdate, ChunkContext } from "../../lib/jobs/runner.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import type { EthosClient, EthosScore } from "../../lib/ethos/client.ts";
import type { GuildContext } from "../../lib/sync/context.ts";
import type { SyncRules } from "../../lib/sync/rule.ts";
import {
  type EngineOptions,
  type Item,
  memberItem,
  type SyncCheckpoint,
} from "../../lib/sync/chunk_model.ts";
import { memoryLogger } from "../_log.ts";

export const GUILD = "200000000000000001";
export const BOT = "100000000000000099";

/** A user id; `uid(n)` ascend with n. */
export const uid = (n: number): string => String(300000000000000000n + BigInt(n));

export const ROLE = {
  verified: "500000000000000001",
  low: "500000000000000002",
  mid: "500000000000000003",
  high: "500000000000000004",
  /** The top tier's role sits above the bot's highest role: never given or taken. */
  top: "500000000000000005",
  /** Not the sync's: kept through every write. */
  other: "500000000000000006",
  /** A validator role, for the flag-role holders. */
  validator: "500000000000000007",
};

export const rules: SyncRules = {
  verifiedRoleId: ROLE.verified,
  tiers: [
    { name: "Top", minScore: 2500, roleId: ROLE.top },
    { name: "High", minScore: 2000, roleId: ROLE.high },
    { name: "Mid", minScore: 1200, roleId: ROLE.mid },
    { name: "Low", minScore: 0, roleId: ROLE.low },
  ],
  // Scores alone decide (no profile flags): one bulk call per page.
  countDefaultProfiles: true,
};

export const ctx: GuildContext = {
  guildId: GUILD,
  botUserId: BOT,
  manageable: [ROLE.low, ROLE.mid, ROLE.high, ROLE.other, ROLE.validator],
  canManageRoles: true,
  memberCount: null,
  roleNames: {
    [ROLE.low]: "Low",
    [ROLE.mid]: "Mid",
    [ROLE.high]: "High",
    [ROLE.top]: "Top",
  },
  warnings: [],
  at: 0,
};

export function engineOptions(over: Partial<EngineOptions> = {}): EngineOptions {
  return { rules, ctx, guildId: GUILD, dryRun: false, reason: "chunk test", ...over };
}

export const fullStart: SyncCheckpoint = {
  mode: "full",
  cursor: "0",
  skip: 0,
  ctx: null,
  inc: null,
};

export interface RecordingJob extends ChunkContext {
  checkpoints: CheckpointUpdate[];
  pauses: string[];
  /** Fails the next checkpoints with this error (null: they succeed). */
  failWith: Error | null;
  /** Cuts in-flight I/O short (`hard` aborts), as a lost lease or the end of a shutdown does. */
  abortHard(): void;
}

/** A chunk context that records every checkpoint and pause (a pause aborts `signal`). */
export function recordingJob(
  o: { checkpoint?: SyncCheckpoint; limit?: number; deadline?: number; dryRun?: boolean } = {},
): RecordingJob {
  const soft = new AbortController();
  const hard = new AbortController();
  const job: RecordingJob = {
    run: {
      runId: "run-1",
      key: GUILD,
      checkpoint: o.checkpoint ?? fullStart,
      dryRun: o.dryRun ?? false,
    } as unknown as RunRecord,
    preflight: undefined,
    signal: soft.signal,
    hard: hard.signal,
    deadline: o.deadline ?? Infinity,
    limit: o.limit ?? 1_000_000,
    log: memoryLogger(),
    checkpoints: [],
    pauses: [],
    failWith: null,
    abortHard: () => hard.abort(new DOMException("the chunk ended", "AbortError")),
    checkpoint(update) {
      if (job.failWith) return Promise.reject(job.failWith);
      job.checkpoints.push(structuredClone(update));
      return Promise.resolve();
    },
    stopReason: () => null,
    pause(why) {
      job.pauses.push(why);
      soft.abort();
    },
  };
  return job;
}

export function member(
  id: string,
  roles: string[],
  o: { bot?: boolean; username?: string } = {},
): APIGuildMember {
  return {
    user: {
      id,
      username: o.username ?? `user${id.slice(-3)}`,
      discriminator: "0",
      global_name: null,
      avatar: null,
      ...(o.bot ? { bot: true } : {}),
    },
    roles,
    joined_at: "2026-01-01T00:00:00.000Z",
    deaf: false,
    mute: false,
    flags: 0,
  } as unknown as APIGuildMember;
}

/** A member on its way through the chunk, read at `readAt`, walk position its id. */
export function item(
  id: string,
  roles: string[],
  o: { bot?: boolean; readAt?: number } = {},
): Item {
  return memberItem(member(id, roles, o), id, o.readAt ?? 0);
}

/**
 * An Ethos that answers scores from `scores` (a missing id: no score; "fail": the bulk call for
 * it failed) and records what was asked. The profiles read in bulk when the rules need flags
 * carry the same scores, with a validator NFT for the ids in `validators`.
 */
export function scriptedEthos(
  scores: Map<string, number | "fail">,
  validators: ReadonlySet<string> = new Set(),
) {
  const asked = { bulk: [] as string[][], single: [] as string[], profiles: [] as string[][] };
  const ethos = {
    request(endpoint: string, _path: string, init: RequestInit) {
      if (endpoint !== "POST /users/by/discord") throw new Error(`unexpected ${endpoint}`);
      const ids: string[] = JSON.parse(String(init.body)).discordIds;
      asked.profiles.push(ids);
      if (ids.some((id) => scores.get(id) === "fail")) {
        return Promise.reject(new Error("Ethos is down"));
      }
      return Promise.resolve(ids.flatMap((id) => {
        const s = scores.get(id);
        return typeof s === "number"
          ? [{
            displayName: id,
            score: s,
            userkeys: [`service:discord:${id}`],
            validatorNftCount: validators.has(id) ? 1 : 0,
          }]
          : [];
      }));
    },
    scores(ids: readonly string[]) {
      asked.bulk.push([...ids]);
      const found = new Map<string, EthosScore>();
      const failed = new Set<string>();
      for (const id of ids) {
        const s = scores.get(id);
        if (s === "fail") failed.add(id);
        else if (s !== undefined) found.set(id, { score: s } as EthosScore);
      }
      return Promise.resolve({ scores: found, failed });
    },
    score(id: string) {
      asked.single.push(id);
      const s = scores.get(id);
      if (s === "fail") return Promise.reject(new Error("Ethos is down"));
      return Promise.resolve(s === undefined ? null : { score: s } as EthosScore);
    },
  };
  return { ethos: ethos as unknown as EthosClient, asked };
}

/** A tracker's stand-in that records what it is handed (the parts' neighbour in a chunk). */
export class RecordingTracker {
  added: string[] = [];
  finished = new Map<string, string>();
  counts: Record<string, number> = {};
  samples: unknown[] = [];
  advances = 0;
  onFinish: (() => void) | null = null;
  add(it: Item): void {
    this.added.push(it.id);
  }
  finish(it: Item, outcome: string): void {
    if (it.done) return;
    it.done = true;
    it.outcome = outcome;
    this.finished.set(it.id, outcome);
    this.onFinish?.();
  }
  count(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
  sample(change: unknown): void {
    this.samples.push(change);
  }
  advance(): void {
    this.advances++;
  }
}
