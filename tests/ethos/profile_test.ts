/**
 * The Ethos profile client against the emulator's Ethos users: fields, default profiles, X
 * handles, bulk lookups matched by userkey, the top review, and every failure path: a 404 is "no
 * profile"; an error or an unknown shape is "unavailable", never "no profile".
 */
import assert from "node:assert/strict";
import { withEmulator } from "../emulator/test_helpers.ts";
import { EthosClient } from "../../lib/ethos/client.ts";
import { EthosProfileClient, toProfile } from "../../lib/ethos/profile.ts";
import { CachedProfiles } from "../../lib/ethos/profile_cache.ts";
import { ManualClock } from "../_clock.ts";

const A = "111111111111111111";
const B = "222222222222222222";
const NOBODY = "333333333333333333";

function client(ethosBase: string, fetch?: typeof globalThis.fetch) {
  const http = new EthosClient({
    apiBase: ethosBase,
    client: "test@1",
    retries: 1,
    retryBaseMs: 1,
    retryMaxMs: 2,
    fetch,
  });
  return { http, profiles: new EthosProfileClient(http) };
}

Deno.test("ethos profiles: a full profile, its level, badges and top review", () =>
  withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.setProfile(A, {
      score: 1850,
      displayName: "Alice",
      xHandle: "alice_eth",
      validator: true,
      human: true,
      reviews: { positive: 9, neutral: 0, negative: 1 },
      vouches: { count: 3, amountWei: "1500000000000000000" },
      xpTotal: 12_345,
      influenceFactor: 42,
      topReview: { comment: "Trustworthy.", author: "bob", upvotes: 7 },
    });
    const { profiles } = client(emu.ethosBase);
    const r = await profiles.lookup({ kind: "discord", id: A });
    assert.ok(r.kind === "profile", JSON.stringify(r));
    const p = r.profile;
    assert.deepStrictEqual(
      [p.displayName, p.username, p.score, p.level, p.validator, p.human, p.isDefault],
      ["Alice", "alice_eth", 1850, "reputable", true, true, false],
    );
    assert.deepStrictEqual(p.reviews, { positive: 9, neutral: 0, negative: 1, total: 10 });
    assert.deepStrictEqual(p.positiveShare, 0.9);
    assert.deepStrictEqual(p.vouches, { count: 3, amountEth: 1.5 });
    assert.deepStrictEqual([p.xp, p.influenceFactor], [12_345, 42]);
    assert.deepStrictEqual(p.profileUrl, `https://app.ethos.network/profile/discord/${A}`);
    assert.deepStrictEqual(p.topReview, {
      comment: "Trustworthy.",
      author: "bob",
      upvotes: 7,
      url: p.topReview?.url,
    });
    // By X handle, case-insensitively, with the same profile.
    const x = await profiles.lookup({ kind: "x", handle: "Alice_ETH" });
    assert.ok(x.kind === "profile" && x.profile.displayName === "Alice");
    assert.deepStrictEqual(
      (await profiles.lookup({ kind: "x", handle: "nobody_here" })).kind,
      "none",
    );
  }));

Deno.test("ethos profiles: no profile is a 404; a default profile is recognised", () =>
  withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.setProfile(B, { score: 1200, isDefault: true });
    const { profiles } = client(emu.ethosBase);
    assert.deepStrictEqual((await profiles.lookup({ kind: "discord", id: NOBODY })).kind, "none");
    const d = await profiles.lookup({ kind: "discord", id: B });
    assert.ok(d.kind === "profile");
    assert.deepStrictEqual([d.profile.isDefault, d.profile.score, d.profile.topReview], [
      true,
      1200,
      undefined,
    ]);
  }));

Deno.test("ethos profiles: Ethos failing or answering garbage is unavailable, never 'none'", async () => {
  await withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.setScore(A, 1500);
    emu.state.ethos.failing = true;
    emu.state.ethos.failStatus = 500;
    const { profiles } = client(emu.ethosBase);
    assert.deepStrictEqual((await profiles.lookup({ kind: "discord", id: A })).kind, "unavailable");
    assert.deepStrictEqual(
      (await profiles.lookup({ kind: "discord", id: NOBODY })).kind,
      "unavailable",
    );
  });
  const answers: [number, string][] = [
    [200, "not json"],
    [200, JSON.stringify({ displayName: 5 })],
    [200, JSON.stringify([])],
    [429, "{}"],
    [403, "{}"],
  ];
  for (const [status, body] of answers) {
    const fake = () => Promise.resolve(new Response(body, { status }));
    const { profiles } = client("http://ethos.invalid", fake as typeof fetch);
    const r = await profiles.lookup({ kind: "discord", id: A });
    assert.deepStrictEqual(r.kind, "unavailable", `${status} ${body}`);
  }
});

Deno.test("ethos profiles: bulk by Discord ids, matched by userkey, 500 per call", () =>
  withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    const ids = Array.from({ length: 600 }, (_, i) => String(400000000000000000n + BigInt(i)));
    ids.forEach((id, i) => i % 3 !== 0 && emu.state.setScore(id, 800 + i));
    emu.state.setProfile(ids[1], { validator: true, human: false });
    const { profiles } = client(emu.ethosBase);
    const before = emu.stats.ethosCalls["POST /users/by/discord"] ?? 0;
    const found = await profiles.byDiscordIds(ids);
    assert.deepStrictEqual(found.size, 400);
    assert.deepStrictEqual((emu.stats.ethosCalls["POST /users/by/discord"] ?? 0) - before, 2);
    assert.deepStrictEqual(found.get(ids[1])?.validator, true);
    assert.deepStrictEqual(found.get(ids[1])?.score, 801);
    assert.deepStrictEqual(found.has(ids[0]), false);
  }));

Deno.test("ethos profiles: cached for a minute; a burst makes one call; failures are not cached", () =>
  withEmulator({ guilds: [{ members: 1 }] }, async (emu) => {
    emu.state.setScore(A, 2100);
    const kv = await Deno.openKv(":memory:");
    try {
      const clock = new ManualClock(Date.now());
      const cached = new CachedProfiles(kv, clock, client(emu.ethosBase).profiles);
      const calls = () => emu.stats.ethosCalls["GET /user/by/discord/:id"] ?? 0;
      const start = calls();
      const burst = await Promise.all(
        Array.from({ length: 10 }, () => cached.lookup({ kind: "discord", id: A })),
      );
      assert.ok(burst.every((r) => r.kind === "profile"));
      await cached.lookup({ kind: "discord", id: A });
      assert.deepStrictEqual(
        calls() - start,
        1,
        "one Ethos call for the burst and the next lookup",
      );
      clock.advance(61_000);
      await cached.lookup({ kind: "discord", id: A });
      assert.deepStrictEqual(calls() - start, 2, "fetched again after a minute");
      emu.state.ethos.failing = true;
      clock.advance(61_000);
      assert.deepStrictEqual((await cached.lookup({ kind: "discord", id: A })).kind, "unavailable");
      emu.state.ethos.failing = false;
      assert.deepStrictEqual((await cached.lookup({ kind: "discord", id: A })).kind, "profile");
    } finally {
      kv.close();
    }
  }));

Deno.test("ethos profiles: toProfile reads wei as a string or a number, levels from the API", () => {
  const base = { displayName: "x", score: 1500, userkeys: [] };
  const p = toProfile(
    {
      ...base,
      level: "exemplary",
      stats: { vouch: { received: { count: 1, amountWeiTotal: 2_000_000_000_000_000 } } },
    },
    "https://app.ethos.network/profile/discord/1",
  );
  assert.deepStrictEqual([p.level, p.vouches.amountEth], ["exemplary", 0.002]);
  assert.deepStrictEqual(toProfile({ ...base, level: "bogus" }, "u").level, "known");
});
