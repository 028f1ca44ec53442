/**
 * Ethos users (the profile side of the API) for the emulator: every Discord user with a score has
 * a profile whose reviews, vouches, XP, validator NFT and human verification are derived from its
 * id and score (so a 100,000-member guild costs no memory), and tests override any of it, add X
 * handles, or make a profile a default (untouched) one. Endpoints: single user by Discord id or X
 * handle, bulk users by Discord ids (1-500), and the most upvoted review received.
 */
import { Prng } from "./prng.ts";
import type { EmulatorState } from "./state.ts";

export const MAX_BULK_USERS = 500;

/** What a test may set on a profile; anything unset is derived. */
export interface ProfileOverride {
  displayName?: string;
  username?: string | null;
  xHandle?: string;
  validator?: boolean;
  human?: boolean;
  /** Untouched since created: score 1200, nothing received, no address, no XP. */
  isDefault?: boolean;
  reviews?: { positive: number; neutral: number; negative: number };
  vouches?: { count: number; amountWei: string };
  xpTotal?: number;
  influenceFactor?: number | null;
  topReview?: { comment: string; author: string; upvotes: number } | null;
}

export interface EthosUser {
  id: number;
  profileId: number;
  displayName: string;
  username: string | null;
  avatarUrl: string;
  description: string | null;
  score: number;
  status: "ACTIVE";
  userkeys: string[];
  xpTotal: number;
  xpStreakDays: number;
  influenceFactor?: number;
  influenceFactorPercentile?: number;
  humanVerificationStatus: "VERIFIED" | null;
  validatorNftCount: number;
  links: { profile: string; scoreBreakdown: string };
  stats: {
    review: { received: { positive: number; neutral: number; negative: number } };
    vouch: {
      given: { count: number; amountWeiTotal: string };
      received: { count: number; amountWeiTotal: string };
    };
  };
}

function hashId(userId: string): number {
  let h = 2166136261;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The user Ethos has for a Discord id, or undefined when it has none (no score). */
export function ethosUser(state: EmulatorState, userId: string): EthosUser | undefined {
  const score = state.scores.get(userId);
  if (score === undefined) return undefined;
  const o = state.ethos.profiles.get(userId) ?? {};
  const r = new Prng(hashId(userId));
  const profileId = 1000 + (hashId(userId) % 900_000);
  const isDefault = o.isDefault ?? false;
  // Better-scored profiles have more, and more positive, reviews and vouches.
  const weight = Math.max(0, (score - 800) / 2000);
  const reviews = isDefault ? { positive: 0, neutral: 0, negative: 0 } : o.reviews ?? {
    positive: Math.round(weight * r.range(2, 40)),
    neutral: r.int(4),
    negative: Math.round((1 - Math.min(1, weight)) * r.range(0, 8)),
  };
  const vouchCount = isDefault ? 0 : o.vouches?.count ?? Math.round(weight * r.range(0, 12));
  const vouchWei = isDefault
    ? "0"
    : o.vouches?.amountWei ?? (BigInt(vouchCount) * 10n ** 16n * BigInt(r.range(1, 50)))
      .toString();
  const handle = o.xHandle ?? state.ethos.xHandleOf(userId);
  const address = `0x${hashId(`a${userId}`).toString(16).padStart(8, "0").repeat(5)}`;
  const influence = o.influenceFactor === undefined
    ? (isDefault ? undefined : Math.round(weight * 300))
    : o.influenceFactor ?? undefined;
  return {
    id: 50_000 + (hashId(userId) % 9_000_000),
    profileId,
    displayName: o.displayName ?? `Ethos user ${userId.slice(-4)}`,
    username: o.username === undefined ? (handle ?? null) : o.username,
    avatarUrl: `https://cdn.ethos.network/avatars/${profileId}.png`,
    description: null,
    score: isDefault ? 1200 : score,
    status: "ACTIVE",
    userkeys: [
      `profileId:${profileId}`,
      `service:discord:${userId}`,
      ...(isDefault ? [] : [`address:${address}`]),
      ...(handle ? [`service:x.com:username:${handle}`] : []),
    ],
    xpTotal: isDefault ? 0 : o.xpTotal ?? Math.round(weight * r.range(100, 200_000)),
    xpStreakDays: isDefault ? 0 : r.int(30),
    ...(influence === undefined
      ? {}
      : { influenceFactor: influence, influenceFactorPercentile: Math.min(99, influence / 3) }),
    humanVerificationStatus: (o.human ?? (!isDefault && hashId(userId) % 5 === 0))
      ? "VERIFIED"
      : null,
    validatorNftCount: (o.validator ?? (!isDefault && hashId(userId) % 17 === 0)) ? 1 : 0,
    links: {
      profile: `https://app.ethos.network/profile/discord/${userId}`,
      scoreBreakdown: `https://app.ethos.network/profile/discord/${userId}/score`,
    },
    stats: {
      review: { received: reviews },
      vouch: {
        given: { count: 0, amountWeiTotal: "0" },
        received: { count: vouchCount, amountWeiTotal: vouchWei },
      },
    },
  };
}

/** The most upvoted review the user received, or undefined. */
export function topReview(state: EmulatorState, userId: string) {
  const user = ethosUser(state, userId);
  if (!user) return undefined;
  const o = state.ethos.profiles.get(userId);
  if (o?.topReview === null) return undefined;
  const received = user.stats.review.received;
  if (received.positive + received.neutral + received.negative === 0) return undefined;
  const r = new Prng(hashId(`review${userId}`));
  const review = o?.topReview ??
    { comment: "Reliable and kind; paid back on time.", author: "ethos_fan", upvotes: r.int(40) };
  return {
    type: "review",
    data: { id: r.int(1e6), comment: review.comment, score: "positive" },
    author: { userkey: "profileId:1", profileId: 1, name: review.author, username: review.author },
    subject: { userkey: `service:discord:${userId}` },
    votes: { upvotes: review.upvotes, downvotes: 0 },
    timestamp: 1_760_000_000,
    link: `https://app.ethos.network/activity/review/${r.int(1e6)}`,
  };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

const notFound = () => json(404, { ok: false, code: "NOT_FOUND", message: "User not found" });
const badRequest = (message: string) => json(400, { ok: false, code: "BAD_REQUEST", message });

/** Answers the user endpoints, or undefined when the path is not one of them. */
export async function handleEthosUsers(
  req: Request,
  path: string,
  state: EmulatorState,
): Promise<Response | undefined> {
  const byDiscord = /^\/user\/by\/discord\/([^/]+)$/.exec(path);
  if (req.method === "GET" && byDiscord) {
    const user = ethosUser(state, decodeURIComponent(byDiscord[1]));
    return user ? json(200, user) : notFound();
  }
  const byX = /^\/user\/by\/x\/([^/]+)$/.exec(path);
  if (req.method === "GET" && byX) {
    const id = state.ethos.userOfXHandle(decodeURIComponent(byX[1]));
    const user = id === undefined ? undefined : ethosUser(state, id);
    return user ? json(200, user) : notFound();
  }
  if (req.method === "POST" && path === "/users/by/discord") {
    const body = await req.json().catch(() => undefined) as { discordIds?: unknown } | undefined;
    const ids = body?.discordIds;
    if (!Array.isArray(ids) || ids.some((i) => typeof i !== "string")) {
      return badRequest("discordIds: expected an array of strings");
    }
    if (ids.length < 1 || ids.length > MAX_BULK_USERS) {
      return badRequest(`discordIds: 1 to ${MAX_BULK_USERS} items`);
    }
    return json(200, ids.flatMap((id) => ethosUser(state, id) ?? []));
  }
  if (req.method === "POST" && path === "/activities/profile/received") {
    const body = await req.json().catch(() => undefined) as { userkey?: unknown } | undefined;
    if (typeof body?.userkey !== "string") return badRequest("userkey: required");
    const id = /^service:discord:(\d+)$/.exec(body.userkey)?.[1];
    const review = id === undefined ? undefined : topReview(state, id);
    return json(200, {
      values: review ? [review] : [],
      total: review ? 1 : 0,
      limit: 1,
      offset: 0,
    });
  }
  return undefined;
}
