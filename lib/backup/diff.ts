/**
 * The difference between two snapshots (two backups, or a backup and the live guild): guild
 * settings, roles, channels, permission overwrites, member roles, emojis and stickers added,
 * removed and changed. Pure; entities are matched by id, so a role deleted and re-created shows
 * as one removed and one added (with the same name).
 *
 * Long lists are cut at `limit` entries each; the totals stay exact.
 */
import type { SnapChannel, SnapRole, Snapshot } from "./model.ts";
import { compareIds } from "../discord/snowflake.ts";

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface EntityRef {
  id: string;
  name: string;
  type?: number;
}

export interface EntityChange extends EntityRef {
  fields: FieldChange[];
}

export interface Section<A = EntityRef, C = EntityChange> {
  added: A[];
  removed: A[];
  changed: C[];
  totals: { added: number; removed: number; changed: number };
}

export interface OverwriteRef {
  channelId: string;
  channelName: string;
  targetId: string;
  targetName: string;
  /** 0 role, 1 member. */
  type: number;
  allow: string;
  deny: string;
}

export interface OverwriteChange extends OverwriteRef {
  from: { allow: string; deny: string };
}

export interface MemberChange {
  id: string;
  added: string[];
  removed: string[];
}

export interface BackupDiff {
  settings: FieldChange[];
  roles: Section;
  channels: Section;
  overwrites: Section<OverwriteRef, OverwriteChange>;
  members: {
    /** False when one side has no member list (a live guild too large to list). */
    compared: boolean;
    joined: number;
    left: number;
    changed: MemberChange[];
    totals: { changed: number; rolesAdded: number; rolesRemoved: number };
  };
  emojis: Section;
  stickers: Section;
  /** True when nothing differs (in the parts compared). */
  identical: boolean;
}

const ROLE_FIELDS: (keyof SnapRole)[] = [
  "name",
  "color",
  "hoist",
  "mentionable",
  "permissions",
  "position",
  "unicode_emoji",
  "icon",
];
const CHANNEL_FIELDS: (keyof SnapChannel)[] = [
  "name",
  "type",
  "position",
  "parent_id",
  "topic",
  "nsfw",
  "rate_limit_per_user",
  "bitrate",
  "user_limit",
  "rtc_region",
  "video_quality_mode",
  "default_auto_archive_duration",
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function fieldChanges<T extends object>(a: T, b: T, fields: (keyof T)[]): FieldChange[] {
  const out: FieldChange[] = [];
  for (const f of fields) {
    if (!same(a[f], b[f])) out.push({ field: String(f), from: a[f] ?? null, to: b[f] ?? null });
  }
  return out;
}

function section<T extends { id: string; name: string }>(
  a: T[],
  b: T[],
  fields: (keyof T)[],
  limit: number,
  ref: (x: T) => EntityRef,
): Section {
  const before = new Map(a.map((x) => [x.id, x]));
  const after = new Map(b.map((x) => [x.id, x]));
  const added = b.filter((x) => !before.has(x.id)).map(ref);
  const removed = a.filter((x) => !after.has(x.id)).map(ref);
  const changed: EntityChange[] = [];
  for (const x of b) {
    const old = before.get(x.id);
    if (!old) continue;
    const f = fieldChanges(old, x, fields);
    if (f.length) changed.push({ ...ref(x), fields: f });
  }
  return {
    added: added.slice(0, limit),
    removed: removed.slice(0, limit),
    changed: changed.slice(0, limit),
    totals: { added: added.length, removed: removed.length, changed: changed.length },
  };
}

/** Compares `a` (older) with `b` (newer or live). */
export function diffSnapshots(
  a: Snapshot,
  b: Snapshot,
  opts: { limit?: number; membersCompared?: boolean } = {},
): BackupDiff {
  const limit = opts.limit ?? 100;
  const roleName = new Map<string, string>();
  for (const r of [...a.roles, ...b.roles]) roleName.set(r.id, r.name);
  const nameOfTarget = (id: string, type: number) =>
    type === 0 ? roleName.get(id) ?? `role ${id}` : `member ${id}`;

  const { id: _ia, ...settingsA } = a.guild;
  const { id: _ib, ...settingsB } = b.guild;
  const settings = fieldChanges(
    settingsA,
    settingsB,
    Object.keys({ ...settingsA, ...settingsB }).sort() as (keyof typeof settingsA)[],
  );

  const roles = section(a.roles, b.roles, ROLE_FIELDS, limit, (r) => ({ id: r.id, name: r.name }));
  const channels = section(
    a.channels,
    b.channels,
    CHANNEL_FIELDS,
    limit,
    (c) => ({ id: c.id, name: c.name, type: c.type }),
  );

  // Overwrites of channels present on both sides (a new or deleted channel's are implied).
  const ow: { added: OverwriteRef[]; removed: OverwriteRef[]; changed: OverwriteChange[] } = {
    added: [],
    removed: [],
    changed: [],
  };
  const channelsA = new Map(a.channels.map((c) => [c.id, c]));
  for (const cb of b.channels) {
    const ca = channelsA.get(cb.id);
    if (!ca) continue;
    const before = new Map(ca.permission_overwrites.map((o) => [o.id, o]));
    const after = new Map(cb.permission_overwrites.map((o) => [o.id, o]));
    const ref = (o: { id: string; type: number; allow: string; deny: string }): OverwriteRef => ({
      channelId: cb.id,
      channelName: cb.name,
      targetId: o.id,
      targetName: nameOfTarget(o.id, o.type),
      type: o.type,
      allow: o.allow,
      deny: o.deny,
    });
    for (const o of cb.permission_overwrites) {
      const old = before.get(o.id);
      if (!old) ow.added.push(ref(o));
      else if (old.allow !== o.allow || old.deny !== o.deny || old.type !== o.type) {
        ow.changed.push({ ...ref(o), from: { allow: old.allow, deny: old.deny } });
      }
    }
    for (const o of ca.permission_overwrites) if (!after.has(o.id)) ow.removed.push(ref(o));
  }
  const overwrites: Section<OverwriteRef, OverwriteChange> = {
    added: ow.added.slice(0, limit),
    removed: ow.removed.slice(0, limit),
    changed: ow.changed.slice(0, limit),
    totals: { added: ow.added.length, removed: ow.removed.length, changed: ow.changed.length },
  };

  // Members: both lists are in id order, so one merge walk.
  const compared = opts.membersCompared ?? true;
  let joined = 0;
  let left = 0;
  let rolesAdded = 0;
  let rolesRemoved = 0;
  let changedCount = 0;
  const changed: MemberChange[] = [];
  if (compared) {
    const ma = [...a.members].sort((x, y) => compareIds(x.id, y.id));
    const mb = [...b.members].sort((x, y) => compareIds(x.id, y.id));
    let i = 0;
    let j = 0;
    while (i < ma.length || j < mb.length) {
      const c = i >= ma.length ? 1 : j >= mb.length ? -1 : compareIds(ma[i].id, mb[j].id);
      if (c < 0) {
        left++;
        i++;
      } else if (c > 0) {
        joined++;
        j++;
      } else {
        const had = new Set(ma[i].roles);
        const has = new Set(mb[j].roles);
        const added = mb[j].roles.filter((r) => !had.has(r));
        const removed = ma[i].roles.filter((r) => !has.has(r));
        if (added.length || removed.length) {
          changedCount++;
          rolesAdded += added.length;
          rolesRemoved += removed.length;
          if (changed.length < limit) changed.push({ id: mb[j].id, added, removed });
        }
        i++;
        j++;
      }
    }
  }

  const emojis = section(a.emojis, b.emojis, ["name", "animated", "roles"], limit, (e) => ({
    id: e.id,
    name: e.name,
  }));
  const stickers = section(a.stickers, b.stickers, ["name", "description", "tags"], limit, (s) => ({
    id: s.id,
    name: s.name,
  }));

  const diff: BackupDiff = {
    settings,
    roles,
    channels,
    overwrites,
    members: {
      compared,
      joined,
      left,
      changed,
      totals: { changed: changedCount, rolesAdded, rolesRemoved },
    },
    emojis,
    stickers,
    identical: false,
  };
  diff.identical = settings.length === 0 && joined === 0 && left === 0 && changedCount === 0 &&
    [roles, channels, overwrites, emojis, stickers].every((s) =>
      s.totals.added + s.totals.removed + s.totals.changed === 0
    );
  return diff;
}

/** One line per section with changes, for replies and the CLI. */
export function diffSummary(d: BackupDiff): string[] {
  if (d.identical) return ["No differences."];
  const lines: string[] = [];
  const part = (
    label: string,
    s: { totals: { added: number; removed: number; changed: number } },
  ) => {
    const t = s.totals;
    if (t.added + t.removed + t.changed === 0) return;
    lines.push(`${label}: +${t.added} added, -${t.removed} removed, ~${t.changed} changed`);
  };
  if (d.settings.length) {
    lines.push(`Settings: ${d.settings.map((f) => f.field).join(", ")} changed`);
  }
  part("Roles", d.roles);
  part("Channels", d.channels);
  part("Overwrites", d.overwrites);
  if (!d.members.compared) lines.push("Member roles: not compared (guild too large to list live)");
  else if (d.members.totals.changed + d.members.joined + d.members.left) {
    lines.push(
      `Member roles: ${d.members.totals.changed} members changed (+${d.members.totals.rolesAdded} / -${d.members.totals.rolesRemoved} roles), ${d.members.joined} joined, ${d.members.left} left`,
    );
  }
  part("Emojis", d.emojis);
  part("Stickers", d.stickers);
  return lines;
}
