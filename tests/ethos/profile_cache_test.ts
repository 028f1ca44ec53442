/**
 * lib/ethos/profile_cache.ts: profiles and confirmed "none" answers are kept for the TTL,
 * "unavailable" never is, concurrent lookups of one subject share one call, and a broken cache
 * never breaks a lookup.
 */
import assert from "node:assert/strict";
import { CachedProfiles, PROFILE_TTL_MS, subjectKey } from "../../lib/ethos/profile_cache.ts";
import type {
  EthosProfile,
  EthosProfileClient,
  ProfileLookup,
  Subject,
} from "../../lib/ethos/profile.ts";
import { ManualClock } from "../_clock.ts";
import { keys } from "../../lib/kv/keys.ts";
import { withKv } from "../kv/_kv.ts";

const ALICE: Subject = { kind: "discord", id: "111111111111111111" };

const PROFILE: EthosProfile = {
  displayName: "Alice",
  username: "alice",
  score: 1450,
  level: "known",
  reviews: { positive: 3, neutral: 1, negative: 0, total: 4 },
  positiveShare: 0.75,
  vouches: { count: 1, amountEth: 0.5 },
  validator: false,
  human: true,
  isDefault: false,
  profileUrl: "https://app.ethos.network/profile/discord/111111111111111111",
  userkeys: ["service:discord:111111111111111111"],
  topReview: { comment: "Helpful.", upvotes: 2 },
};

/** A profile client that answers from `answer` and records the subjects asked. */
function fakeClient(answer: (s: Subject) => Promise<ProfileLookup> | ProfileLookup) {
  const asked: Subject[] = [];
  const client = {
    lookup: (s: Subject) => {
      asked.push(s);
      return Promise.resolve(answer(s));
    },
  } as unknown as EthosProfileClient;
  return { client, asked };
}

Deno.test("profile cache: a profile is kept for the TTL, then asked again", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const { client, asked } = fakeClient(() => ({ kind: "profile", profile: PROFILE }));
    const cache = new CachedProfiles(kv, clock, client);
    assert.deepEqual(await cache.lookup(ALICE), { kind: "profile", profile: PROFILE });
    clock.advance(PROFILE_TTL_MS - 1);
    assert.deepEqual(await cache.lookup(ALICE), { kind: "profile", profile: PROFILE });
    assert.equal(asked.length, 1);
    clock.advance(1);
    await cache.lookup(ALICE);
    assert.equal(asked.length, 2);
  }));

Deno.test("profile cache: a confirmed 'none' is cached; 'unavailable' is asked every time", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    let answer: ProfileLookup = { kind: "none" };
    const { client, asked } = fakeClient(() => answer);
    const cache = new CachedProfiles(kv, clock, client);
    await cache.lookup(ALICE);
    assert.deepEqual(await cache.lookup(ALICE), { kind: "none" });
    assert.equal(asked.length, 1);

    const bob: Subject = { kind: "discord", id: "222222222222222222" };
    answer = { kind: "unavailable", reason: "Ethos is down" };
    assert.deepEqual(await cache.lookup(bob), answer);
    assert.deepEqual(await cache.lookup(bob), answer);
    assert.equal(asked.length, 3);
    assert.equal((await kv.get(keys.ethosProfile(subjectKey(bob)))).versionstamp, null);
  }));

Deno.test("profile cache: concurrent lookups of one subject share one call", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const gate = Promise.withResolvers<ProfileLookup>();
    const { client, asked } = fakeClient(() => gate.promise);
    const cache = new CachedProfiles(kv, clock, client);
    const all = [cache.lookup(ALICE), cache.lookup(ALICE), cache.lookup(ALICE)];
    await new Promise((r) => setTimeout(r, 0));
    gate.resolve({ kind: "unavailable", reason: "slow" });
    const answers = await Promise.all(all);
    assert.equal(asked.length, 1);
    assert.ok(answers.every((a) => a.kind === "unavailable"));
    // Once settled the shared call is gone: an uncached answer is asked again.
    await cache.lookup(ALICE);
    assert.equal(asked.length, 2);
  }));

Deno.test("profile cache: a failing client call rejects and is not shared with the next lookup", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    let fail = true;
    const { client, asked } = fakeClient(() => {
      if (fail) throw new Error("boom");
      return { kind: "none" };
    });
    const cache = new CachedProfiles(kv, clock, client);
    await assert.rejects(cache.lookup(ALICE), /boom/);
    fail = false;
    assert.deepEqual(await cache.lookup(ALICE), { kind: "none" });
    assert.equal(asked.length, 2);
  }));

Deno.test("profile cache: X handles are one subject whatever their case", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const { client, asked } = fakeClient(() => ({ kind: "none" }));
    const cache = new CachedProfiles(kv, clock, client);
    await cache.lookup({ kind: "x", handle: "Alice_Eth" });
    await cache.lookup({ kind: "x", handle: "alice_eth" });
    assert.equal(asked.length, 1);
    assert.equal(subjectKey({ kind: "x", handle: "Alice_Eth" }), "x:alice_eth");
    assert.equal(subjectKey(ALICE), "discord:111111111111111111");
  }));

Deno.test("profile cache: a cached value of the wrong shape is a miss", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const { client, asked } = fakeClient(() => ({ kind: "profile", profile: PROFILE }));
    const cache = new CachedProfiles(kv, clock, client);
    await kv.set(keys.ethosProfile(subjectKey(ALICE)), {
      expiresAt: clock.now() + 60_000,
      value: { kind: "profile", profile: { ...PROFILE, level: "legendary" } },
    });
    assert.deepEqual(await cache.lookup(ALICE), { kind: "profile", profile: PROFILE });
    assert.equal(asked.length, 1);
  }));

Deno.test("profile cache: forget drops the cached answer", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const { client, asked } = fakeClient(() => ({ kind: "none" }));
    const cache = new CachedProfiles(kv, clock, client);
    await cache.lookup(ALICE);
    await cache.forget(ALICE);
    assert.equal((await kv.get(keys.ethosProfile(subjectKey(ALICE)))).versionstamp, null);
    await cache.lookup(ALICE);
    assert.equal(asked.length, 2);
  }));

Deno.test("profile cache: a KV that fails to read or write does not fail the lookup", () =>
  withKv(async (kv) => {
    const broken = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get" || prop === "set") return () => Promise.reject(new Error("kv down"));
        const member = Reflect.get(target, prop, target);
        return typeof member === "function" ? member.bind(target) : member;
      },
    });
    const { client, asked } = fakeClient(() => ({ kind: "profile", profile: PROFILE }));
    const cache = new CachedProfiles(broken, new ManualClock(), client);
    assert.deepEqual(await cache.lookup(ALICE), { kind: "profile", profile: PROFILE });
    assert.deepEqual(await cache.lookup(ALICE), { kind: "profile", profile: PROFILE });
    assert.equal(asked.length, 2);
  }));

Deno.test("profile cache: a custom TTL is honoured", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const { client, asked } = fakeClient(() => ({ kind: "none" }));
    const cache = new CachedProfiles(kv, clock, client, 1_000);
    await cache.lookup(ALICE);
    clock.advance(1_000);
    await cache.lookup(ALICE);
    assert.equal(asked.length, 2);
  }));
