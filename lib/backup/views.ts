/**
 * Read-only views of backups shared by the slash commands and the HTTP routes: a backup's
 * details, diffs (two backups, or a backup against the live guild), restore previews, exports
 * and their signed, expiring download links.
 */
import type { AppDeps } from "../deps.ts";
import type { Clock } from "../clock.ts";
import type { Hmac } from "../hmac.ts";
import { type Reason, reasonOf } from "../i18n/reason.ts";
import { captureLive } from "./capture.ts";
import { type BackupDiff, diffSnapshots, diffSummary } from "./diff.ts";
import { countsOf, type Snapshot, type SnapshotCounts } from "./model.ts";
import { planStructure, type RestoreOptions } from "./restore_plan.ts";
import { readLiveGuild } from "./restore_live.ts";
import {
  type BackupMeta,
  loadCanonical,
  loadSnapshot,
  requireBackup,
  storedSize,
} from "./store.ts";

export interface BackupView {
  backup: BackupMeta;
  counts: SnapshotCounts | null;
  /** Set when the stored data does not verify: the English sentence (the HTTP API shows it). */
  problem: string | null;
  /** The problem's Reason, when it has one (the commands say it in the member's language). */
  problemWhy?: Reason;
  storedParts: number | null;
}

export async function backupView(
  deps: AppDeps,
  guildId: string,
  backupId: string,
): Promise<BackupView> {
  const meta = await requireBackup(deps.kv, guildId, backupId);
  const stored = await storedSize(deps.kv, meta);
  try {
    const { snapshot } = await loadSnapshot(deps.kv, guildId, backupId);
    return {
      backup: meta,
      counts: countsOf(snapshot),
      problem: null,
      storedParts: stored?.parts ?? null,
    };
  } catch (error) {
    const why = error instanceof Error ? reasonOf(error) : undefined;
    return {
      backup: meta,
      counts: null,
      problem: error instanceof Error ? error.message : String(error),
      ...(why ? { problemWhy: why } : {}),
      storedParts: stored?.parts ?? null,
    };
  }
}

export interface DiffSide {
  backupId: string | null;
  label: string;
  createdAt: number | null;
}

export interface DiffView {
  from: DiffSide;
  to: DiffSide;
  diff: BackupDiff;
  summary: string[];
}

const side = (m: BackupMeta): DiffSide => ({
  backupId: m.id,
  label: m.label,
  createdAt: m.createdAt,
});

/** Compares backup `a` with backup `against`, or with the live guild ("live"). */
export async function diffBackup(
  deps: AppDeps,
  guildId: string,
  a: string,
  against: string,
  opts: { limit?: number; maxLiveMembers?: number; signal?: AbortSignal } = {},
): Promise<DiffView> {
  const first = await loadSnapshot(deps.kv, guildId, a);
  let other: Snapshot;
  let to: DiffSide;
  let membersCompared = true;
  if (against === "live") {
    const live = await captureLive(deps.rest, deps.kv, guildId, {
      maxMembers: opts.maxLiveMembers,
      signal: opts.signal,
    });
    other = live.snapshot;
    membersCompared = live.membersComplete;
    to = { backupId: null, label: "live server", createdAt: deps.clock.now() };
  } else {
    const second = await loadSnapshot(deps.kv, guildId, against);
    other = second.snapshot;
    to = side(second.meta);
  }
  const diff = diffSnapshots(first.snapshot, other, { limit: opts.limit, membersCompared });
  return { from: side(first.meta), to, diff, summary: diffSummary(diff) };
}

export interface RestorePreview {
  roles: number;
  managedRolesSkipped: number;
  categories: number;
  channels: number;
  reparent: number;
  overwrites: number;
  settings: string[];
  members: number;
}

/** What a restore would create against the live guild now (members are compared as it runs). */
export async function restorePreview(
  deps: AppDeps,
  guildId: string,
  backupId: string,
  opts: RestoreOptions,
): Promise<RestorePreview> {
  const { snapshot } = await loadSnapshot(deps.kv, guildId, backupId);
  const live = await readLiveGuild(deps, guildId);
  const plan = planStructure(snapshot, live, opts);
  return {
    roles: plan.createRoles.length,
    managedRolesSkipped: plan.skippedManagedRoles.length,
    categories: plan.createCategories.length,
    channels: plan.createChannels.length,
    reparent: plan.reparent,
    overwrites: plan.overwriteFixes.length,
    settings: plan.settings ? Object.keys(plan.settings) : [],
    members: opts.parts.includes("members") ? snapshot.members.length : 0,
  };
}

const encoder = new TextEncoder();

/**
 * The export file: `{"backup": <index entry>, "format": ..., "snapshot": <canonical snapshot>}`.
 * The snapshot goes in as its verified canonical bytes (not re-serialised), so a reader can
 * re-hash it and compare with `backup.checksum`.
 */
export async function exportBackup(
  deps: AppDeps,
  guildId: string,
  backupId: string,
): Promise<{ bytes: Uint8Array; filename: string }> {
  const { meta, bytes } = await loadCanonical(deps.kv, guildId, backupId);
  const head = encoder.encode(
    `{"backup":${JSON.stringify(meta)},"format":"discord-guild-backup","snapshot":`,
  );
  const out = new Uint8Array(head.length + bytes.length + 1);
  out.set(head, 0);
  out.set(bytes, head.length);
  out[out.length - 1] = 0x7d; // }
  return { bytes: out, filename: `backup-${guildId}-${backupId}.json` };
}

export const EXPORT_LINK_TTL_MS = 15 * 60_000;

const linkData = (guildId: string, backupId: string, exp: number) =>
  `backup-export|${guildId}|${backupId}|${exp}`;

/** An authenticated, expiring download link of a backup (15 minutes by default). */
export async function createExportLink(
  deps: AppDeps,
  signer: Hmac,
  guildId: string,
  backupId: string,
  ttlMs = EXPORT_LINK_TTL_MS,
): Promise<{ url: string; expiresAt: number }> {
  const exp = Math.ceil((deps.clock.now() + ttlMs) / 1000);
  const sig = await signer.sign(linkData(guildId, backupId, exp));
  const base = deps.config.selfUrl ?? `http://localhost:${deps.config.port}`;
  return {
    url: `${base}/backups/download/${guildId}/${backupId}?exp=${exp}&sig=${sig}`,
    expiresAt: exp * 1000,
  };
}

export async function verifyExportLink(
  links: Hmac,
  clock: Clock,
  guildId: string,
  backupId: string,
  exp: number,
  sig: string,
): Promise<{ ok: true } | { ok: false; status: number; error: string }> {
  if (!Number.isInteger(exp) || !sig) return { ok: false, status: 401, error: "invalid link" };
  if (!(await links.verify(linkData(guildId, backupId, exp), sig))) {
    return { ok: false, status: 401, error: "invalid link" };
  }
  if (exp * 1000 <= clock.now()) return { ok: false, status: 410, error: "this link has expired" };
  return { ok: true };
}
