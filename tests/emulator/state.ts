/**
 * The emulator's whole in-memory world, with helpers for test setup and assertions. Handlers
 * and tests share it, so a test can arrange a guild, drive the bot, then read what changed.
 */
import type { APIApplicationCommand, APIRole } from "discord-api-types/v10";
import { CommandRegistry, type CommandScope, GLOBAL_SCOPE } from "./commands.ts";
import { type ChannelRecord, EmulatedGuild, makeChannel, makeRole } from "./guild.ts";
import { IdAllocator } from "./ids.ts";
import type { InteractionRecord, WebhookMessage } from "./interactions.ts";
import type { MemberRecord } from "./members.ts";
import { OAuthStore } from "./oauth.ts";
import { RoleConnectionStore } from "./role_connections.ts";
import { ScoreBook } from "./scores.ts";
import type { ProfileOverride } from "./ethos_users.ts";
import { discordTimestamp, seedGuild, type SeedGuildOptions } from "./seed.ts";
import type { RateLimitScope } from "./stats.ts";

export interface EthosControls {
  /** When true every Ethos call fails with `failStatus`. */
  failing: boolean;
  /** 503 by default; 500 also useful. */
  failStatus: number;
  /** Userkeys ("service:discord:<id>") left out of bulk answers although they have a score. */
  omitFromBulk: Set<string>;
  /** Added delay per Ethos call. */
  latencyMs: number;
  /** Ethos paths (e.g. "/users/by/discord") answering `failStatus` while the rest works. */
  failPaths: Set<string>;
  /** Per-user profile overrides (tests/emulator/ethos_users.ts derives the rest). */
  profiles: Map<string, ProfileOverride>;
  /** The Discord user id behind an X handle (case-insensitive), if any. */
  userOfXHandle(handle: string): string | undefined;
  /** The X handle linked to a Discord user's profile, if any. */
  xHandleOf(userId: string): string | undefined;
}

/** A one-off 429 the next matching request gets instead of its answer. */
export interface Forced429 {
  /** Route key ("PATCH /guilds/:guild/members/:user"); undefined matches any rate-limited route. */
  route?: string;
  scope: RateLimitScope;
  /** Seconds, as in the body's retry_after. */
  retryAfter: number;
  /** How many requests get it; default 1. */
  count?: number;
}

export interface StateConfig {
  applicationId: string;
  botUserId: string;
  botUsername: string;
  seed: number;
  now: () => number;
}

export interface NewMember {
  id?: string;
  username?: string;
  roles?: string[];
  bot?: boolean;
  nick?: string | null;
  joinedAt?: string;
}

/** A Discord user as OAuth2's GET /users/@me shows it. */
export interface UserRecord {
  id: string;
  username: string;
  global_name: string | null;
  avatar: string | null;
}

export class EmulatorState {
  readonly guilds = new Map<string, EmulatedGuild>();
  readonly scores = new ScoreBook();
  readonly #xHandles = new Map<string, string>();
  readonly ethos: EthosControls = {
    failing: false,
    failStatus: 503,
    omitFromBulk: new Set(),
    latencyMs: 0,
    failPaths: new Set(),
    profiles: new Map(),
    userOfXHandle: (handle) => this.#xHandles.get(handle.toLowerCase()),
    xHandleOf: (userId) => this.ethos.profiles.get(userId)?.xHandle,
  };
  readonly ids: IdAllocator;
  readonly commands: CommandRegistry;
  /** Interactions by token. */
  readonly interactions = new Map<string, InteractionRecord>();
  /** false: listing members answers 403 50001, as without the GUILD_MEMBERS intent. */
  membersIntent = true;
  /** OAuth2: who approves, redirect URIs, client secret, codes and tokens (oauth.ts). */
  readonly oauth: OAuthStore;
  /** Linked Roles: the app's metadata records and each user's connection. */
  readonly roleConnections = new RoleConnectionStore();
  /** Users added by tests (addUser); members of seeded guilds are known without it. */
  readonly users = new Map<string, UserRecord>();
  readonly config: StateConfig;
  #channelGuild = new Map<string, string>();
  #forced: Required<Forced429>[] = [];

  constructor(config: StateConfig) {
    this.config = config;
    this.ids = new IdAllocator();
    this.commands = new CommandRegistry(this.ids, config.applicationId, config.now);
    this.oauth = new OAuthStore(config.now);
  }

  now(): number {
    return this.config.now();
  }

  // --- guilds -----------------------------------------------------------------------------

  /** The guild, or throws: for tests, where a missing guild is a bug in the test. */
  guild(id: string): EmulatedGuild {
    const g = this.guilds.get(id);
    if (!g) throw new Error(`emulator: no guild ${id}`);
    return g;
  }

  /** Seeds a guild (see SeedGuildOptions) and registers its channels. */
  addGuild(options: SeedGuildOptions): EmulatedGuild {
    const guild = seedGuild({
      ids: this.ids,
      scores: this.scores,
      seed: this.config.seed,
      botUserId: this.config.botUserId,
      applicationId: this.config.applicationId,
      botUsername: this.config.botUsername,
      ordinal: this.guilds.size + 1,
    }, options);
    if (this.guilds.has(guild.id)) throw new Error(`emulator: guild ${guild.id} exists`);
    this.guilds.set(guild.id, guild);
    for (const id of guild.channels.keys()) this.#channelGuild.set(id, guild.id);
    return guild;
  }

  // --- members ----------------------------------------------------------------------------

  member(guildId: string, userId: string): MemberRecord | undefined {
    return this.guild(guildId).members.get(userId);
  }

  addMember(guildId: string, m: NewMember = {}): MemberRecord {
    const guild = this.guild(guildId);
    const id = m.id ?? this.ids.next();
    for (const r of m.roles ?? []) this.#requireRole(guild, r);
    const member: MemberRecord = {
      id,
      username: m.username ?? `member_${id.slice(-6)}`,
      bot: m.bot ?? false,
      roles: [...new Set(m.roles ?? [])],
      joinedAt: m.joinedAt ?? discordTimestamp(this.now()),
      nick: m.nick ?? null,
    };
    guild.members.upsert(member);
    return member;
  }

  removeMember(guildId: string, userId: string): boolean {
    return this.guild(guildId).members.remove(userId);
  }

  setMemberRoles(guildId: string, userId: string, roles: string[]): void {
    const guild = this.guild(guildId);
    const member = guild.members.get(userId);
    if (!member) throw new Error(`emulator: no member ${userId} in ${guildId}`);
    for (const r of roles) this.#requireRole(guild, r);
    member.roles = [...new Set(roles)].filter((r) => r !== guildId);
  }

  /** A copy of the member's role ids, or undefined when not a member. */
  memberRoles(guildId: string, userId: string): string[] | undefined {
    const m = this.guild(guildId).members.get(userId);
    return m ? [...m.roles] : undefined;
  }

  // --- users ------------------------------------------------------------------------------

  /** Adds or replaces a user (as OAuth2's /users/@me will show them); id generated if absent. */
  addUser(u: Partial<UserRecord> = {}): UserRecord {
    const id = u.id ?? this.ids.next();
    const user: UserRecord = {
      id,
      username: u.username ?? `user_${id.slice(-6)}`,
      global_name: u.global_name ?? null,
      avatar: u.avatar ?? null,
    };
    this.users.set(id, user);
    return user;
  }

  /** A user added by a test, else a member of some guild, else one with a generated name. */
  user(id: string): UserRecord {
    const added = this.users.get(id);
    if (added) return added;
    for (const guild of this.guilds.values()) {
      const m = guild.members.get(id);
      if (m) return { id, username: m.username, global_name: null, avatar: null };
    }
    return { id, username: `user_${id.slice(-6)}`, global_name: null, avatar: null };
  }

  // --- roles ------------------------------------------------------------------------------

  /**
   * Adds a role. Without a position it goes to position 1, just above @everyone, the way
   * Discord places new roles; roles at or above the position move up one.
   */
  addRole(guildId: string, fields: Partial<APIRole> = {}): APIRole {
    const guild = this.guild(guildId);
    const position = Math.max(1, fields.position ?? 1);
    for (const r of guild.roles.values()) {
      if (r.id !== guildId && r.position >= position) r.position++;
    }
    const role = makeRole({
      name: "new role",
      ...fields,
      id: fields.id ?? this.ids.next(),
      position,
    });
    guild.roles.set(role.id, role);
    return role;
  }

  /** Deletes a role and, as Discord does, takes it off every member and channel overwrite. */
  deleteRole(guildId: string, roleId: string): boolean {
    const guild = this.guild(guildId);
    if (roleId === guildId || !guild.roles.delete(roleId)) return false;
    for (const m of guild.members.values()) {
      const i = m.roles.indexOf(roleId);
      if (i >= 0) m.roles = m.roles.filter((r) => r !== roleId);
    }
    for (const ch of guild.channels.values()) {
      if (ch.permission_overwrites.some((o) => o.id === roleId)) {
        ch.permission_overwrites = ch.permission_overwrites.filter((o) => o.id !== roleId);
      }
    }
    for (const e of guild.emojis) {
      if (e.roles?.includes(roleId)) e.roles = e.roles.filter((r) => r !== roleId);
    }
    for (const key of ["botRole", "aboveBotRole", "managedRole"] as const) {
      if (guild[key] === roleId) guild[key] = undefined;
    }
    guild.extraRoles = guild.extraRoles.filter((r) => r !== roleId);
    return true;
  }

  // --- channels ---------------------------------------------------------------------------

  channel(channelId: string): { guild: EmulatedGuild; channel: ChannelRecord } | undefined {
    const guildId = this.#channelGuild.get(channelId);
    const guild = guildId ? this.guilds.get(guildId) : undefined;
    const channel = guild?.channels.get(channelId);
    return guild && channel ? { guild, channel } : undefined;
  }

  addChannel(
    guildId: string,
    fields: Partial<ChannelRecord> & Pick<ChannelRecord, "type" | "name">,
  ): ChannelRecord {
    const guild = this.guild(guildId);
    const channel = makeChannel({ ...fields, id: fields.id ?? this.ids.next(), guild_id: guildId });
    guild.channels.set(channel.id, channel);
    this.#channelGuild.set(channel.id, guildId);
    return channel;
  }

  /** Deletes a channel; children of a deleted category lose their parent, as on Discord. */
  deleteChannel(channelId: string): boolean {
    const found = this.channel(channelId);
    if (!found) return false;
    found.guild.channels.delete(channelId);
    this.#channelGuild.delete(channelId);
    for (const ch of found.guild.channels.values()) {
      if (ch.parent_id === channelId) ch.parent_id = null;
    }
    if (found.guild.systemChannelId === channelId) found.guild.systemChannelId = null;
    const settings = found.guild.settings;
    for (
      const key of ["afk_channel_id", "rules_channel_id", "public_updates_channel_id"] as const
    ) {
      if (settings[key] === channelId) settings[key] = null;
    }
    return true;
  }

  // --- Ethos scores -----------------------------------------------------------------------

  /** Sets or (null) removes a Discord user's Ethos score, stamping lastUpdatedAt now. */
  setScore(userId: string, score: number | null, at = this.now()): void {
    this.scores.set(userId, score, at);
  }

  score(userId: string): number | undefined {
    return this.scores.get(userId);
  }

  /**
   * Sets parts of a user's Ethos profile (the rest is derived from id and score). A profile needs
   * a score to exist; `score` sets it too.
   */
  setProfile(userId: string, profile: ProfileOverride & { score?: number }): void {
    const { score, ...override } = profile;
    if (score !== undefined) this.setScore(userId, score);
    const merged = { ...this.ethos.profiles.get(userId), ...override };
    this.ethos.profiles.set(userId, merged);
    if (merged.xHandle) this.#xHandles.set(merged.xHandle.toLowerCase(), userId);
  }

  // --- application commands ---------------------------------------------------------------

  /** Global commands, or a guild's when `guildId` is given. */
  commandList(guildId?: string): APIApplicationCommand[] {
    return this.commands.list(guildId ?? GLOBAL_SCOPE);
  }

  commandScope(guildId?: string): CommandScope {
    return guildId ?? GLOBAL_SCOPE;
  }

  // --- interactions -----------------------------------------------------------------------

  interaction(token: string): InteractionRecord | undefined {
    return this.interactions.get(token);
  }

  /** Messages sent through the interaction's webhook: the original first, then follow-ups. */
  readonly #channelMessages = new Map<string, Record<string, unknown>[]>();

  /** Messages posted to a channel (POST /channels/:id/messages), oldest first. */
  channelMessages(channelId: string): Record<string, unknown>[] {
    let list = this.#channelMessages.get(channelId);
    if (!list) this.#channelMessages.set(channelId, list = []);
    return list;
  }

  webhookMessages(token: string, includeDeleted = false): WebhookMessage[] {
    const record = this.interactions.get(token);
    if (!record) return [];
    return record.messages.filter((m) => includeDeleted || !m.deleted);
  }

  interactionCallbacks(token: string): InteractionRecord["callbacks"] {
    return this.interactions.get(token)?.callbacks ?? [];
  }

  /**
   * Records an interaction, as if Discord had just sent it to the bot. Optional: the first
   * callback for an unknown token registers it too, in the first guild's system channel.
   */
  registerInteraction(id: string, token: string, channelId?: string): InteractionRecord {
    const existing = this.interactions.get(token);
    if (existing) return existing;
    const fallback = this.guilds.values().next().value?.systemChannelId ?? "0";
    const record: InteractionRecord = {
      id,
      token,
      channelId: channelId ?? fallback,
      createdAt: this.now(),
      callbacks: [],
      messages: [],
    };
    this.interactions.set(token, record);
    return record;
  }

  /** Makes the token dead, as 15 minutes after the interaction. */
  expireInteraction(token: string): void {
    const record = this.interactions.get(token);
    if (record) record.expired = true;
  }

  // --- forced rate limits -----------------------------------------------------------------

  /** The next `count` requests on the route get a 429 with X-RateLimit-Scope: shared. */
  forceShared429(route: string, count = 1, retryAfter = 1): void {
    this.force429({ route, scope: "shared", retryAfter, count });
  }

  /** A one-off 429 of any scope, to test the client's waits. */
  force429(spec: Forced429): void {
    this.#forced.push({ ...spec, route: spec.route ?? "", count: spec.count ?? 1 });
  }

  /** Used by the server: consumes one forced 429 for the route, if any is queued. */
  takeForced429(route: string): Required<Forced429> | undefined {
    const i = this.#forced.findIndex((f) => !f.route || f.route === route);
    if (i < 0) return undefined;
    const f = this.#forced[i];
    if (--f.count <= 0) this.#forced.splice(i, 1);
    return f;
  }

  clearForced429(): void {
    this.#forced = [];
  }

  #requireRole(guild: EmulatedGuild, roleId: string): void {
    if (!guild.roles.has(roleId)) throw new Error(`emulator: no role ${roleId} in ${guild.id}`);
  }
}
