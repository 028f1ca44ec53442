/**
 * Every KV key the bot writes starts with one of these prefixes, so the key space is listed in
 * one place and no two concerns collide.
 */
export type KvKey = Deno.KvKey;

export const keys = {
  // foundation
  /** By user first (a duplicate delivery has the same user), so privacy can find a user's records. */
  idempotency: (userId: string, interactionId: string): KvKey => ["idem", userId, interactionId],
  idempotencyOfUser: (userId: string): KvKey => ["idem", userId],
  cooldownsOfUser: (userId: string): KvKey => ["cooldown", userId],
  /** By user first, so everything kept about one user lists under one prefix (privacy view). */
  cooldown: (userId: string, command: string): KvKey => ["cooldown", userId, command],
  commandRoles: (guildId: string, command: string): KvKey => ["cmd_roles", guildId, command],
  commandRolesOf: (guildId: string): KvKey => ["cmd_roles", guildId],
  flags: (guildId: string): KvKey => ["flags", guildId],
  guildRolesCache: (guildId: string): KvKey => ["cache", "guild_roles", guildId],
  lease: (name: string): KvKey => ["lease", name],
  /** A request that a yielding lease holder give the lease back (lib/kv/lease.ts). */
  leaseYield: (name: string): KvKey => ["lease_yield", name],
  blob: (...parts: Deno.KvKeyPart[]): KvKey => ["blob", ...parts],
  syncStatus: (guildId: string): KvKey => ["sync", "status", guildId],
  alertDedupe: (cause: string): KvKey => ["alert_dedupe", cause],
  alertedRun: (runId: string, problem: string): KvKey => ["alert_dedupe", "run", runId, problem],
  alert: (invertedTime: number, cause: string): KvKey => ["alerts", invertedTime, cause],
  alerts: (): KvKey => ["alerts"],
  metricsSnapshot: (isolateId: string): KvKey => ["metrics", "isolate", isolateId],
  metricsSnapshots: (): KvKey => ["metrics", "isolate"],
  health: (): KvKey => ["health", "probe"],
  generatedSigningSecret: (): KvKey => ["secret", "signing"],
  // jobs (lib/jobs): one run record, one stop request and one lease per job kind + key
  jobRun: (kind: string, key: string): KvKey => ["job", kind, key, "run"],
  jobStop: (kind: string, key: string): KvKey => ["job", kind, key, "stop"],
  jobPrefix: (kind: string): KvKey => ["job", kind],
  jobHistory: (kind: string, key: string, invertedTime: number, runId: string): KvKey => [
    "job_history",
    kind,
    key,
    invertedTime,
    runId,
  ],
  jobHistoryPrefix: (kind: string, key: string): KvKey => ["job_history", kind, key],
  jobSeries: (kind: string, key: string, runId: string, minute: number): KvKey => [
    "job_series",
    kind,
    key,
    runId,
    minute,
  ],
  /** Every run's series of one job kind + key. */
  jobSeriesOf: (kind: string, key: string): KvKey => ["job_series", kind, key],
  jobSeriesPrefix: (kind: string, key: string, runId: string): KvKey => [
    "job_series",
    kind,
    key,
    runId,
  ],
  // role sync (lib/sync)
  ethosScore: (userId: string): KvKey => ["cache", "ethos_score", userId],
  ethosProfile: (subject: string): KvKey => ["cache", "ethos_profile", subject],
  botUser: (applicationId: string): KvKey => ["cache", "bot_user", applicationId],
  syncWatermark: (guildId: string): KvKey => ["sync", "watermark", guildId],
  syncContext: (guildId: string): KvKey => ["cache", "sync_context", guildId],
  // command manifest (lib/manifest); scope is "global" or "guild:<id>"
  commandsSynced: (scope: string): KvKey => ["cmd_manifest", "synced", scope],
  commandsCooldown: (scope: string): KvKey => ["cmd_manifest", "cooldown", scope],
  commandsDrift: (scope: string): KvKey => ["cmd_manifest", "drift", scope],
  commandsLog: (at: number, id: string): KvKey => ["cmd_manifest", "log", at, id],
  commandsLogPrefix: (): KvKey => ["cmd_manifest", "log"],
  commandsStartClaim: (fingerprint: string): KvKey => ["cmd_manifest", "start", fingerprint],
  /** A guild that holds a per-guild fallback copy of the commands, to remove once global syncs. */
  commandsFallback: (guildId: string): KvKey => ["cmd_manifest", "fallback", guildId],
  commandsFallbackPrefix: (): KvKey => ["cmd_manifest", "fallback"],
  // backups (lib/backup): index entries, the per-guild state entry that serialises creates and
  // deletes, snapshots (blobs), chunk work data of capture runs, schedules, restore reports
  backupMeta: (guildId: string, backupId: string): KvKey => ["backup", "index", guildId, backupId],
  backupIndex: (guildId: string): KvKey => ["backup", "index", guildId],
  backupGuild: (guildId: string): KvKey => ["backup", "guild", guildId],
  backupGuilds: (): KvKey => ["backup", "guild"],
  backupSnapshot: (
    guildId: string,
    backupId: string,
  ): KvKey => ["backup", "snap", guildId, backupId],
  backupWork: (guildId: string, runId: string, ...parts: Deno.KvKeyPart[]): KvKey => [
    "backup",
    "work",
    guildId,
    runId,
    ...parts,
  ],
  backupSchedule: (guildId: string): KvKey => ["backup", "schedule", guildId],
  backupSchedules: (): KvKey => ["backup", "schedule"],
  backupRestoreReport: (guildId: string): KvKey => ["backup", "restore_report", guildId],
  // audit log (lib/audit): a hash chain per guild ("global" for actions without a guild)
  auditHead: (guildId: string): KvKey => ["audit", "head", guildId],
  auditHeads: (): KvKey => ["audit", "head"],
  auditEntry: (guildId: string, seq: number): KvKey => ["audit", "entry", guildId, seq],
  auditEntries: (guildId: string): KvKey => ["audit", "entry", guildId],
  auditAnchor: (guildId: string): KvKey => ["audit", "anchor", guildId],
} as const;
