/**
 * lib/commands/profile_card.ts: the Ethos profile card (fields that appear only when there is
 * something to show, a default profile said plainly, the top review quoted and cut) and the reply
 * to each kind of lookup, in the member's language.
 */
import assert from "node:assert/strict";
import { lookupMessage, profileCard } from "../../lib/commands/profile_card.ts";
import { LEVEL_COLORS } from "../../lib/ethos/levels.ts";
import { CONNECT_URL, type EthosProfile } from "../../lib/ethos/profile.ts";

const full: EthosProfile = {
  displayName: "Ann",
  username: "ann_eth",
  avatarUrl: "https://cdn.example/ann.png",
  score: 1850,
  level: "reputable",
  reviews: { positive: 9, neutral: 0, negative: 1, total: 10 },
  positiveShare: 0.9,
  vouches: { count: 3, amountEth: 1.23456 },
  xp: 12_345,
  influenceFactor: 42.25,
  validator: true,
  human: true,
  isDefault: false,
  profileUrl: "https://app.ethos.network/profile/discord/1",
  userkeys: [],
  topReview: { comment: "Trustworthy.\nPaid back fast.", author: "bob", upvotes: 7 },
};

const bare: EthosProfile = {
  ...full,
  username: null,
  avatarUrl: undefined,
  reviews: { positive: 0, neutral: 0, negative: 0, total: 0 },
  positiveShare: null,
  vouches: { count: 0, amountEth: 0 },
  xp: undefined,
  influenceFactor: undefined,
  validator: false,
  human: false,
  topReview: undefined,
};

const fields = (p: EthosProfile, lang: "en" | "es" = "en") =>
  Object.fromEntries(profileCard(p, lang).fields!.map((f) => [f.name, f.value]));

Deno.test("profileCard: a full profile, every field, in the level's colour", () => {
  const card = profileCard(full, "en");
  assert.equal(card.title, "Ann (@ann_eth)");
  assert.equal(card.url, full.profileUrl);
  assert.equal(card.color, LEVEL_COLORS.reputable);
  assert.equal(card.description, "**Reputable** · score **1,850**");
  assert.deepEqual(card.thumbnail, { url: "https://cdn.example/ann.png" });
  assert.deepEqual(fields(full), {
    "Reviews received": "10 (90% positive)",
    "Vouches received": "1.2346 ETH from 3",
    "XP": "12,345",
    "Influence factor": "42.3",
    "Badges": "🛡️ Validator · 🧑 Human verified",
    "Most upvoted review": "> Trustworthy.\n> Paid back fast.\n— bob, 7 upvotes",
  });
  assert.equal(card.footer?.text, "Ethos profile · app.ethos.network");
});

Deno.test("profileCard: nothing received says 'None yet'; absent fields and badges are left out", () => {
  const card = profileCard(bare, "en");
  assert.equal(card.title, "Ann");
  assert.equal("thumbnail" in card, false);
  assert.deepEqual(fields(bare), {
    "Reviews received": "None yet",
    "Vouches received": "None yet",
  });
});

Deno.test("profileCard: a default profile is said to be new, without counts", () => {
  assert.deepEqual(fields({ ...bare, isDefault: true, xp: 0 }), {
    "Reviews received": "A new profile: no reviews, vouches or activity yet.",
  });
});

Deno.test("profileCard: a long review is cut at 300 characters; an anonymous one says so", () => {
  const long = "x".repeat(400);
  const value = fields({ ...bare, topReview: { comment: long, upvotes: 1 } })[
    "Most upvoted review"
  ];
  assert.equal(value, `> ${"x".repeat(299)}…\n— 1 upvotes`);
  const exact = fields({ ...bare, topReview: { comment: "y".repeat(300), upvotes: 2 } })[
    "Most upvoted review"
  ];
  assert.equal(exact, `> ${"y".repeat(300)}\n— 2 upvotes`, "300 fits as it is");
});

Deno.test("profileCard: in Spanish, with Spanish number formats", () => {
  const card = profileCard(full, "es");
  // Spanish groups thousands from five digits on.
  assert.equal(card.description, "**Respetable** · puntuación **1850**");
  assert.equal(fields(full, "es").XP, "12.345");
  assert.equal(card.footer?.text, "Perfil de Ethos · app.ethos.network");
  assert.match(Object.values(fields(full, "es"))[0], /positivas/);
});

Deno.test("lookupMessage: the card, 'no profile' by subject kind, or Ethos not answering", () => {
  const discord = { kind: "discord" as const, id: "300000000000000001" };
  assert.deepEqual(
    lookupMessage({ kind: "profile", profile: full }, discord, "Ann", "en"),
    { embeds: [profileCard(full, "en")] },
  );
  const none = lookupMessage({ kind: "none" }, discord, "Ann", "en").content!;
  assert.ok(none.includes("Ann") && none.includes(CONNECT_URL), none);
  assert.equal(
    lookupMessage({ kind: "none" }, { kind: "x", handle: "ann_eth" }, "ignored", "en").content,
    "No Ethos profile is linked to **@ann_eth** on X.",
  );
  assert.equal(
    lookupMessage({ kind: "unavailable", reason: "503" }, discord, "Ann", "en").content,
    "Ethos is not answering, try again in a minute.",
  );
});
