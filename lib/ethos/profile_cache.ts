/**
 * Profile lookups cached in KV for 60 seconds (a profile or a confirmed "none"; "unavailable" is
 * never cached), with concurrent lookups of one subject in this isolate sharing one call, so a
 * burst of /ethos on one user makes one Ethos call.
 */
import { z } from "zod";
import type { Clock } from "../clock.ts";
import { keys } from "../kv/keys.ts";
import { getRecord, setRecord } from "../kv/record.ts";
import type { EthosProfileClient, ProfileLookup, Subject } from "./profile.ts";
import { LEVELS } from "./levels.ts";

export const PROFILE_TTL_MS = 60_000;

const n = z.number().nonnegative();
const profileSchema = z.object({
  displayName: z.string(),
  username: z.string().nullable(),
  avatarUrl: z.string().optional(),
  score: n,
  level: z.enum(LEVELS.map(([name]) => name) as [string, ...string[]]),
  reviews: z.object({ positive: n, neutral: n, negative: n, total: n }),
  positiveShare: z.number().min(0).max(1).nullable(),
  vouches: z.object({ count: n, amountEth: n }),
  xp: n.optional(),
  influenceFactor: n.optional(),
  validator: z.boolean(),
  human: z.boolean(),
  isDefault: z.boolean(),
  profileUrl: z.string(),
  userkeys: z.array(z.string()),
  topReview: z.object({
    comment: z.string(),
    author: z.string().optional(),
    upvotes: n,
    url: z.string().optional(),
  }).optional(),
});
const cachedSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("profile"), profile: profileSchema }),
  z.object({ kind: z.literal("none") }),
]);

export function subjectKey(subject: Subject): string {
  // X handles are case-insensitive; Discord ids are digits.
  return subject.kind === "discord" ? `discord:${subject.id}` : `x:${subject.handle.toLowerCase()}`;
}

export class CachedProfiles {
  readonly #inflight = new Map<string, Promise<ProfileLookup>>();

  constructor(
    private readonly kv: Deno.Kv,
    private readonly clock: Clock,
    private readonly client: EthosProfileClient,
    private readonly ttlMs = PROFILE_TTL_MS,
  ) {}

  lookup(subject: Subject): Promise<ProfileLookup> {
    const key = subjectKey(subject);
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#lookup(key, subject).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #lookup(key: string, subject: Subject): Promise<ProfileLookup> {
    const cached = await getRecord(this.kv, keys.ethosProfile(key), cachedSchema, this.clock)
      .catch(() => null);
    if (cached) return cached as ProfileLookup;
    const fresh = await this.client.lookup(subject);
    if (fresh.kind !== "unavailable") {
      await setRecord(this.kv, keys.ethosProfile(key), fresh, this.ttlMs, this.clock)
        .catch(() => {});
    }
    return fresh;
  }

  /** Drops a subject's cached profile (/privacy delete). */
  async forget(subject: Subject): Promise<void> {
    await this.kv.delete(keys.ethosProfile(subjectKey(subject)));
  }
}
