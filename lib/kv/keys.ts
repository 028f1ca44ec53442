/**
 * Every KV key the bot writes starts with one of these prefixes, so the key space is listed in
 * one place and no two concerns collide.
 */
export type KvKey = Deno.KvKey;

export const keys = {
  // foundation
  idempotency: (interactionId: string): KvKey => ["idem", interactionId],
  /** By user first, so everything kept about one user lists under one prefix (privacy view). */
  cooldown: (userId: string, command: string): KvKey => ["cooldown", userId, command],
  commandRoles: (guildId: string, command: string): KvKey => ["cmd_roles", guildId, command],
  flags: (guildId: string): KvKey => ["flags", guildId],
  guildRolesCache: (guildId: string): KvKey => ["cache", "guild_roles", guildId],
  lease: (name: string): KvKey => ["lease", name],
  counter: (...parts: string[]): KvKey => ["counter", ...parts],
  blob: (...parts: Deno.KvKeyPart[]): KvKey => ["blob", ...parts],
  syncStatus: (guildId: string): KvKey => ["sync", "status", guildId],
  health: (): KvKey => ["health", "probe"],
  // jobs (lib/jobs): one run record, one stop request and one lease per job kind + key
  jobRun: (kind: string, key: string): KvKey => ["job", kind, key, "run"],
  jobStop: (kind: string, key: string): KvKey => ["job", kind, key, "stop"],
  jobPrefix: (kind: string): KvKey => ["job", kind],
  // role sync (lib/sync)
  ethosScore: (userId: string): KvKey => ["cache", "ethos_score", userId],
  botUser: (applicationId: string): KvKey => ["cache", "bot_user", applicationId],
  syncWatermark: (guildId: string): KvKey => ["sync", "watermark", guildId],
  syncContext: (guildId: string): KvKey => ["cache", "sync_context", guildId],
} as const;
