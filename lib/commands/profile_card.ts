/**
 * The Ethos profile card and the lookup replies, rendered in the member's language. Pure: the
 * commands fetch, this shapes.
 */
import type { APIEmbed, APIEmbedField } from "discord-api-types/v10";
import type { MessageData } from "../interactions/reply.ts";
import { formatNumber, formatPercent, type Language, t } from "../i18n/mod.ts";
import { LEVEL_COLORS } from "../ethos/levels.ts";
import {
  CONNECT_URL,
  type EthosProfile,
  type ProfileLookup,
  type Subject,
} from "../ethos/profile.ts";

const REVIEW_MAX = 300;

export function profileCard(p: EthosProfile, language: Language): APIEmbed {
  const n = (v: number, digits = 0) => formatNumber(language, v, { maximumFractionDigits: digits });
  const fields: APIEmbedField[] = [];
  if (p.isDefault) {
    fields.push({ name: t(language, "card.reviews"), value: t(language, "card.default_profile") });
  } else {
    fields.push({
      name: t(language, "card.reviews"),
      value: p.reviews.total
        ? t(language, "card.reviews_value", {
          count: n(p.reviews.total),
          share: formatPercent(language, p.positiveShare ?? 0),
        })
        : t(language, "card.none_yet"),
      inline: true,
    }, {
      name: t(language, "card.vouches"),
      value: p.vouches.count
        ? t(language, "card.vouches_value", {
          amount: n(p.vouches.amountEth, 4),
          count: n(p.vouches.count),
        })
        : t(language, "card.none_yet"),
      inline: true,
    });
    if (p.xp !== undefined) {
      fields.push({ name: t(language, "card.xp"), value: n(p.xp), inline: true });
    }
    if (p.influenceFactor !== undefined) {
      fields.push({
        name: t(language, "card.influence"),
        value: n(p.influenceFactor, 1),
        inline: true,
      });
    }
  }
  const badges = [
    ...(p.validator ? [`🛡️ ${t(language, "card.badge_validator")}`] : []),
    ...(p.human ? [`🧑 ${t(language, "card.badge_human")}`] : []),
  ];
  if (badges.length) {
    fields.push({ name: t(language, "card.badges"), value: badges.join(" · "), inline: true });
  }
  if (p.topReview) {
    const r = p.topReview;
    const comment = r.comment.length > REVIEW_MAX
      ? `${r.comment.slice(0, REVIEW_MAX - 1)}…`
      : r.comment;
    const by = r.author
      ? t(language, "card.review_by", { author: r.author, upvotes: n(r.upvotes) })
      : t(language, "card.review_anonymous", { upvotes: n(r.upvotes) });
    // The review is someone else's text: quoted, with its markdown left as the author wrote it.
    fields.push({
      name: t(language, "card.top_review"),
      value: `> ${comment.replace(/\n/g, "\n> ")}\n${by}`,
    });
  }
  return {
    title: p.username ? `${p.displayName} (@${p.username})` : p.displayName,
    url: p.profileUrl,
    color: LEVEL_COLORS[p.level],
    description: t(language, "card.level_score", {
      level: t(language, `level.${p.level}`),
      score: n(p.score),
    }),
    ...(p.avatarUrl ? { thumbnail: { url: p.avatarUrl } } : {}),
    fields,
    footer: { text: t(language, "card.footer") },
  };
}

/** What a lookup answers: the card, a friendly "no profile", or "Ethos is not answering". */
export function lookupMessage(
  lookup: ProfileLookup,
  subject: Subject,
  displayName: string,
  language: Language,
): MessageData {
  if (lookup.kind === "profile") return { embeds: [profileCard(lookup.profile, language)] };
  if (lookup.kind === "unavailable") return { content: t(language, "ethos.unavailable") };
  return {
    content: subject.kind === "discord"
      ? t(language, "lookup.none_discord", { name: displayName, url: CONNECT_URL })
      : t(language, "lookup.none_x", { handle: subject.handle }),
  };
}
