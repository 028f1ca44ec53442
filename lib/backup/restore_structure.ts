/**
 * The structure phase of a backup restore (restore_job.ts): roles (create missing, then one
 * position move), categories and channels (create missing, overwrites remapped to the live role
 * ids in the create body), channels put back under their category, missing overwrites on channels
 * that still exist, guild settings, the bot's own settings. Every chunk re-reads the live guild
 * and re-matches by id, then by name (restore_plan.ts), so an entity created just before a crash
 * is found, not created twice; one that fails is counted, described and not tried again.
 */
import type { AppDeps } from "../deps.ts";
import {
  createChannel,
  createRole,
  editChannelPermission,
  getRoles,
  modifyChannel,
  reorderRoles,
} from "../discord/api.ts";
import { getAllowedRoles } from "../interactions/permissions.ts";
import { keys } from "../kv/keys.ts";
import { type Feature, FEATURES, getFlags, setFlag } from "../ops/flags.ts";
import { channelOf, roleOf, settingsOf } from "./capture.ts";
import type { Snapshot } from "./model.ts";
import { compareIds } from "../discord/snowflake.ts";
import { getSchedule, setSchedule } from "./schedule.ts";
import {
  CATEGORY,
  channelCreateBody,
  type LiveGuild,
  mapOverwrites,
  matchChannels,
  matchRoles,
  missingManagedRoles,
  missingOverwrites,
  missingRoles,
  orphanedChannels,
  type RestorePart,
  roleCreateBody,
  roleMoves,
  settingsPatch,
} from "./restore_plan.ts";
import type { RestoreRun } from "./restore_run.ts";

/** False when the chunk must stop (time box, stop, shutdown) before the structure is done. */
export async function restoreStructure(run: RestoreRun, live: LiveGuild): Promise<boolean> {
  const { deps, job, snapshot, parts, guildId } = run;
  const { rest } = deps;
  const roleMap = matchRoles(snapshot.roles, live);
  const stop = () => job.signal.aborted;

  if (parts.has("roles")) {
    for (const r of missingRoles(snapshot, roleMap)) {
      if (stop()) return false;
      if (run.cp.failed.includes(`role:${r.id}`)) continue;
      await run.attempt(`role:${r.id}`, "roles", `role "${r.name}"`, async () => {
        const created = await createRole(rest, guildId, roleCreateBody(r), run.reason, {
          signal: job.hard,
        });
        roleMap.set(r.id, created.id);
        live.roles.push(roleOf(created));
        run.cp.createdRoles.push(created.id);
        await run.save({ "created.roles": 1 });
      });
    }
    if (!run.cp.positionsDone) {
      if (run.cp.createdRoles.length) {
        if (stop()) return false;
        const fresh = (await getRoles(rest, guildId, { signal: job.hard })).map(roleOf);
        live.roles = fresh;
        const moves = roleMoves(snapshot, live, roleMap, new Set(run.cp.createdRoles));
        if (moves.length) {
          await run.attempt("positions", "role_positions", "role positions", async () => {
            const after = await reorderRoles(rest, guildId, moves, run.reason, {
              signal: job.hard,
            });
            live.roles = after.map(roleOf);
          });
        }
      }
      run.cp.positionsDone = true;
      const managed = missingManagedRoles(snapshot, roleMap).length;
      await run.save(managed ? { "skipped.managed_roles": managed } : {});
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
      if (channelMap.has(c.id) || run.cp.failed.includes(`channel:${c.id}`)) continue;
      const parent = c.type === CATEGORY
        ? null
        : c.parent_id
        ? channelMap.get(c.parent_id) ?? null
        : null;
      const { mapped, dropped } = mapOverwrites(c.permission_overwrites, roleMap);
      await run.attempt(
        `channel:${c.id}`,
        kind,
        `${kind === "categories" ? "category" : "channel"} "${c.name}"`,
        async () => {
          const created = await createChannel(
            rest,
            guildId,
            channelCreateBody(c, parent, mapped) as Parameters<typeof createChannel>[2],
            run.reason,
            { signal: job.hard },
          );
          channelMap.set(c.id, created.id);
          const snap = channelOf(created);
          if (snap) liveById.set(created.id, snap);
          await run.save({
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
      if (run.cp.failed.includes(key)) continue;
      await run.attempt(key, "channels", `moving #${o.channel.name} back`, async () => {
        await modifyChannel(
          rest,
          o.liveId,
          {
            parent_id: parentId,
            position: o.channel.position,
          },
          run.reason,
          { signal: job.hard },
        );
        const current = liveById.get(o.liveId);
        if (current) current.parent_id = parentId;
        await run.save({ "created.parent_links": 1 });
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
      if (run.cp.failed.includes(key)) continue;
      await run.attempt(key, "overwrites", `overwrite on #${fix.channelName}`, async () => {
        await editChannelPermission(
          rest,
          fix.channelId,
          fix.overwrite.id,
          {
            type: fix.overwrite.type,
            allow: fix.overwrite.allow,
            deny: fix.overwrite.deny,
          },
          run.reason,
          { signal: job.hard },
        );
        current.permission_overwrites.push(fix.overwrite);
        await run.save({ "created.overwrites": 1 });
      });
    }
  }

  if (parts.has("settings")) {
    if (stop()) return false;
    const patch = settingsPatch(snapshot.guild, live.guild, channelMap);
    if (patch && !run.cp.failed.includes("settings")) {
      await run.attempt("settings", "settings", "guild settings", async () => {
        const after = await rest.patch<Parameters<typeof settingsOf>[0]>(`/guilds/${guildId}`, {
          body: patch,
          reason: run.reason,
          signal: job.hard,
        });
        live.guild = settingsOf(after);
        await run.save({ "created.settings": Object.keys(patch).length });
      });
    }
    const changed = await restoreBotSettings(deps, guildId, snapshot, roleMap, run.cp.actorId);
    if (changed) await run.save({ "created.bot_settings": changed });
  }
  return true;
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
    const now = (await getAllowedRoles(kv, guildId, command)).sort(compareIds);
    if (mapped.length && now.join() !== [...mapped].sort(compareIds).join()) {
      await kv.set(keys.commandRoles(guildId, command), mapped);
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
