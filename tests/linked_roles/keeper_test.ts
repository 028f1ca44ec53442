/**
 * lib/linked_roles/keeper.ts: pushing a linked user's new metadata only when it changed, with a
 * token refreshed when due or refused, one user at a time; a grant that is gone deletes the
 * tokens; the daily refresh; and /privacy's disconnect.
 */
import assert from "node:assert/strict";
import {
  disconnect,
  emptyCounters,
  pushLinked,
  refreshExpiring,
} from "../../lib/linked_roles/keeper.ts";
import { countLinked, getLinked, linkedKeys } from "../../lib/linked_roles/store.ts";
import { acquireLease } from "../../lib/kv/lease.ts";
import { withKv } from "../kv/_kv.ts";
import { FakeOAuth, json, linkedDeps } from "./_fake_oauth.ts";
import { assertDisconnected, DAY, link, storedTokens, tokenKeys } from "./_linked.ts";

const U = "300000000000000001";
const PUT = "PUT discord:/users/@me/applications/:app/role-connection";
const TOKEN = "POST discord:/oauth2/token";
const KNOWN = { score: 1450, validator: false, human: true };
const KNOWN_META = { score: "1450", level: "3", validator: "0", human: "1" };

async function setup(kv: Deno.Kv) {
  const fake = new FakeOAuth();
  const deps = linkedDeps(kv, fake);
  return { fake, deps, keys: await tokenKeys(deps) };
}

Deno.test("pushLinked: nobody linked, nothing to do", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    assert.equal(await pushLinked(deps, keys, U, KNOWN), "not_linked");
    assert.equal(fake.calls.length, 0);
  }));

Deno.test("pushLinked: the same metadata and name is not pushed again", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U, { metadata: KNOWN_META });
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "unchanged");
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters, "Ann"), "unchanged");
    assert.equal(fake.calls.length, 0);
    assert.deepEqual(counters, emptyCounters());
    // A new display name alone is a change.
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters, "Ann B"), "pushed");
  }));

Deno.test("pushLinked: new metadata is pushed with the stored token and recorded", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    const g = await link(deps, keys, fake, U);
    deps.clock.advance(5_000);
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "pushed");
    const [put] = fake.callsTo(PUT);
    assert.equal(put.bearer, g.access);
    assert.deepEqual(put.body, {
      platform_name: "Ethos",
      platform_username: "Ann",
      metadata: KNOWN_META,
    });
    assert.equal(fake.callsTo(TOKEN).length, 0, "a token good for days is not refreshed");
    const rec = (await getLinked(kv, U))!.value;
    assert.deepEqual(rec.metadata, KNOWN_META);
    assert.equal(rec.pushedAt, deps.clock.now());
    assert.deepEqual(counters, { pushes: 1, refreshes: 0, failures: 0, unlinked: 0 });
  }));

Deno.test("pushLinked: no profile is score 0; a null name clears the username", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U);
    assert.equal(await pushLinked(deps, keys, U, null, emptyCounters(), null), "pushed");
    assert.deepEqual(fake.connections.get(U), {
      platform_name: "Ethos",
      platform_username: null,
      metadata: { score: "0", level: "0", validator: "0", human: "0" },
    });
    assert.equal((await getLinked(kv, U))!.value.platformUsername, null);
  }));

Deno.test("pushLinked: an access token expiring within a day is refreshed first, and resealed", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    const g = await link(deps, keys, fake, U, { expiresInMs: DAY - 1 });
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "pushed");
    const stored = (await storedTokens(deps, keys, U))!;
    assert.notEqual(stored.access, g.access);
    assert.notEqual(stored.refresh, g.refresh);
    assert.equal(fake.callsTo(PUT)[0].bearer, stored.access, "pushed with the new token");
    assert.equal(stored.record.expiresAt, deps.clock.now() + 604_800_000);
    assert.deepEqual(stored.record.metadata, KNOWN_META, "recorded over the refreshed record");
    assert.deepEqual(counters, { pushes: 1, refreshes: 1, failures: 0, unlinked: 0 });
  }));

Deno.test("pushLinked: a record deleted while its push is in flight stays deleted", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U);
    const fetch = deps.fetch;
    // A /privacy delete lands between Discord's answer and the record's update.
    deps.fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === "PUT") await kv.delete(linkedKeys.user(U));
      return res;
    };
    assert.equal(await pushLinked(deps, keys, U, KNOWN), "pushed");
    assert.equal((await kv.get(linkedKeys.user(U))).versionstamp, null);
  }));

Deno.test("pushLinked: a token Discord refuses (401) is refreshed once and the push tried again", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    const g = await link(deps, keys, fake, U);
    fake.expireAccess(g.access);
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "pushed");
    assert.equal(fake.callsTo(PUT).length, 2);
    assert.deepEqual(counters, { pushes: 1, refreshes: 1, failures: 0, unlinked: 0 });
  }));

Deno.test("pushLinked: refused again after the refresh, the tokens are deleted", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U);
    const unauthorized = () => json(401, { message: "401: Unauthorized" });
    fake.fail(PUT, unauthorized(), unauthorized());
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "unlinked");
    assert.equal(await getLinked(kv, U), null);
    assert.equal(await countLinked(kv), 0);
    assert.deepEqual(counters, { pushes: 0, refreshes: 1, failures: 0, unlinked: 1 });
  }));

Deno.test("pushLinked: a revoked grant (invalid_grant) deletes the tokens; no more tries", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U, { expiresInMs: 1_000 });
    fake.revokeUser(U);
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "unlinked");
    assert.equal(await getLinked(kv, U), null);
    assert.equal(fake.callsTo(PUT).length, 0);
    assert.equal(counters.unlinked, 1);
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "not_linked");
  }));

Deno.test("pushLinked: tokens that no longer open (new SIGNING_SECRET) unlink the user", () =>
  withKv(async (kv) => {
    const { deps, fake } = await setup(kv);
    const oldKeys = await tokenKeys(deps);
    await link(deps, oldKeys, fake, U);
    const other = linkedDeps(kv, fake, { SIGNING_SECRET: "another-secret-0123456789abcdef" });
    assert.equal(await pushLinked(other, await tokenKeys(other), U, KNOWN), "unlinked");
    assert.equal(await getLinked(kv, U), null);
    assert.ok(other.log.lines.some((l) => /no longer open/.test(String(l.why))));
  }));

Deno.test("pushLinked: Discord failing is 'failed', counted, and the record keeps the old metadata", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U);
    fake.fail(PUT, json(503, { message: "unavailable" }));
    const counters = emptyCounters();
    assert.equal(await pushLinked(deps, keys, U, KNOWN, counters), "failed");
    assert.equal(counters.failures, 1);
    assert.equal((await getLinked(kv, U))!.value.metadata.score, "1400");
    assert.ok(
      deps.log.lines.some((l) => l.msg === "linked roles: push failed; tried again next pass"),
    );
  }));

Deno.test("pushLinked: while another isolate holds the user's lease it is 'busy', no call made", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U);
    assert.ok(await acquireLease(kv, `linked:${U}`, "other-isolate", 30_000, deps.clock));
    assert.equal(await pushLinked(deps, keys, U, KNOWN), "busy");
    assert.equal(fake.calls.length, 0);
    deps.clock.advance(30_001);
    assert.equal(await pushLinked(deps, keys, U, KNOWN), "pushed", "an expired lease is taken");
  }));

Deno.test("refreshExpiring: refreshes the tokens expiring within two days, and only those", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    const soon = "300000000000000002";
    const later = "300000000000000003";
    const gone = "300000000000000004";
    const g = await link(deps, keys, fake, soon, { expiresInMs: 2 * DAY });
    const l = await link(deps, keys, fake, later, { expiresInMs: 2 * DAY + 1 });
    const gg = await link(deps, keys, fake, gone, { expiresInMs: DAY });
    fake.revokeUser(gone);
    await kv.set(["linked_roles", "user", "300000000000000009"], { not: "a record" });
    const counters = await refreshExpiring(deps, keys);
    assert.deepEqual(counters, { pushes: 0, refreshes: 1, failures: 0, unlinked: 1 });
    assert.deepEqual(
      fake.callsTo(TOKEN).map((c) => c.form!.refresh_token),
      [g.refresh, gg.refresh],
    );
    assert.notEqual((await storedTokens(deps, keys, soon))!.refresh, g.refresh);
    assert.equal((await storedTokens(deps, keys, later))!.refresh, l.refresh);
    assert.equal(await getLinked(kv, gone), null);
    assert.equal(fake.callsTo(PUT).length, 0, "a refresh pushes nothing");
  }));

Deno.test("refreshExpiring: a refresh Discord fails is counted and logged, the record kept", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    const g = await link(deps, keys, fake, U, { expiresInMs: DAY });
    fake.fail(TOKEN, json(500, { error: "server_error" }));
    const counters = await refreshExpiring(deps, keys);
    assert.deepEqual(counters, { pushes: 0, refreshes: 0, failures: 1, unlinked: 0 });
    assert.equal((await storedTokens(deps, keys, U))!.refresh, g.refresh);
    assert.ok(deps.log.lines.some((l) => /tried again tomorrow/.test(String(l.msg))));
  }));

Deno.test("disconnect: clears Discord's metadata, revokes the grant, deletes the record", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    assert.equal(await disconnect(deps, keys, U), false);
    const g = await link(deps, keys, fake, U);
    assert.equal(await disconnect(deps, keys, U), true);
    await assertDisconnected(kv, fake, U, g);
    assert.equal(await countLinked(kv), 0);
  }));

Deno.test("disconnect: the record goes even when Discord fails", () =>
  withKv(async (kv) => {
    const { deps, keys, fake } = await setup(kv);
    await link(deps, keys, fake, U);
    fake.fail(PUT, json(502, {}));
    assert.equal(await disconnect(deps, keys, U), true);
    assert.equal(await getLinked(kv, U), null);
    assert.deepEqual(fake.revoked, [], "not revoked after the failure");
    assert.ok(
      deps.log.lines.some((l) => l.msg === "linked roles: clearing the metadata on Discord failed"),
    );
  }));
