/**
 * Guild members kept in ascending user-id order, so `after` paging is a binary search plus a
 * slice of at most 1000 records, whatever the guild size.
 */
import type { APIGuildMember, GuildMemberFlags, UserFlags } from "discord-api-types/v10";
import { compareIds } from "./ids.ts";

export interface MemberRecord {
  id: string;
  username: string;
  bot: boolean;
  /** Role ids, never containing the @everyone role (Discord leaves it implicit). */
  roles: string[];
  joinedAt: string;
  nick: string | null;
}

export class MemberStore {
  #ids: string[] = [];
  #byId = new Map<string, MemberRecord>();

  get size(): number {
    return this.#ids.length;
  }

  get(id: string): MemberRecord | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Index of the first id strictly greater than `after`. */
  upperBound(after: string): number {
    let lo = 0;
    let hi = this.#ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.#ids[mid], after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Up to `limit` members with ids above `after`, in id order. */
  page(after: string, limit: number): MemberRecord[] {
    const start = this.upperBound(after);
    const end = Math.min(start + limit, this.#ids.length);
    const out: MemberRecord[] = new Array(end - start);
    for (let i = start; i < end; i++) out[i - start] = this.#byId.get(this.#ids[i])!;
    return out;
  }

  /** Adds or replaces a member; appending in id order (the seed's case) costs O(1). */
  upsert(member: MemberRecord): void {
    if (this.#byId.has(member.id)) {
      this.#byId.set(member.id, member);
      return;
    }
    this.#byId.set(member.id, member);
    const last = this.#ids[this.#ids.length - 1];
    if (last === undefined || compareIds(last, member.id) < 0) {
      this.#ids.push(member.id);
    } else {
      this.#ids.splice(this.upperBound(member.id), 0, member.id);
    }
  }

  remove(id: string): boolean {
    if (!this.#byId.delete(id)) return false;
    const index = this.upperBound(id) - 1;
    this.#ids.splice(index, 1);
    return true;
  }

  /** Ids in ascending order; do not mutate. */
  ids(): readonly string[] {
    return this.#ids;
  }

  *values(): IterableIterator<MemberRecord> {
    for (const id of this.#ids) yield this.#byId.get(id)!;
  }
}

/** The member object Discord sends for a guild member. */
export function memberToApi(member: MemberRecord): APIGuildMember {
  return {
    user: {
      id: member.id,
      username: member.username,
      global_name: null,
      avatar: null,
      discriminator: "0",
      public_flags: 0 as UserFlags,
      ...(member.bot ? { bot: true } : {}),
    },
    nick: member.nick,
    avatar: null,
    banner: null,
    roles: member.roles,
    joined_at: member.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}
