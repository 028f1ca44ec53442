/**
 * lib/linked_roles/fresh.ts: the freshness pass's linked-roles stage. Queued users who are not
 * linked are dropped without a call; linked ones get fresh standings from Ethos in bulk (an
 * absent one confirmed by the single lookup) and a push with their own token; anything unsure
 * (Ethos or Discord failing, the time box) stays queued for the next pass.
 */
import assert from "node:assert/strict";
import { applyLinkedBacklog, linkedRolesStage } from "../../lib/linked_roles/fresh.ts";
import { backlogTimes, freshKeys, LINKED_QUEUE } from "../../lib/jobs/fresh_backlog.ts";
import { getLinked } from "../../lib/linked_roles/store.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";
import { ethosUser, FakeOAuth, json, linkedDeps } from "./_fake_oauth.ts";
import { link, tokenKeys } from "./_linked.ts";

const A = "300000000000000001";
const B = "300000000000000002";
const C = "300000000000000003";
const PUT = "PUT discord:/users/@me/applications/:app/role-connection";
const BULK = "POST ethos:/users/by/discord";

async function setup(kv: Deno.Kv) {
  const fake = new FakeOAuth();
  const deps = linkedDeps(kv, fake);
  const keys = await tokenKeys(deps);
  const queue = (userId: string, agoMs = 10_000) =>
    kv.set(freshKeys.backlog(LINKED_QUEUE, userId), {
      updatedAt: deps.clock.now() - agoMs,
      queuedAt: deps.clock.now(),
    });
  const run = () => applyLinkedBacklog(deps, keys, { deadline: deps.clock.now() + 60_000 });
  return { fake, deps, keys, queue, run };
}

Deno.test("linkedRolesStage: none while linked roles are off; else the linked queue", () =>
  withKv(async (kv) => {
    const off = memoryDeps(kv);
    assert.equal(linkedRolesStage(off, await tokenKeys(off)), undefined);
    const { deps, keys } = await setup(kv);
    assert.equal(linkedRolesStage(deps, keys)?.queue, LINKED_QUEUE);
  }));

Deno.test("applyLinkedBacklog: users who are not linked are dropped without any call", () =>
  withKv(async (kv) => {
    const { fake, queue, run } = await setup(kv);
    for (let i = 0; i < 230; i++) await queue(String(310000000000000000n + BigInt(i)));
    const r = await run();
    assert.deepEqual(
      { applied: r.applied, notLinked: r.notLinked, left: r.left, lags: r.lags },
      { applied: 0, notLinked: 230, left: 0, lags: [] },
    );
    assert.equal(fake.calls.length, 0);
  }));

Deno.test("applyLinkedBacklog: a linked user's fresh standing is pushed and their entry done", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A);
    fake.ethos.set(
      A,
      ethosUser(A, 2050, { displayName: "Ann", humanVerificationStatus: "VERIFIED" }),
    );
    await queue(A, 30_000);
    await queue(B);
    const r = await run();
    assert.deepEqual(fake.connections.get(A), {
      platform_name: "Ethos",
      platform_username: "Ann",
      metadata: { score: "2050", level: "6", validator: "0", human: "1" },
    });
    assert.deepEqual(
      (fake.callsTo(BULK)[0].body as { discordIds: string[] }).discordIds,
      [A],
      "only linked users are asked of Ethos",
    );
    assert.deepEqual(
      { applied: r.applied, notLinked: r.notLinked, left: r.left, lags: r.lags, pushes: r.pushes },
      { applied: 1, notLinked: 1, left: 0, lags: [30], pushes: 1 },
    );
  }));

Deno.test("applyLinkedBacklog: metadata already right counts as applied without a push", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A, {
      metadata: { score: "1400", level: "3", validator: "0", human: "0" },
      name: "Ann",
    });
    fake.ethos.set(A, ethosUser(A, 1400, { displayName: "Ann" }));
    await queue(A);
    const r = await run();
    assert.equal(fake.callsTo(PUT).length, 0);
    assert.deepEqual([r.applied, r.pushes, r.left], [1, 0, 0]);
  }));

Deno.test("applyLinkedBacklog: absent from the bulk answer, the single lookup confirms 'no profile'", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A);
    await queue(A);
    const r = await run();
    assert.equal(fake.callsTo(`GET ethos:/user/by/discord/${A}`).length, 1);
    assert.deepEqual(
      (fake.connections.get(A) as { metadata: unknown }).metadata,
      { score: "0", level: "0", validator: "0", human: "0" },
    );
    assert.equal(r.applied, 1);
  }));

Deno.test("applyLinkedBacklog: a confirmed 'no profile' clears the Ethos name, as connecting does", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A, { name: "Ann" });
    await queue(A);
    await run();
    assert.equal(
      (fake.connections.get(A) as { platform_username: unknown }).platform_username,
      null,
    );
    assert.equal((await getLinked(kv, A))!.value.platformUsername, null);
  }));

Deno.test("applyLinkedBacklog: an unconfirmed absence is never pushed as 'no profile'", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A);
    fake.fail(`GET ethos:/user/by/discord/${A}`, json(403, { error: "forbidden" }));
    await queue(A);
    const r = await run();
    assert.equal(fake.callsTo(PUT).length, 0);
    assert.deepEqual([r.applied, r.left], [0, 1]);
  }));

Deno.test("applyLinkedBacklog: Ethos failing for the batch leaves everyone queued", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A);
    await link(deps, keys, fake, B);
    fake.fail(BULK, json(400, { error: "bad request" }));
    await queue(A);
    await queue(B);
    await queue(C);
    const r = await run();
    assert.equal(fake.callsTo(PUT).length, 0);
    assert.deepEqual([r.applied, r.notLinked, r.left], [0, 1, 2]);
    assert.ok(
      deps.log.lines.some((l) => l.msg === "linked roles: Ethos failed for a batch; it waits"),
    );
  }));

Deno.test("applyLinkedBacklog: a push Discord fails stays queued; a gone grant is done with", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A);
    await link(deps, keys, fake, B, { expiresInMs: 1_000 });
    fake.revokeUser(B);
    fake.ethos.set(A, ethosUser(A, 1900));
    fake.ethos.set(B, ethosUser(B, 1900));
    fake.fail(PUT, json(502, {}));
    await queue(A);
    await queue(B);
    const r = await run();
    assert.deepEqual(
      { applied: r.applied, left: r.left, failures: r.failures, unlinked: r.unlinked },
      { applied: 0, left: 1, failures: 1, unlinked: 1 },
    );
    assert.equal(await getLinked(kv, B), null);
    assert.deepEqual(await backlogTimes(kv, LINKED_QUEUE), [deps.clock.now() - 10_000]);
  }));

Deno.test("applyLinkedBacklog: past the deadline nothing is done and everything is left", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue } = await setup(kv);
    await link(deps, keys, fake, A);
    await queue(A);
    await queue(B);
    const r = await applyLinkedBacklog(deps, keys, { deadline: deps.clock.now() });
    assert.deepEqual([r.applied, r.notLinked, r.left], [0, 0, 2]);
    assert.equal(fake.calls.length, 0);
  }));

Deno.test("applyLinkedBacklog: the deadline passing while Ethos answers leaves the batch queued", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue } = await setup(kv);
    await link(deps, keys, fake, A);
    fake.ethos.set(A, ethosUser(A, 1900));
    await queue(A);
    const slow = {
      ...deps,
      fetch: ((input, init) => {
        if (String(input).endsWith("/users/by/discord")) deps.clock.advance(61_000);
        return fake.fetch(input, init);
      }) as typeof fetch,
    };
    const r = await applyLinkedBacklog(slow, keys, { deadline: deps.clock.now() + 60_000 });
    assert.equal(fake.callsTo(PUT).length, 0);
    assert.deepEqual([r.applied, r.left], [0, 1]);
  }));

Deno.test("applyLinkedBacklog: a full batch is followed by the next one", () =>
  withKv(async (kv) => {
    const { fake, deps, keys, queue, run } = await setup(kv);
    await link(deps, keys, fake, A);
    fake.ethos.set(A, ethosUser(A, 1900));
    await queue(A, 60_000);
    for (let i = 0; i < 204; i++) await queue(String(310000000000000000n + BigInt(i)));
    const r = await run();
    assert.deepEqual([r.applied, r.notLinked, r.left], [1, 204, 0]);
  }));
