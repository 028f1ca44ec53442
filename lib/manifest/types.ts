/**
 * The shapes of the command-manifest HTTP API (`GET /commands/diff`, `POST /commands/sync`,
 * `GET /commands/log`). The engine returns them, the routes send them as JSON, and the CLI reads
 * them with type-only imports (it never runs the engine).
 */

/** Where commands are registered: globally, or in one guild (`guild:<id>`). */
export type ScopeKey = "global" | `guild:${string}`;

export interface CommandRef {
  name: string;
  /** 1 chat input, 2 user, 3 message. */
  type: number;
}

/** One field that differs; `code` is the manifest's value, `discord` what Discord has. */
export interface FieldChange {
  /** e.g. `description`, `options.user.required`, `options` (names added, removed or moved). */
  path: string;
  code: unknown;
  discord: unknown;
}

export interface CommandChange extends CommandRef {
  fields: FieldChange[];
}

/**
 * What a sync would do to Discord: `added` are in the code and missing on Discord (they would be
 * created), `removed` are on Discord and not in the code (they would be deleted), `changed` exist
 * on both sides with different fields.
 */
export interface ManifestDiff {
  added: CommandRef[];
  removed: CommandRef[];
  changed: CommandChange[];
  unchanged: number;
  inSync: boolean;
}

/** A diff cut down for the sync log: counts, and the first names of each kind. */
export interface DiffSummary {
  added: number;
  removed: number;
  changed: number;
  unchanged: number;
  names: { added: string[]; removed: string[]; changed: string[] };
}

export interface DiffReport {
  scope: ScopeKey;
  /** Epoch ms of the check. */
  at: number;
  /** The code's manifest. */
  fingerprint: string;
  /** The same fingerprint computed over what Discord has registered. */
  discordFingerprint: string;
  /** The fingerprint last synced to this scope (KV), and when. */
  syncedFingerprint: string | null;
  syncedAt: number | null;
  counts: { code: number; discord: number };
  diff: ManifestDiff;
  inSync: boolean;
  /** Discord calls the check used. */
  calls: number;
}

/**
 * - `synced`: the scope was bulk-overwritten.
 * - `in_sync`: the fingerprint had changed (or was unknown) but Discord already matched: stored,
 *   nothing written.
 * - `unchanged`: the fingerprint equals the last one synced: no Discord call at all.
 * - `cooldown`: skipped, a 429 cooldown is in force (`cooldownUntil`).
 * - `busy`: skipped, another isolate is syncing.
 * - `rate_limited`: Discord answered 429 now; a cooldown was stored.
 * - `failed`: another Discord error (`error`).
 * - `invalid`: the manifest breaks Discord's limits; nothing was sent.
 * - `cleared`: after a global sync, the guild's copy left by the per-guild fallback was removed
 *   (its command scope overwritten with an empty list).
 */
export type ScopeOutcome =
  | "synced"
  | "in_sync"
  | "unchanged"
  | "cooldown"
  | "busy"
  | "rate_limited"
  | "failed"
  | "invalid"
  | "cleared";

export type SyncTrigger = "operator" | "start" | "cron" | "drift" | "bench" | "test";

export interface ScopeResult {
  scope: ScopeKey;
  outcome: ScopeOutcome;
  fingerprint: string;
  /** Discord requests made for this scope (a retried request counts twice). */
  calls: number;
  at: number;
  durationMs: number;
  diff?: DiffSummary;
  cooldownUntil?: number;
  error?: string;
  /** HTTP status of a failed call (0: network error or timeout), when Discord answered one. */
  status?: number;
}

/**
 * - `ok`: the target scope is synced (or already matched).
 * - `skipped`: nothing to do now (unchanged, cooldown, another sync running).
 * - `degraded`: the global sync failed, the per-guild fallback synced every configured guild.
 * - `failed`: nothing or not everything could be synced (see `results`).
 */
export type SyncStatus = "ok" | "skipped" | "degraded" | "failed";

export interface SyncReport {
  status: SyncStatus;
  /** One line for humans, e.g. "global: synced (1 changed) in 2 calls". */
  message: string;
  fingerprint: string;
  forced: boolean;
  trigger: SyncTrigger;
  target: ScopeKey;
  /** True when the per-guild fallback ran. */
  fallback: boolean;
  /**
   * The target first, then each fallback guild, or each guild whose fallback copy was removed
   * after a global sync (`cleared`, or `failed`/`rate_limited`/`cooldown` to retry next time).
   */
  results: ScopeResult[];
  /** Total Discord requests. */
  calls: number;
  /** Validation problems when the manifest was refused. */
  problems?: string[];
}

export interface SyncLogEntry extends ScopeResult {
  trigger: SyncTrigger;
  forced: boolean;
}

export interface LogReport {
  entries: SyncLogEntry[];
  /** Entries kept at most. */
  cap: number;
}
