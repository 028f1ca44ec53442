/**
 * Backup restore as a job of lib/jobs (kind "backup_restore", key = guild id: one restore per
 * guild at a time, by the job's lease and the in-progress check in service.ts).
 *
 * Phases, each idempotent so a chunk can die anywhere and the next one picks up:
 *
 * 1. structure: roles (create missing, then one position move), categories and channels
 *    (create missing, overwrites remapped to the live role ids in the create body), missing
 *    overwrites on channels that still exist, guild settings, the bot's own settings. Every
 *    chunk re-reads the live guild and re-matches by id, then by name (restore_plan.ts), so an
 *    entity created just before a crash is found, not created twice.
 * 2. members: live members in user-id order from the checkpoint's cursor, 1000 a page; each
 *    member's missing roles (and with rewind, the roles gained since) are written with one call:
 *    a single-role PUT/DELETE when one role changes, else a PATCH of the whole list computed
 *    from the page just read. PATCHes and role PUT/DELETEs go through two lanes, as Discord
 *    keeps them in separate buckets; the checkpoint's cursor only moves over a contiguous run of
 *    finished members, and a resumed page recomputes every change from fresh data, so a write
 *    that landed is never repeated.
 *
 * Writes are paced by the REST client. Nothing is ever deleted. Failures are counted and
 * described (at most 20) and the run goes on; the final report is kept in KV.
 */
import { botUserId } from "../discord/bot_user.ts";
import { isAbort } from "../abort.ts";
import { z } from "zod";
import type { APIGuildMember } from "discord-api-types/v10";
import type { AppDeps } from "../deps.ts";
import { type ChunkContext, type JobDefinition, LeaseLostError } from "../jobs/runner.ts";
import {
  addMemberRole,
  createChannel,
  createRole,
  editChannelPermission,
  getChannels,
  getGuild,
  getMember,
  getRoles,
  listMembers,
  modifyChannel,
  modifyMemberRoles,
  removeMemberRole,
} from "../discord/api.ts";
import { DiscordApiError, isUnknownMember, RestClosedError } from "../discord/errors.ts";
import { keys } from "../kv/keys.ts";
import { type Feature, FEATURES, getFlags, isEnabled, setFlag } from "../ops/flags.ts";
import { tryAppendAudit } from "../audit/mod.ts";
import { channelOf, MEMBER_PAGE, roleOf, settingsOf } from "./capture.ts";
import { compareIds, type SnapMember, type Snapshot, snapshotSchema } from "./model.ts";
import { BackupCorruptError, loadCanonical } from "./store.ts";
import { getSchedule, setSchedule } from "./schedule.ts";
import {
  assignableRoles,
  CATEGORY,
  channelCreateBody,
  compareRoles,
  type LiveGuild,
  mapOverwrites,
  matchChannels,
  matchRoles,
  memberChange,
  missingManagedRoles,
  missingOverwrites,
  missingRoles,
  orphanedChannels,
  RESTORE_PARTS,
  type RestorePart,
  roleCreateBody,
  roleMoves,
  settingsPatch,
} from "./restore_plan.ts";
import { BackupDisabledError } from "./capture_job.ts";

export const RESTORE_KIND = "backup_restore";
export const RESTORE_CONTINUE_PATH = "/backups/jobs/restore/continue";
/** Members per chunk unless the request says otherwise. */
export const RESTORE_CHUNK_SIZE = 5_000;
const LANE_CONCURRENCY = 4;
const CHECKPOINT_MS = 1_000;

export const restoreCheckpointSchema = z.object({
  backupId: z.string(),
  parts: z.array(z.enum(RESTORE_PARTS)),
  rewind: z.boolean(),
  actorId: z.string(),
  actorName: z.string(),
  phase: z.enum(["structure", "members"]),
  /** Live ids of roles this run created (their positions are set once, after creation). */
  createdRoles: z.array(z.string()),
  positionsDone: z.boolean(),
  /** Entities that failed once ("role:<id>", "channel:<id>", "settings"): not retried. */
  failed: z.array(z.string()),
  /** Highest member id done. */
  cursor: z.string(),
});
export type RestoreCheckpoint = z.infer<typeof restoreCheckpointSchema>;

export interface RestoreParams {
  backupId: string;
  parts: RestorePart[];
  rewind: boolean;
  actorId: string;
  actorName: string;
}

export interface RestoreReport {
  backupId: string;
  parts: RestorePart[];
  rewind: boolean;
  created: Record<string, number>;
  skipped: Record<string, number>;
  failed: Record<string, number>;
  members: Record<string, number>;
  problems: string[];
}

/** The report of a run, from its counters and warnings (the one shape every view shows). */
export function restoreReport(
  checkpoint: unknown,
  counters: Record<string, number>,
  warnings: string[],
): RestoreReport | null {
  const cp = restoreCheckpointSchema.safeParse(checkpoint);
  if (!cp.success) return null;
  const pick = (prefix: string) => {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(counters)) {
      if (k.startsWith(prefix + ".") && v) out[k.slice(prefix.length + 1)] = v;
    }
    return out;
  };
  return {
    backupId: cp.data.backupId,
    parts: cp.data.parts,
    rewind: cp.data.rewind,
    created: pick("created"),
    skipped: pick("skipped"),
    failed: pick("failed"),
    members: pick("members"),
    problems: warnings,
  };
}

export function restoreJob(deps: AppDeps, params?: RestoreParams): JobDefinition {
  return {
    kind: RESTORE_KIND,
    continuePath: RESTORE_CONTINUE_PATH,
    async newRun(req) {
      if (!params) throw new Error("a restore starts from startRestore()");
      if (!(await isEnabled(deps.kv, req.key, "backups"))) throw new BackupDisabledError(req.key);
      const checkpoint: RestoreCheckpoint = {
        backupId: params.backupId,
        parts: params.parts,
        rewind: params.rewind,
        actorId: params.actorId,
        actorName: params.actorName,
        phase: "structure",
        createdRoles: [],
        positionsDone: false,
        failed: [],
        cursor: "0",
      };
      return { mode: params.rewind ? "restore-rewind" : "restore", checkpoint };
    },
    runChunk: (job) => new RestoreChunk(deps, job).run(),
  };
}

/**
 * The parsed snapshot of the run, kept between chunks that run in this isolate (a large one is
 * tens of MB of JSON). Its bytes are read and checked against the checksum every chunk; only the
 * parse is saved.
 */
let snapshotCache: Loaded & { key: string } | null = null;

interface Loaded {
  snapshot: Snapshot;
  /** The backed-up members by id. */
  members: Map<string, SnapMember>;
}

async function cachedSnapshot(kv: Deno.Kv, guildId: string, backupId: string): Promise<Loaded> {
  const { meta, bytes } = await loadCanonical(kv, guildId, backupId);
  const key = `${guildId}:${backupId}:${meta.checksum}`;
  if (snapshotCache?.key === key) return snapshotCache;
  snapshotCache = null;
  const parsed = snapshotSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw new BackupCorruptError(backupId, "not a valid snapshot");
  const members = new Map<string, SnapMember>();
  for (const m of parsed.data.members) members.set(m.id, m);
  snapshotCache = { key, snapshot: parsed.data, members };
  return snapshotCache;
}

/** The live guild: guild (with roles), channels and the bot's member (three calls). */
export async function readLiveGuild(
  deps: AppDeps,
  guildId: string,
  signal?: AbortSignal,
): Promise<LiveGuild & { approxMembers: number | null }> {
  const { rest } = deps;
  const botId = await botUserId(deps.kv, deps.rest, deps.config.discord.applicationId, signal);
  const guild = await getGuild(rest, guildId, { withCounts: true, signal });
  const channels = await getChannels(rest, guildId, { signal });
  const me = await getMember(rest, guildId, botId, { signal });
  const roles = (guild.roles ?? await getRoles(rest, guildId, { signal })).map(roleOf);
  let top = roles.find((r) => r.id === guildId) ?? { id: guildId, position: 0 };
  for (const r of roles) {
    if (me.roles.includes(r.id) && compareRoles(r, top) > 0) top = r;
  }
  // The owner outranks every role.
  const isOwner = guild.owner_id === botId;
  return {
    guildId,
    guild: settingsOf(guild),
    roles,
    channels: channels.map(channelOf).filter((c) => c !== null),
    botTopPosition: isOwner ? Number.MAX_SAFE_INTEGER : top.position,
    botTopId: isOwner ? "0" : top.id,
    approxMembers: (guild as { approximate_member_count?: number }).approximate_member_count ??
      null,
  };
}

function isStopping(e: unknown): boolean {
  return isAbort(e) || e instanceof LeaseLostError || e instanceof RestClosedError;
}

function describe(e: unknown): string {
  if (e instanceof DiscordApiError) return `${e.status} ${e.code} ${e.discordMessage}`;
  return e instanceof Error ? e.message : String(e);
}

class RestoreChunk {
  cp: RestoreCheckpoint;
  readonly guildId: string;
  readonly reason: string;
  snapshot!: Snapshot;
  backedUp!: Map<string, SnapMember>;

  constructor(readonly deps: AppDeps, readonly job: ChunkContext) {
    this.cp = restoreCheckpointSchema.parse(job.run.checkpoint);
    this.guildId = job.run.key;
    this.reason = `Backup restore ${this.cp.backupId} (run ${job.run.runId})`;
  }

  get parts(): Set<RestorePart> {
    return new Set(this.cp.parts);
  }

  async save(counters: Record<string, number> = {}, warnings: string[] = [], extra = {}) {
    await this.job.checkpoint({ checkpoint: this.cp, counters, warnings, ...extra });
  }

  /** Runs one write; failures are counted and described, aborts propagate. */
  async attempt(
    failKey: string,
    counter: string,
    label: string,
    work: () => Promise<void>,
  ): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (e) {
      // Stopping (abort, lost lease, closed client) is not a failure of this entity.
      if (isStopping(e)) throw e;
      this.cp.failed.push(failKey);
      await this.save({ [`failed.${counter}`]: 1 }, [`${label}: ${describe(e)}`]);
      return false;
    }
  }

  async run(): Promise<{ finished: boolean; result?: RestoreReport }> {
    const { deps, job } = this;
    if (!(await isEnabled(deps.kv, this.guildId, "backups"))) {
      throw new BackupDisabledError(this.guildId);
    }
    const loaded = await cachedSnapshot(deps.kv, this.guildId, this.cp.backupId);
    this.snapshot = loaded.snapshot;
    this.backedUp = loaded.members;
    const live = await readLiveGuild(deps, this.guildId, job.hard);
    if (this.cp.phase === "structure") {
      if (!(await this.structure(live))) return { finished: false };
      this.cp.phase = "members";
      await this.save({}, [], { total: live.approxMembers });
    }
    if (this.parts.has("members")) {
      // The live view is kept current through the structure phase (created roles included).
      const done = await this.members(live);
      if (!done) return { finished: false };
    }
    return { finished: true, result: await this.finish() };
  }

  async finish(): Promise<RestoreReport> {
    const { deps, job } = this;
    // The counters of this last chunk are committed; read them back for the report.
    const rec = await deps.kv.get<{ counters: Record<string, number>; warnings: string[] }>(
      keys.jobRun(RESTORE_KIND, this.guildId),
    );
    const report = restoreReport(
      this.cp,
      rec.value?.counters ?? {},
      rec.value?.warnings ?? [],
    )!;
    snapshotCache = null;
    await deps.kv.set(keys.backupRestoreReport(this.guildId), {
      ...report,
      runId: job.run.runId,
      at: deps.clock.now(),
    });
    await tryAppendAudit(deps, {
      guildId: this.guildId,
      actor: { id: this.cp.actorId, name: this.cp.actorName },
      action: "backup.restore.completed",
      detail: {
        backupId: this.cp.backupId,
        runId: job.run.runId,
        created: report.created,
        failed: report.failed,
        members: report.members,
      },
    });
    return report;
  }

  // --- structure --------------------------------------------------------------------------

  /** False when the chunk must stop (time box, stop, shutdown) before the structure is done. */
  async structure(live: LiveGuild): Promise<boolean> {
    const { deps, job, snapshot, parts, guildId } = this;
    const { rest } = deps;
    const roleMap = matchRoles(snapshot.roles, live);
    const stop = () => job.signal.aborted;

    if (parts.has("roles")) {
      for (const r of missingRoles(snapshot, roleMap)) {
        if (stop()) return false;
        if (this.cp.failed.includes(`role:${r.id}`)) continue;
        await this.attempt(`role:${r.id}`, "roles", `role "${r.name}"`, async () => {
          const created = await createRole(rest, guildId, roleCreateBody(r), this.reason, {
            signal: job.hard,
          });
          roleMap.set(r.id, created.id);
          live.roles.push(roleOf(created));
          this.cp.createdRoles.push(created.id);
          await this.save({ "created.roles": 1 });
        });
      }
      if (!this.cp.positionsDone) {
        if (this.cp.createdRoles.length) {
          if (stop()) return false;
          const fresh = (await getRoles(rest, guildId, { signal: job.hard })).map(roleOf);
          live.roles = fresh;
          const moves = roleMoves(snapshot, live, roleMap, new Set(this.cp.createdRoles));
          if (moves.length) {
            await this.attempt("positions", "role_positions", "role positions", async () => {
              const after = await rest.patch<unknown[]>(`/guilds/${guildId}/roles`, {
                body: moves,
                reason: this.reason,
                signal: job.hard,
              });
              live.roles = (after as Parameters<typeof roleOf>[0][]).map(roleOf);
            });
          }
        }
        this.cp.positionsDone = true;
        const managed = missingManagedRoles(snapshot, roleMap).length;
        await this.save(managed ? { "skipped.managed_roles": managed } : {});
      }
    }

    const channelMap = matchChannels(snapshot, live);
    const liveById = new Map(live.channels.map((c) => [c.id, c]));
    const byPosition = (a: { position: number; id: string }, b: { position: number; id: string }) =>
      a.position - b.position || compareIds(a.id, b.id);
    for (const kind of ["categories", "channels"] as const) {
      if (!parts.has(kind)) continue;
      const wanted = snapshot.channels.filter((c) =>
        (c.type === CATEGORY) === (kind === "categories")
      ).sort(byPosition);
      for (const c of wanted) {
        if (stop()) return false;
        if (channelMap.has(c.id) || this.cp.failed.includes(`channel:${c.id}`)) continue;
        const parent = c.type === CATEGORY
          ? null
          : c.parent_id
          ? channelMap.get(c.parent_id) ?? null
          : null;
        const { mapped, dropped } = mapOverwrites(c.permission_overwrites, roleMap);
        await this.attempt(
          `channel:${c.id}`,
          kind,
          `${kind === "categories" ? "category" : "channel"} "${c.name}"`,
          async () => {
            const created = await createChannel(
              rest,
              guildId,
              channelCreateBody(c, parent, mapped) as Parameters<typeof createChannel>[2],
              this.reason,
              { signal: job.hard },
            );
            channelMap.set(c.id, created.id);
            const snap = channelOf(created);
            if (snap) liveById.set(created.id, snap);
            await this.save({
              [`created.${kind}`]: 1,
              ...(mapped.length ? { "created.overwrites": mapped.length } : {}),
              ...(dropped ? { "skipped.overwrites_unmapped": dropped } : {}),
            });
          },
        );
      }
    }

    // Channels left without a parent by a deleted category go back under its counterpart.
    if (parts.has("channels")) {
      for (const o of orphanedChannels(snapshot, live, channelMap)) {
        const parentId = channelMap.get(o.channel.parent_id!);
        if (parentId === undefined) continue;
        if (stop()) return false;
        const key = `parent:${o.liveId}`;
        if (this.cp.failed.includes(key)) continue;
        await this.attempt(key, "channels", `moving #${o.channel.name} back`, async () => {
          await modifyChannel(
            rest,
            o.liveId,
            {
              parent_id: parentId,
              position: o.channel.position,
            },
            this.reason,
            { signal: job.hard },
          );
          const current = liveById.get(o.liveId);
          if (current) current.parent_id = parentId;
          await this.save({ "created.parent_links": 1 });
        });
      }
    }

    // Overwrites missing from channels that still exist (a deleted role took its overwrites).
    for (const c of snapshot.channels) {
      const part: RestorePart = c.type === CATEGORY ? "categories" : "channels";
      const liveId = channelMap.get(c.id);
      if (!parts.has(part) || liveId === undefined) continue;
      const current = liveById.get(liveId);
      if (!current) continue;
      const { fixes } = missingOverwrites(c, current, roleMap);
      for (const fix of fixes) {
        if (stop()) return false;
        const key = `overwrite:${fix.channelId}:${fix.overwrite.id}`;
        if (this.cp.failed.includes(key)) continue;
        await this.attempt(key, "overwrites", `overwrite on #${fix.channelName}`, async () => {
          await editChannelPermission(
            rest,
            fix.channelId,
            fix.overwrite.id,
            {
              type: fix.overwrite.type,
              allow: fix.overwrite.allow,
              deny: fix.overwrite.deny,
            },
            this.reason,
            { signal: job.hard },
          );
          current.permission_overwrites.push(fix.overwrite);
          await this.save({ "created.overwrites": 1 });
        });
      }
    }

    if (parts.has("settings")) {
      if (stop()) return false;
      const patch = settingsPatch(snapshot.guild, live.guild, channelMap);
      if (patch && !this.cp.failed.includes("settings")) {
        await this.attempt("settings", "settings", "guild settings", async () => {
          const after = await rest.patch<Parameters<typeof settingsOf>[0]>(`/guilds/${guildId}`, {
            body: patch,
            reason: this.reason,
            signal: job.hard,
          });
          live.guild = settingsOf(after);
          await this.save({ "created.settings": Object.keys(patch).length });
        });
      }
      const changed = await restoreBotSettings(deps, guildId, snapshot, roleMap, this.cp.actorId);
      if (changed) await this.save({ "created.bot_settings": changed });
    }
    return true;
  }

  // --- members ----------------------------------------------------------------------------

  /** False when the chunk must stop before every member is done. */
  async members(live: LiveGuild): Promise<boolean> {
    const { deps, job, snapshot, guildId } = this;
    // Creating and moving roles shifts positions: take the bot's from the current role list.
    const top = live.roles.find((r) => r.id === live.botTopId);
    if (top && live.botTopPosition !== Number.MAX_SAFE_INTEGER) live.botTopPosition = top.position;
    const roleMap = matchRoles(snapshot.roles, live);
    const assignable = assignableRoles(live);
    const backedUp = this.backedUp;
    let handled = 0;
    while (!job.signal.aborted && handled < job.limit) {
      const page = await listMembers(deps.rest, guildId, {
        limit: MEMBER_PAGE,
        after: this.cp.cursor,
      }, { signal: job.hard });
      const finished = await this.page(page, backedUp, roleMap, assignable);
      handled += finished;
      if (finished < page.length) return false;
      if (page.length < MEMBER_PAGE) return true;
    }
    return false;
  }

  /** Processes one page; returns how many members (a prefix of the page) are done. */
  async page(
    page: APIGuildMember[],
    backedUp: Map<string, SnapMember>,
    roleMap: Map<string, string>,
    assignable: Set<string>,
  ): Promise<number> {
    const { deps, job, guildId } = this;
    const rewind = this.cp.rewind;
    type Outcome = { counters: Record<string, number>; warning?: string };
    const outcomes: (Outcome | null)[] = new Array(page.length).fill(null);
    const patchLane: number[] = [];
    const roleLane: number[] = [];
    const changes: { add: string[]; remove: string[] }[] = [];
    page.forEach((m, i) => {
      const snap = m.user && !m.user.bot ? backedUp.get(m.user.id) : undefined;
      if (!m.user || m.user.bot) {
        outcomes[i] = { counters: { "members.bots": 1 } };
      } else if (!snap) {
        outcomes[i] = { counters: { "members.not_in_backup": 1 } };
      } else {
        const change = memberChange(snap, m.roles, roleMap, assignable, rewind);
        changes[i] = change;
        const n = change.add.length + change.remove.length;
        if (n === 0) outcomes[i] = { counters: { "members.unchanged": 1 } };
        else (n === 1 ? roleLane : patchLane).push(i);
      }
    });

    const write = async (i: number) => {
      const m = page[i];
      const userId = m.user!.id;
      const { add, remove } = changes[i];
      const opts = { signal: job.hard };
      try {
        if (add.length === 1 && remove.length === 0) {
          await addMemberRole(deps.rest, guildId, userId, add[0], this.reason, opts);
        } else if (remove.length === 1 && add.length === 0) {
          await removeMemberRole(deps.rest, guildId, userId, remove[0], this.reason, opts);
        } else {
          const drop = new Set(remove);
          const roles = [...m.roles.filter((r) => !drop.has(r)), ...add];
          await modifyMemberRoles(deps.rest, guildId, userId, roles, this.reason, opts);
        }
        outcomes[i] = {
          counters: {
            "members.changed": 1,
            ...(add.length ? { "members.roles_added": add.length } : {}),
            ...(remove.length ? { "members.roles_removed": remove.length } : {}),
          },
        };
      } catch (e) {
        if (isStopping(e)) return; // not done: the next chunk re-reads and redoes it
        if (isUnknownMember(e)) outcomes[i] = { counters: { "members.left": 1 } };
        else {
          outcomes[i] = {
            counters: { "failed.members": 1 },
            warning: `member ${userId}: ${describe(e)}`,
          };
        }
      }
    };

    // Ordered completion: the cursor only moves over a contiguous prefix of finished members.
    let prefix = 0;
    let lastSave = deps.clock.now();
    let flushing: Promise<void> = Promise.resolve();
    // One flush at a time: two workers must not commit the same stretch twice.
    const flush = (force: boolean): Promise<void> => {
      flushing = flushing.then(() => flushNow(force));
      return flushing;
    };
    const flushNow = async (force: boolean) => {
      let end = prefix;
      while (end < page.length && outcomes[end] !== null) end++;
      if (end === prefix || (!force && deps.clock.now() - lastSave < CHECKPOINT_MS)) return;
      const counters: Record<string, number> = {};
      const warnings: string[] = [];
      for (let i = prefix; i < end; i++) {
        const o = outcomes[i]!;
        for (const [k, v] of Object.entries(o.counters)) counters[k] = (counters[k] ?? 0) + v;
        if (o.warning) warnings.push(o.warning);
      }
      const done = end - prefix;
      prefix = end;
      this.cp.cursor = page[end - 1].user?.id ?? this.cp.cursor;
      lastSave = deps.clock.now();
      await job.checkpoint({
        processed: done,
        counters,
        warnings,
        checkpoint: this.cp,
        cursor: this.cp.cursor,
      });
    };
    const lane = async (items: number[]) => {
      let next = 0;
      const worker = async () => {
        while (next < items.length && !job.signal.aborted) {
          await write(items[next++]);
          await flush(false);
        }
      };
      await Promise.all(Array.from({ length: LANE_CONCURRENCY }, worker));
    };
    await Promise.all([lane(patchLane), lane(roleLane)]);
    await flush(true);
    return prefix;
  }
}

/** Puts the bot's own settings back: feature flags, command allow-lists, schedule. */
async function restoreBotSettings(
  deps: AppDeps,
  guildId: string,
  snapshot: Snapshot,
  roleMap: Map<string, string>,
  actorId: string,
): Promise<number> {
  const { kv } = deps;
  let changed = 0;
  const flags = await getFlags(kv, guildId);
  for (const [name, on] of Object.entries(snapshot.bot.flags)) {
    if (!(FEATURES as readonly string[]).includes(name)) continue;
    if (flags[name as Feature] !== on) {
      await setFlag(kv, guildId, name as Feature, on);
      changed++;
    }
  }
  for (const [command, roles] of Object.entries(snapshot.bot.commandRoles)) {
    const mapped = roles.map((r) => roleMap.get(r)).filter((r): r is string => r !== undefined)
      .slice(0, 25);
    const key = keys.commandRoles(guildId, command);
    const cur = await kv.get<string[]>(key);
    const now = Array.isArray(cur.value) ? [...cur.value].sort(compareIds) : [];
    if (mapped.length && now.join() !== [...mapped].sort(compareIds).join()) {
      await kv.set(key, mapped);
      changed++;
    }
  }
  const want = snapshot.bot.schedule;
  if (want) {
    const cur = await getSchedule(kv, guildId);
    if (!cur || cur.enabled !== want.enabled || cur.hours !== want.hours) {
      await setSchedule(
        kv,
        guildId,
        want.enabled ? { enabled: true, hours: want.hours } : { enabled: false },
        actorId,
        deps.clock.now(),
      );
      changed++;
    }
  }
  return changed;
}
