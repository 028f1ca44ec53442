/**
 * Hashing on @noble/hashes (lib/hmac.ts, lib/canonical.ts) against the removed code it replaced
 * (bench/baseline/: lib/ as of commit c73c24a), measured in the same run:
 *
 * - custom-ID HMAC: sign and verify of a 60-byte custom-ID body with a key absorbed once, a 12-byte
 *   signature (the interaction hot path). Bound: old ÷ new >= 0.9, the new within 10% of the
 *   removed code: at about 3 µs a MAC that is 0.3 µs, under 1% of a /help request's CPU (it signs
 *   three custom IDs), for noble's documented keyed-state copy over hand-written internals.
 * - sha256Hex of 1 KiB and of 64 KiB. The old is WebCrypto for every size; the removed hand-written
 *   SHA-256 (bench/baseline/sha256.ts) is shown beside it for reference.
 * - the fingerprint of a backup: canonical JSON and sha256Hex of a normalised snapshot of 250
 *   roles, 500 channels and --members members (bench/backup_bench.ts's guild).
 *
 * Each round times every case in short pairs, old then new or new then old by turns; each figure
 * is the median over all pairs, the ratio the median of the pairs' ratios: on a small shared
 * machine the speed of the whole box drifts, and a pair a few milliseconds long compares like with
 * like.
 *
 *   deno run -A bench/hashing_bench.ts [--rounds=7] [--members=100000]
 *
 * Prints one line per case (µs per operation, old, new, old ÷ new), then one JSON line.
 */
import { createHmac } from "../lib/hmac.ts";
import { canonicalJson, sha256Hex } from "../lib/canonical.ts";
import { normalizeSnapshot, type Snapshot } from "../lib/backup/model.ts";
import { createHmac as oldCreateHmac } from "./baseline/hmac.ts";
import { sha256 as oldSha256 } from "./baseline/sha256.ts";
import {
  canonicalJson as oldCanonicalJson,
  sha256Hex as oldSha256Hex,
} from "./baseline/canonical.ts";
import { Prng } from "../tests/emulator/prng.ts";

const HMAC_BOUND = 0.9;

const arg = (name: string, fallback: number) =>
  Number(Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const ROUNDS = arg("rounds", 7);
const MEMBERS = arg("members", 100_000);

const prng = new Prng(7);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => prng.int(256));
const digits = (n: number, width: number) => String(n).padStart(width, "0");
const snowflake = () => `1${digits(prng.int(1e9), 9)}${digits(prng.int(1e8), 8)}`;

/** A guild of 250 roles, 500 channels with a few overwrites each, members with a few roles. */
function backupSnapshot(members: number): Snapshot {
  const roleIds = Array.from({ length: 250 }, snowflake);
  const pick = (n: number) => Array.from({ length: n }, () => roleIds[prng.int(roleIds.length)]);
  return normalizeSnapshot({
    v: 1,
    guild: {
      id: "200000000000000001",
      name: "Bench guild",
      description: null,
      verification_level: 1,
      default_message_notifications: 1,
      explicit_content_filter: 2,
      afk_channel_id: null,
      afk_timeout: 300,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      preferred_locale: "en-US",
      premium_progress_bar_enabled: false,
    },
    roles: roleIds.map((id, i) => ({
      id,
      name: `Bench role ${i}`,
      color: prng.int(0xffffff),
      hoist: prng.chance(0.2),
      mentionable: prng.chance(0.3),
      permissions: "3072",
      position: i,
      managed: false,
      unicode_emoji: null,
      icon: null,
    })),
    channels: Array.from({ length: 500 }, (_, i) => ({
      id: snowflake(),
      type: 0,
      name: `channel-${i}`,
      position: i,
      parent_id: null,
      nsfw: false,
      topic: `Topic of channel ${i}`,
      rate_limit_per_user: 0,
      permission_overwrites: [...new Set(pick(1 + prng.int(3)))].map((id) => ({
        id,
        type: 0,
        allow: "1024",
        deny: "0",
      })),
    })),
    emojis: [],
    stickers: [],
    members: Array.from({ length: members }, () => ({
      id: snowflake(),
      roles: prng.chance(0.4) ? pick(1 + prng.int(3)) : [],
    })),
    bot: { flags: { backups: true }, commandRoles: {}, schedule: null },
  });
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const encoder = new TextEncoder();

interface Impl {
  label: string;
  run: () => unknown;
}

interface Case {
  name: string;
  /** Operations per timing (a few milliseconds' worth). */
  ops: number;
  /** Old-and-new pairs of timings per round. */
  pairs: number;
  old: Impl;
  new: Impl;
  /** Shown beside, not compared. */
  reference?: Impl;
  /** Whether the new must be at least as fast as the old. */
  bound: boolean;
}

const key = bytes(32);
const body = "help.page|300000000000000001.0.1|t4k2z9|settings.roles.page2"; // 60 characters
const customIdHmac = (hmac: ReturnType<typeof createHmac>) => async () => {
  const sig = await hmac.sign(body, 12);
  if (!(await hmac.verify(body, sig, 12))) throw new Error("a signature did not verify");
};
const kib = bytes(1024);
const kib64 = bytes(65_536);
const snapshot = backupSnapshot(MEMBERS);
const snapshotBytes = encoder.encode(canonicalJson(snapshot)).length;

const cases: Case[] = [
  {
    name: "custom-ID HMAC sign+verify, 60 B",
    ops: 2_000,
    pairs: 10,
    old: { label: "hand-written", run: customIdHmac(oldCreateHmac(key)) },
    new: { label: "noble", run: customIdHmac(createHmac(key)) },
    bound: true,
  },
  {
    name: "sha256Hex 1 KiB",
    ops: 500,
    pairs: 10,
    old: { label: "WebCrypto", run: () => oldSha256Hex(kib) },
    new: { label: "noble", run: () => sha256Hex(kib) },
    reference: { label: "hand-written", run: () => hex(oldSha256(kib)) },
    bound: false,
  },
  {
    name: "sha256Hex 64 KiB",
    ops: 50,
    pairs: 5,
    old: { label: "WebCrypto", run: () => oldSha256Hex(kib64) },
    new: { label: "WebCrypto", run: () => sha256Hex(kib64) },
    reference: { label: "hand-written", run: () => hex(oldSha256(kib64)) },
    bound: false,
  },
  {
    name: `backup fingerprint, ${(snapshotBytes / 1e6).toFixed(1)} MB canonical`,
    ops: 1,
    pairs: 1,
    old: {
      label: "WebCrypto",
      run: () => oldSha256Hex(encoder.encode(oldCanonicalJson(snapshot))),
    },
    new: { label: "WebCrypto", run: () => sha256Hex(encoder.encode(canonicalJson(snapshot))) },
    bound: false,
  },
];

// Old and new must agree before their speed means anything.
for (const c of cases.slice(1)) {
  const [a, b] = [await c.old.run(), await c.new.run()];
  if (a !== b) throw new Error(`${c.name}: old ${a} and new ${b} differ`);
}
if (
  (await oldCreateHmac(key).sign(body, 12)) !== (await createHmac(key).sign(body, 12))
) throw new Error("custom-ID HMAC: old and new signatures differ");

/** µs per operation of `impl` over `ops` operations. */
async function time(impl: Impl, ops: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < ops; i++) await impl.run();
  return ((performance.now() - start) * 1000) / ops;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// One untimed round first, so every implementation is compiled by the optimising tier.
for (const c of cases) {
  for (const impl of [c.old, c.new, c.reference]) if (impl) await time(impl, c.ops * c.pairs);
}

const samples = cases.map(() => ({
  old: [] as number[],
  new: [] as number[],
  ref: [] as number[],
}));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, c] of cases.entries()) {
    for (let pair = 0; pair < c.pairs; pair++) {
      const order = (round + pair) % 2 ? ["new", "old"] as const : ["old", "new"] as const;
      for (const which of order) samples[i][which].push(await time(c[which], c.ops));
      if (c.reference) samples[i].ref.push(await time(c.reference, c.ops));
    }
  }
}

const fmt = (us: number) => (us < 10 ? us.toFixed(2) : us < 1000 ? us.toFixed(1) : us.toFixed(0));
const results = cases.map((c, i) => {
  const old = median(samples[i].old);
  const now = median(samples[i].new);
  // Per pair, then the median: both sides of a ratio ran a moment apart.
  const ratio = median(samples[i].old.map((o, r) => o / samples[i].new[r]));
  return {
    case: c.name,
    oldUs: old,
    oldImpl: c.old.label,
    newUs: now,
    newImpl: c.new.label,
    ratio,
    referenceUs: c.reference ? median(samples[i].ref) : undefined,
    ok: c.bound ? ratio >= HMAC_BOUND : undefined,
  };
});

console.log(
  `${ROUNDS} rounds, median µs per operation; ratio = old ÷ new (above 1: the new is faster)`,
);
for (const r of results) {
  const ref = r.referenceUs === undefined
    ? ""
    : `   (removed hand-written SHA-256: ${fmt(r.referenceUs)})`;
  const bound = r.ok === undefined
    ? ""
    : `   bound ratio >= ${HMAC_BOUND}: ${r.ok ? "ok" : "FAILED"}`;
  console.log(
    `${r.case.padEnd(42)} old ${fmt(r.oldUs).padStart(7)} (${r.oldImpl})  new ${
      fmt(r.newUs).padStart(7)
    } (${r.newImpl})  ratio ${r.ratio.toFixed(2)}${ref}${bound}`,
  );
}
console.log(JSON.stringify({ rounds: ROUNDS, members: MEMBERS, snapshotBytes, results }));
if (results.some((r) => r.ok === false)) Deno.exit(1);
