/**
 * Everything the bot keeps about one member, by source, and the deletion of what is not needed to
 * run the guild. Each source says what it holds, how long it is kept, and whether a member can
 * have it deleted (and if not, why).
 */
import type { AppDeps } from "../deps.ts";
import { keys } from "../kv/keys.ts";

export interface SourceReport {
  name: string;
  /** Human lines describing what is held (empty: nothing). */
  items: string[];
  retention: string;
  /** Why it stays on deletion; undefined when /privacy delete removes it. */
  keptBecause?: string;
}

export interface PrivacySource {
  name: string;
  view(deps: AppDeps, guildId: string | undefined, userId: string): Promise<SourceReport>;
  /** Deletes the member's entries; returns how many. Absent: kept (see the report's reason). */
  delete?(deps: AppDeps, guildId: string | undefined, userId: string): Promise<number>;
}

async function deletePrefix(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let n = 0;
  for await (const e of kv.list({ prefix })) {
    await kv.delete(e.key);
    n++;
  }
  return n;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export const scoreCacheSource: PrivacySource = {
  name: "Cached Ethos score",
  async view(deps, _guildId, userId) {
    const entry = await deps.kv.get<{ s: number | null; x: number }>(keys.ethosScore(userId));
    const live = entry.value && entry.value.x > deps.clock.now();
    return {
      name: this.name,
      items: live
        ? [
          `${
            entry.value!.s === null ? "no Ethos score" : `score ${entry.value!.s}`
          }, cached until ${new Date(entry.value!.x).toISOString()}`,
        ]
        : [],
      retention: `${seconds(deps.config.ethos.scoreTtlMs)} (${
        seconds(deps.config.ethos.noScoreTtlMs)
      } for "no score"): ETHOS_SCORE_TTL_S, ETHOS_NO_SCORE_TTL_S`,
    };
  },
  async delete(deps, _guildId, userId) {
    const entry = await deps.kv.get(keys.ethosScore(userId));
    if (entry.versionstamp === null) return 0;
    await deps.kv.delete(keys.ethosScore(userId));
    return 1;
  },
};

export const cooldownSource: PrivacySource = {
  name: "Command cooldowns",
  async view(deps, _guildId, userId) {
    const items: string[] = [];
    for await (
      const e of deps.kv.list<{ at?: number[] }>({ prefix: keys.cooldownsOfUser(userId) })
    ) {
      items.push(`/${String(e.key.at(-1))}: ${e.value.at?.length ?? 0} recent uses`);
    }
    return { name: this.name, items, retention: "seconds (the cooldown window)" };
  },
  delete: (deps, _guildId, userId) => deletePrefix(deps.kv, keys.cooldownsOfUser(userId)),
};

export const idempotencySource: PrivacySource = {
  name: "Interaction records",
  async view(deps, _guildId, userId) {
    let n = 0;
    for await (const _ of deps.kv.list({ prefix: keys.idempotencyOfUser(userId) })) n++;
    return {
      name: this.name,
      items: n
        ? [`${n} recent interactions (the bot's replies, kept to answer repeated deliveries)`]
        : [],
      retention: "15 minutes",
    };
  },
  delete: (deps, _guildId, userId) => deletePrefix(deps.kv, keys.idempotencyOfUser(userId)),
};

export const profileCacheSource: PrivacySource = {
  name: "Cached Ethos profile",
  async view(deps, _guildId, userId) {
    const entry = await deps.kv.get<{ expiresAt: number; value: { kind: string } }>(
      keys.ethosProfile(`discord:${userId}`),
    );
    const live = entry.value && entry.value.expiresAt > deps.clock.now();
    return {
      name: this.name,
      items: live
        ? [
          `${
            entry.value!.value.kind === "profile" ? "your Ethos profile card" : "no Ethos profile"
          }, cached until ${new Date(entry.value!.expiresAt).toISOString()}`,
        ]
        : [],
      retention: "60 s (a lookup with /ethos or the Ethos profile menu)",
    };
  },
  async delete(deps, _guildId, userId) {
    const key = keys.ethosProfile(`discord:${userId}`);
    if ((await deps.kv.get(key)).versionstamp === null) return 0;
    await deps.kv.delete(key);
    return 1;
  },
};

/** The sources a member can have deleted (lib/privacy/mod.ts adds the kept ones). */
export const deletableSources: PrivacySource[] = [
  scoreCacheSource,
  profileCacheSource,
  cooldownSource,
  idempotencySource,
];

export async function viewMemberData(
  deps: AppDeps,
  guildId: string | undefined,
  userId: string,
  sources: PrivacySource[],
): Promise<SourceReport[]> {
  return await Promise.all(sources.map((s) => s.view(deps, guildId, userId)));
}

export interface DeletionReport {
  deleted: { name: string; count: number }[];
  kept: SourceReport[];
}

export async function deleteMemberData(
  deps: AppDeps,
  guildId: string | undefined,
  userId: string,
  sources: PrivacySource[],
): Promise<DeletionReport> {
  const deleted: DeletionReport["deleted"] = [];
  const kept: SourceReport[] = [];
  for (const source of sources) {
    if (source.delete) {
      deleted.push({ name: source.name, count: await source.delete(deps, guildId, userId) });
    } else {
      const report = await source.view(deps, guildId, userId);
      if (report.items.length) kept.push(report);
    }
  }
  return { deleted, kept };
}
