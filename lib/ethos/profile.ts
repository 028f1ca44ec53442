/**
 * Ethos profiles: one user by Discord id or X handle, many by Discord id (the sync's validator and
 * human flags), and the most upvoted review received. Answers are validated with zod; a shape the
 * bot does not know is "unavailable", never "no profile", and so is Ethos failing after retries.
 * Only a 404 (or an absent entry in a bulk answer) means the user has no Ethos profile.
 */
import { z } from "zod";
import { EthosClient, EthosError, NOT_FOUND } from "./client.ts";
import { isLevel, type Level, levelOfScore } from "./levels.ts";

export const ETHOS_APP = "https://app.ethos.network";
/** Where a Discord user links their account to create an Ethos profile. */
export const CONNECT_URL = `${ETHOS_APP}/profile/settings?tab=social`;
export const MAX_BULK_USERS = 500;

const count = z.number().int().nonnegative().catch(0);
const wei = z.union([z.string().regex(/^\d{1,78}$/), z.number().int().nonnegative()]);
const userSchema = z.object({
  id: z.number().optional(),
  profileId: z.number().nullable().optional(),
  displayName: z.string().max(200),
  username: z.string().max(100).nullable().optional(),
  avatarUrl: z.string().max(2000).nullable().optional(),
  score: z.number().min(0).max(100_000),
  level: z.string().optional(),
  status: z.string().optional(),
  userkeys: z.array(z.string()).default([]),
  xpTotal: z.number().nonnegative().optional(),
  influenceFactor: z.number().nonnegative().nullable().optional(),
  humanVerificationStatus: z.string().nullable().optional(),
  validatorNftCount: z.number().int().nonnegative().optional(),
  links: z.object({ profile: z.string().optional() }).partial().optional(),
  stats: z.object({
    review: z.object({
      received: z.object({ positive: count, neutral: count, negative: count }),
    }).optional(),
    vouch: z.object({
      received: z.object({ count, amountWeiTotal: wei.optional() }),
    }).optional(),
  }).optional(),
});
type RawUser = z.infer<typeof userSchema>;

const reviewSchema = z.object({
  data: z.object({ comment: z.string().max(4000) }),
  author: z.object({ name: z.string().max(200).nullable().optional() }).optional(),
  votes: z.object({ upvotes: z.number().int().nonnegative() }).optional(),
  link: z.string().optional(),
});
const activitiesSchema = z.object({ values: z.array(z.unknown()) });

export interface TopReview {
  comment: string;
  author?: string;
  upvotes: number;
  url?: string;
}

export interface EthosProfile {
  displayName: string;
  username: string | null;
  avatarUrl?: string;
  score: number;
  level: Level;
  /** The level as the API reported it, when it did (else `level` is the table's). */
  apiLevel?: Level;
  reviews: { positive: number; neutral: number; negative: number; total: number };
  /** Share of received reviews that are positive, 0..1; null without reviews. */
  positiveShare: number | null;
  vouches: { count: number; amountEth: number };
  xp?: number;
  influenceFactor?: number;
  validator: boolean;
  human: boolean;
  /** Untouched since created: score 1200, nothing received, no address userkey, no XP. */
  isDefault: boolean;
  profileUrl: string;
  userkeys: string[];
  topReview?: TopReview;
}

export type ProfileLookup =
  | { kind: "profile"; profile: EthosProfile }
  | { kind: "none" }
  | { kind: "unavailable"; reason: string };

export type Subject = { kind: "discord"; id: string } | { kind: "x"; handle: string };

/** X handles: 1-15 of letters, digits and underscore, after an optional @. */
export const X_HANDLE = /^@?([A-Za-z0-9_]{1,15})$/;

function profileUrlOf(subject: Subject): string {
  return subject.kind === "discord"
    ? `${ETHOS_APP}/profile/discord/${subject.id}`
    : `${ETHOS_APP}/profile/x/${subject.handle}`;
}

function weiToEth(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const w = BigInt(value);
  // Four decimals are what a card shows; BigInt keeps large totals exact before the division.
  return Number(w / 10n ** 14n) / 10_000;
}

/** The bot's view of a validated user object. */
export function toProfile(raw: RawUser, fallbackUrl: string): EthosProfile {
  const received = raw.stats?.review?.received ?? { positive: 0, neutral: 0, negative: 0 };
  const total = received.positive + received.neutral + received.negative;
  const vouch = raw.stats?.vouch?.received;
  const level = isLevel(raw.level) ? raw.level : levelOfScore(raw.score);
  const hasAddress = raw.userkeys.some((k) => k.startsWith("address:"));
  const xp = raw.xpTotal;
  const linked = raw.links?.profile;
  return {
    displayName: raw.displayName,
    username: raw.username ?? null,
    avatarUrl: raw.avatarUrl?.startsWith("https://") ? raw.avatarUrl : undefined,
    score: raw.score,
    level,
    ...(isLevel(raw.level) ? { apiLevel: raw.level } : {}),
    reviews: { ...received, total },
    positiveShare: total ? received.positive / total : null,
    vouches: { count: vouch?.count ?? 0, amountEth: weiToEth(vouch?.amountWeiTotal) },
    xp,
    influenceFactor: raw.influenceFactor ?? undefined,
    validator: (raw.validatorNftCount ?? 0) > 0,
    human: raw.humanVerificationStatus === "VERIFIED",
    isDefault: raw.score === 1200 && total === 0 && (vouch?.count ?? 0) === 0 && !hasAddress &&
      !xp,
    profileUrl: linked?.startsWith(`${ETHOS_APP}/`) ? linked : fallbackUrl,
    userkeys: raw.userkeys,
  };
}

export class EthosProfileClient {
  constructor(private readonly http: EthosClient) {}

  /** One profile with its top review; never throws. */
  async lookup(subject: Subject, signal?: AbortSignal): Promise<ProfileLookup> {
    const path = subject.kind === "discord"
      ? `/user/by/discord/${encodeURIComponent(subject.id)}`
      : `/user/by/x/${encodeURIComponent(subject.handle)}`;
    const endpoint = subject.kind === "discord"
      ? "GET /user/by/discord/:id"
      : "GET /user/by/x/:handle";
    let answer: unknown;
    try {
      answer = await this.http.request(endpoint, path, { method: "GET" }, signal, true);
    } catch (error) {
      return { kind: "unavailable", reason: error instanceof Error ? error.message : "failed" };
    }
    if (answer === NOT_FOUND) return { kind: "none" };
    const parsed = userSchema.safeParse(answer);
    if (!parsed.success) return { kind: "unavailable", reason: "unexpected answer from Ethos" };
    if (parsed.data.profileId === null) return { kind: "none" };
    const profile = toProfile(parsed.data, profileUrlOf(subject));
    const key = parsed.data.userkeys.find((k) => k.startsWith("service:discord:")) ??
      parsed.data.userkeys[0];
    if (key) profile.topReview = await this.topReview(key, signal);
    return { kind: "profile", profile };
  }

  /**
   * Profiles of Discord users in bulk (500 per call): users without one are absent. Throws
   * EthosError when a call fails after retries, so callers treat the batch as unknown.
   */
  async byDiscordIds(
    ids: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, EthosProfile>> {
    const out = new Map<string, EthosProfile>();
    for (let i = 0; i < ids.length; i += MAX_BULK_USERS) {
      const batch = ids.slice(i, i + MAX_BULK_USERS);
      const answer = await this.http.request("POST /users/by/discord", "/users/by/discord", {
        method: "POST",
        body: JSON.stringify({ discordIds: batch }),
      }, signal);
      if (!Array.isArray(answer)) {
        throw new EthosError("POST /users/by/discord", 200, "unexpected answer");
      }
      const wanted = new Set(batch);
      for (const item of answer) {
        const parsed = userSchema.safeParse(item);
        if (!parsed.success) continue;
        // Matched by userkey, never by position.
        const id = parsed.data.userkeys.find((k) => k.startsWith("service:discord:"))?.slice(16);
        if (id && wanted.has(id)) {
          out.set(id, toProfile(parsed.data, profileUrlOf({ kind: "discord", id })));
        }
      }
    }
    return out;
  }

  /** The most upvoted review received; undefined when none or when Ethos fails (optional). */
  async topReview(userkey: string, signal?: AbortSignal): Promise<TopReview | undefined> {
    try {
      const answer = await this.http.request(
        "POST /activities/profile/received",
        "/activities/profile/received",
        {
          method: "POST",
          body: JSON.stringify({
            userkey,
            filter: ["review"],
            excludeHistorical: true,
            orderBy: { field: "votes", direction: "desc" },
            limit: 1,
            offset: 0,
          }),
        },
        signal,
      );
      const first = activitiesSchema.parse(answer).values[0];
      const review = reviewSchema.safeParse(first);
      if (!review.success || !review.data.data.comment.trim()) return undefined;
      return {
        comment: review.data.data.comment,
        author: review.data.author?.name ?? undefined,
        upvotes: review.data.votes?.upvotes ?? 0,
        url: review.data.link?.startsWith(`${ETHOS_APP}/`) ? review.data.link : undefined,
      };
    } catch {
      return undefined;
    }
  }
}
