/**
 * Restore planning, pure: what a non-destructive restore of a snapshot onto the live guild has to
 * do. Nothing here deletes a role or a channel; existing roles and channels are left as they are,
 * except that permission overwrites missing from them are put back.
 *
 * Matching (so a restore can run again, or resume after a crash, without creating duplicates):
 * - a backed-up role or channel whose id still exists is that one;
 * - otherwise a live one of the same name (and type, and parent for channels) that no other
 *   backed-up entity claimed: the copy a previous restore created;
 * - otherwise it is missing and gets created.
 *
 * Permission overwrites and member roles are remapped through the role map (backup id -> live
 * id). Managed roles (bots, integrations) are never created: Discord makes them.
 *
 * Kept whole at about 400 lines: every function is one pure step of the same plan over the same
 * LiveGuild and role map, which `planStructure` strings together for the preview.
 */
import { compareIds, compareRoles } from "../discord/snowflake.ts";
import {
  type GuildSettings,
  type SnapChannel,
  type SnapMember,
  type SnapOverwrite,
  type SnapRole,
  type Snapshot,
} from "./model.ts";

export const RESTORE_PARTS = ["roles", "categories", "channels", "members", "settings"] as const;
export type RestorePart = typeof RESTORE_PARTS[number];

export interface RestoreOptions {
  parts: RestorePart[];
  /** Members: also remove roles they gained since the backup (among roles the bot manages). */
  rewind: boolean;
}

export const CATEGORY = 4;

/** The live guild as far as planning needs it. */
export interface LiveGuild {
  guildId: string;
  guild: GuildSettings;
  roles: SnapRole[];
  channels: SnapChannel[];
  /** The bot's highest role position (roles at or above it cannot be managed). */
  botTopPosition: number;
  /** The bot's highest role id (ties are broken by id, as Discord does). */
  botTopId: string;
}

/** Discord's role order: higher position first; equal positions, the lower id ranks higher. */

/** Maps backed-up role ids to live ids (see the module comment). @everyone maps to itself. */
export function matchRoles(snapRoles: SnapRole[], live: LiveGuild): Map<string, string> {
  const map = new Map<string, string>();
  const liveById = new Map(live.roles.map((r) => [r.id, r]));
  const claimed = new Set<string>();
  for (const r of snapRoles) {
    if (liveById.has(r.id)) {
      map.set(r.id, r.id);
      claimed.add(r.id);
    }
  }
  const byName = new Map<string, SnapRole[]>();
  for (const r of live.roles) {
    if (claimed.has(r.id) || r.managed || r.id === live.guildId) continue;
    const list = byName.get(r.name) ?? [];
    list.push(r);
    byName.set(r.name, list);
  }
  // Unmatched backup roles bottom-up, each taking the lowest free live role of its name.
  const pending = snapRoles.filter((r) => !map.has(r.id) && !r.managed && r.id !== live.guildId)
    .sort(compareRoles);
  for (const r of pending) {
    const candidates = (byName.get(r.name) ?? []).sort(compareRoles);
    const pick = candidates.shift();
    if (pick) {
      map.set(r.id, pick.id);
      claimed.add(pick.id);
    }
  }
  map.set(live.guildId, live.guildId);
  return map;
}

/** Backed-up roles with no live counterpart that a restore would create, bottom first. */
export function missingRoles(snapshot: Snapshot, map: Map<string, string>): SnapRole[] {
  return snapshot.roles.filter((r) => !map.has(r.id) && !r.managed && r.id !== snapshot.guild.id)
    .sort(compareRoles);
}

/** Managed backed-up roles with no live counterpart (skipped: only Discord creates them). */
export function missingManagedRoles(snapshot: Snapshot, map: Map<string, string>): SnapRole[] {
  return snapshot.roles.filter((r) => !map.has(r.id) && r.managed);
}

/** The body that re-creates a role with its backed-up settings (position is set afterwards). */
export function roleCreateBody(r: SnapRole): Record<string, unknown> {
  return {
    name: r.name,
    permissions: r.permissions,
    color: r.color,
    hoist: r.hoist,
    mentionable: r.mentionable,
    ...(r.unicode_emoji ? { unicode_emoji: r.unicode_emoji } : {}),
  };
}

/**
 * Role position moves that put the `created` live roles where their backed-up originals were:
 * each goes just above the live counterpart of the nearest backed-up role below it. Only roles
 * below the bot's highest role are ever listed. Empty when nothing needs to move.
 */
export function roleMoves(
  snapshot: Snapshot,
  live: LiveGuild,
  map: Map<string, string>,
  created: Set<string>,
): { id: string; position: number }[] {
  if (created.size === 0) return [];
  const liveById = new Map(live.roles.map((r) => [r.id, r]));
  const order = live.roles.filter((r) => r.id !== live.guildId && !created.has(r.id))
    .sort(compareRoles).map((r) => r.id);
  const reverse = new Map<string, string>();
  for (const [snapId, liveId] of map) reverse.set(liveId, snapId);
  const snapSorted = snapshot.roles.filter((r) => r.id !== snapshot.guild.id).sort(compareRoles);
  const snapIndex = new Map(snapSorted.map((r, i) => [r.id, i]));
  const toPlace = [...created].filter((id) => liveById.has(id) && reverse.has(id))
    .sort((a, b) => (snapIndex.get(reverse.get(a)!) ?? 0) - (snapIndex.get(reverse.get(b)!) ?? 0));
  for (const liveId of toPlace) {
    const i = snapIndex.get(reverse.get(liveId)!) ?? 0;
    let at = 0;
    for (let k = i - 1; k >= 0; k--) {
      const anchor = map.get(snapSorted[k].id);
      const idx = anchor === undefined ? -1 : order.indexOf(anchor);
      if (idx >= 0) {
        at = idx + 1;
        break;
      }
    }
    order.splice(at, 0, liveId);
  }
  const top = { id: live.botTopId, position: live.botTopPosition };
  const moves: { id: string; position: number }[] = [];
  order.forEach((id, i) => {
    const role = liveById.get(id)!;
    const position = i + 1;
    if (role.position === position) return;
    if (compareRoles(role, top) >= 0 || position >= top.position) return;
    moves.push({ id, position });
  });
  return moves;
}

/** Overwrites with role targets remapped; role overwrites whose role has no live counterpart drop. */
export function mapOverwrites(
  list: SnapOverwrite[],
  map: Map<string, string>,
): { mapped: SnapOverwrite[]; dropped: number } {
  const mapped: SnapOverwrite[] = [];
  let dropped = 0;
  for (const o of list) {
    if (o.type === 1) {
      mapped.push(o);
      continue;
    }
    const id = map.get(o.id);
    if (id === undefined) dropped++;
    else mapped.push({ ...o, id });
  }
  return { mapped, dropped };
}

/** Maps backed-up categories and channels to live ids (categories first: channels match by parent). */
export function matchChannels(snapshot: Snapshot, live: LiveGuild): Map<string, string> {
  const map = new Map<string, string>();
  const liveById = new Map(live.channels.map((c) => [c.id, c]));
  const claimed = new Set<string>();
  for (const c of snapshot.channels) {
    const l = liveById.get(c.id);
    if (l && l.type === c.type) {
      map.set(c.id, c.id);
      claimed.add(c.id);
    }
  }
  const claim = (c: SnapChannel, parent: string | null) => {
    const pick =
      live.channels.filter((l) =>
        !claimed.has(l.id) && l.name === c.name && l.type === c.type &&
        (c.type === CATEGORY || (l.parent_id ?? null) === parent)
      ).sort((a, b) => a.position - b.position || compareIds(a.id, b.id))[0];
    if (pick) {
      map.set(c.id, pick.id);
      claimed.add(pick.id);
    }
  };
  const sorted = [...snapshot.channels].sort((a, b) =>
    a.position - b.position || compareIds(a.id, b.id)
  );
  for (const c of sorted) if (c.type === CATEGORY && !map.has(c.id)) claim(c, null);
  for (const c of sorted) {
    if (c.type === CATEGORY || map.has(c.id)) continue;
    claim(c, c.parent_id ? map.get(c.parent_id) ?? null : null);
  }
  return map;
}

/** The body that re-creates a channel, its parent and overwrites already remapped. */
export function channelCreateBody(
  c: SnapChannel,
  parentId: string | null,
  overwrites: SnapOverwrite[],
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: c.name,
    type: c.type,
    position: c.position,
    nsfw: c.nsfw,
    permission_overwrites: overwrites.map((o) => ({
      id: o.id,
      type: o.type,
      allow: o.allow,
      deny: o.deny,
    })),
  };
  if (c.type !== CATEGORY) body.parent_id = parentId;
  for (
    const k of [
      "topic",
      "rate_limit_per_user",
      "bitrate",
      "user_limit",
      "rtc_region",
      "video_quality_mode",
      "default_auto_archive_duration",
      "default_thread_rate_limit_per_user",
    ] as const
  ) {
    if (c[k] !== undefined && c[k] !== null) body[k] = c[k];
  }
  return body;
}

export interface OverwriteFix {
  channelId: string;
  channelName: string;
  overwrite: SnapOverwrite;
}

/** Overwrites a live (matched) channel lacks compared with its backup, remapped. */
export function missingOverwrites(
  c: SnapChannel,
  liveChannel: SnapChannel,
  roleMap: Map<string, string>,
): { fixes: OverwriteFix[]; dropped: number } {
  const have = new Set(liveChannel.permission_overwrites.map((o) => o.id));
  const { mapped, dropped } = mapOverwrites(c.permission_overwrites, roleMap);
  return {
    fixes: mapped.filter((o) => !have.has(o.id)).map((overwrite) => ({
      channelId: liveChannel.id,
      channelName: liveChannel.name,
      overwrite,
    })),
    dropped,
  };
}

/**
 * Existing channels that lost their category (it was deleted, so Discord left them without a
 * parent) while the backup has them in one: they go back under the category's live counterpart.
 * Channels an admin moved to another category are left alone.
 */
export function orphanedChannels(
  snapshot: Snapshot,
  live: LiveGuild,
  channelMap: Map<string, string>,
): { channel: SnapChannel; liveId: string; parentLiveId: string | null }[] {
  const liveById = new Map(live.channels.map((c) => [c.id, c]));
  const out: { channel: SnapChannel; liveId: string; parentLiveId: string | null }[] = [];
  for (const c of snapshot.channels) {
    if (c.type === CATEGORY || !c.parent_id) continue;
    const liveId = channelMap.get(c.id);
    const current = liveId === undefined ? undefined : liveById.get(liveId);
    if (!current || current.parent_id !== null) continue;
    out.push({ channel: c, liveId: current.id, parentLiveId: channelMap.get(c.parent_id) ?? null });
  }
  return out;
}

const SETTING_FIELDS = [
  "verification_level",
  "default_message_notifications",
  "explicit_content_filter",
  "afk_timeout",
  "system_channel_flags",
  "preferred_locale",
] as const;
const CHANNEL_SETTINGS = ["afk_channel_id", "system_channel_id"] as const;

/** The PATCH /guilds/{id} body that puts the backed-up settings back; null when none differ. */
export function settingsPatch(
  snap: GuildSettings,
  live: GuildSettings,
  channelMap: Map<string, string>,
): Record<string, unknown> | null {
  const body: Record<string, unknown> = {};
  for (const f of SETTING_FIELDS) if (snap[f] !== live[f]) body[f] = snap[f];
  for (const f of CHANNEL_SETTINGS) {
    const want = snap[f] === null ? null : channelMap.get(snap[f]!) ?? undefined;
    if (want !== undefined && want !== live[f]) body[f] = want;
  }
  return Object.keys(body).length ? body : null;
}

/** Live roles the bot may give and take: not managed, not @everyone, below its highest role. */
export function assignableRoles(live: LiveGuild): Set<string> {
  const top = { id: live.botTopId, position: live.botTopPosition };
  return new Set(
    live.roles.filter((r) => !r.managed && r.id !== live.guildId && compareRoles(r, top) < 0)
      .map((r) => r.id),
  );
}

export interface MemberChange {
  add: string[];
  remove: string[];
}

/**
 * What to change on one member: the backed-up roles (remapped) they lack, and with rewind the
 * manageable roles they hold that the backup does not list.
 */
export function memberChange(
  backedUp: SnapMember,
  current: string[],
  roleMap: Map<string, string>,
  assignable: Set<string>,
  rewind: boolean,
): MemberChange {
  const held = new Set(current);
  const desired = new Set<string>();
  for (const r of backedUp.roles) {
    const id = roleMap.get(r);
    if (id !== undefined && assignable.has(id)) desired.add(id);
  }
  const add = [...desired].filter((r) => !held.has(r)).sort(compareIds);
  const remove = rewind
    ? current.filter((r) => assignable.has(r) && !desired.has(r)).sort(compareIds)
    : [];
  return { add, remove };
}

export interface StructurePlan {
  roleMap: Map<string, string>;
  channelMap: Map<string, string>;
  createRoles: SnapRole[];
  skippedManagedRoles: SnapRole[];
  createCategories: SnapChannel[];
  createChannels: SnapChannel[];
  /** Existing channels that go back under their (possibly re-created) category. */
  reparent: number;
  overwriteFixes: OverwriteFix[];
  settings: Record<string, unknown> | null;
}

/**
 * The structural part of a restore against the live guild as it is now (roles, categories,
 * channels, missing overwrites, settings), for previews and the minimum-call figure. Overwrites
 * of roles still to be created count as fixes only once those exist, so previews count each
 * created role's overwrites with its channel.
 */
export function planStructure(
  snapshot: Snapshot,
  live: LiveGuild,
  opts: RestoreOptions,
): StructurePlan {
  const parts = new Set(opts.parts);
  const roleMap = matchRoles(snapshot.roles, live);
  const createRoles = parts.has("roles") ? missingRoles(snapshot, roleMap) : [];
  // Pretend the created roles exist so overwrite fixes count them.
  const projected = new Map(roleMap);
  for (const r of createRoles) projected.set(r.id, `new:${r.id}`);
  const channelMap = matchChannels(snapshot, live);
  const liveById = new Map(live.channels.map((c) => [c.id, c]));
  const createCategories: SnapChannel[] = [];
  const createChannels: SnapChannel[] = [];
  const overwriteFixes: OverwriteFix[] = [];
  for (const c of snapshot.channels) {
    const wanted = c.type === CATEGORY ? parts.has("categories") : parts.has("channels");
    if (!wanted) continue;
    const liveId = channelMap.get(c.id);
    if (liveId === undefined) {
      (c.type === CATEGORY ? createCategories : createChannels).push(c);
      continue;
    }
    overwriteFixes.push(...missingOverwrites(c, liveById.get(liveId)!, projected).fixes);
  }
  const byPosition = (a: SnapChannel, b: SnapChannel) =>
    a.position - b.position || compareIds(a.id, b.id);
  return {
    roleMap,
    channelMap,
    createRoles,
    skippedManagedRoles: parts.has("roles") ? missingManagedRoles(snapshot, roleMap) : [],
    createCategories: createCategories.sort(byPosition),
    createChannels: createChannels.sort(byPosition),
    reparent: parts.has("channels")
      ? orphanedChannels(snapshot, live, channelMap).filter((o) =>
        o.parentLiveId !== null ||
        (parts.has("categories") && createCategories.some((c) => c.id === o.channel.parent_id))
      ).length
      : 0,
    overwriteFixes,
    settings: parts.has("settings") ? settingsPatch(snapshot.guild, live.guild, channelMap) : null,
  };
}
