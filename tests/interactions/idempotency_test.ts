import assert from "node:assert/strict";
import type { APIInteractionResponse } from "discord-api-types/v10";
import { ManualClock } from "../_clock.ts";
import { admit } from "../../lib/interactions/gate.ts";
import {
  IDEMPOTENCY_TTL_MS,
  PENDING,
  priorDelivery,
  ResponseRecorder,
} from "../../lib/interactions/idempotency.ts";
import { keys } from "../../lib/kv/keys.ts";
import { instrumentAtomics, listAll, withKv } from "../kv/_kv.ts";

const USER = "300000000000000001";
const T = Date.UTC(2026, 0, 1);
const reply = (content: string): APIInteractionResponse => ({ type: 4, data: { content } });

Deno.test("idempotency: records live for 15 minutes, the interaction token's lifetime", () => {
  assert.deepStrictEqual(IDEMPOTENCY_TTL_MS, 15 * 60_000);
  assert.deepStrictEqual(PENDING, { state: "pending" });
});

Deno.test("priorDelivery: nothing, garbage or an expired record is no prior delivery", () => {
  const live = (value: unknown) => ({ expiresAt: T + 1, value });
  for (
    const raw of [
      null,
      undefined,
      "pending",
      { state: "pending" }, // not in a record envelope
      live({ state: "running" }),
      live(null),
      { expiresAt: T, value: { state: "pending" } }, // expires exactly now
      { expiresAt: T - 1, value: { state: "done", response: reply("old") } },
    ]
  ) {
    assert.deepStrictEqual(priorDelivery(raw, T), { seen: false }, JSON.stringify(raw));
  }
});

Deno.test("priorDelivery: a live pending record is seen with nothing to replay; a done one replays", () => {
  assert.deepStrictEqual(priorDelivery({ expiresAt: T + 1, value: PENDING }, T), {
    seen: true,
    response: undefined,
  });
  assert.deepStrictEqual(
    priorDelivery({ expiresAt: T + 1, value: { state: "done", response: reply("hi") } }, T),
    { seen: true, response: reply("hi") },
  );
  // A done record kept without its response (it was too large): seen, nothing to replay.
  assert.deepStrictEqual(priorDelivery({ expiresAt: T + 1, value: { state: "done" } }, T), {
    seen: true,
    response: undefined,
  });
  // A pending record carries no response even if one is stored beside it.
  assert.deepStrictEqual(
    priorDelivery({ expiresAt: T + 1, value: { state: "pending", response: reply("x") } }, T),
    { seen: true, response: undefined },
  );
});

Deno.test("ResponseRecorder: writes a done record with the response, expiring 15 minutes after", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(T);
    const recorder = new ResponseRecorder(kv, clock, 1);
    await recorder.record(USER, "400000000000000001", reply("hello"));
    assert.deepStrictEqual((await kv.get(keys.idempotency(USER, "400000000000000001"))).value, {
      expiresAt: T + IDEMPOTENCY_TTL_MS,
      value: { state: "done", response: reply("hello") },
    });
  }));

Deno.test("ResponseRecorder: records made within the delay share one commit and one promise", () =>
  withKv(async (raw) => {
    const { kv, commits } = instrumentAtomics(raw);
    const recorder = new ResponseRecorder(kv, new ManualClock(T), 20);
    const a = recorder.record(USER, "400000000000000001", reply("a"));
    const b = recorder.record("300000000000000002", "400000000000000002", reply("b"));
    assert.strictEqual(a, b);
    assert.deepStrictEqual(commits.length, 0, "nothing is written before the delay");
    await Promise.all([a, b]);
    assert.deepStrictEqual(commits.map((c) => c.mutations), [2]);
    assert.deepStrictEqual((await listAll(raw, ["idem"])).map((e) => e.key), [
      keys.idempotency(USER, "400000000000000001"),
      keys.idempotency("300000000000000002", "400000000000000002"),
    ]);
    // A record after the batch went out starts a new batch.
    await recorder.record(USER, "400000000000000003", reply("c"));
    assert.deepStrictEqual(commits.map((c) => c.mutations), [2, 1]);
  }));

Deno.test("ResponseRecorder: a response too large to keep is recorded without it", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(T);
    const recorder = new ResponseRecorder(kv, clock, 1);
    const big = reply("x".repeat(60_000));
    const small = reply("x".repeat(59_000));
    await Promise.all([
      recorder.record(USER, "400000000000000001", big),
      recorder.record(USER, "400000000000000002", small),
    ]);
    const values = (await listAll(kv, keys.idempotencyOfUser(USER))).map((e) => e.value);
    assert.deepStrictEqual(values, [
      { expiresAt: T + IDEMPOTENCY_TTL_MS, value: { state: "done" } },
      { expiresAt: T + IDEMPOTENCY_TTL_MS, value: { state: "done", response: small } },
    ]);
    // The duplicate of the large one is still recognised, with nothing to replay.
    assert.deepStrictEqual(priorDelivery(values[0], T), { seen: true, response: undefined });
  }));

Deno.test("ResponseRecorder: a big batch is split to stay within KV's limits per commit", () =>
  withKv(async (raw) => {
    const { kv, commits } = instrumentAtomics(raw);
    const recorder = new ResponseRecorder(kv, new ManualClock(T), 1);
    // 450 small records: at most 200 sets a commit.
    await Promise.all(
      Array.from({ length: 450 }, (_, i) => recorder.record(USER, `id-${i}`, reply("ok"))),
    );
    assert.deepStrictEqual(commits.map((c) => c.mutations), [200, 200, 50]);
    assert.deepStrictEqual((await listAll(raw, keys.idempotencyOfUser(USER))).length, 450);
    // Twelve records of ~55 KB: at most 600 KB a commit, so ten, then two.
    commits.length = 0;
    await Promise.all(
      Array.from(
        { length: 12 },
        (_, i) => recorder.record(USER, `big-${i}`, reply("y".repeat(55_000))),
      ),
    );
    assert.deepStrictEqual(commits.map((c) => c.mutations), [10, 2]);
    for (const c of commits) assert.ok(c.bytes < 800 * 1024, `${c.bytes} bytes in one commit`);
  }));

Deno.test("ResponseRecorder: a failed write rejects the promise of its batch", async () => {
  const kv = await Deno.openKv(":memory:");
  kv.close();
  const recorder = new ResponseRecorder(kv, new ManualClock(T), 1);
  await assert.rejects(
    () => recorder.record(USER, "400000000000000001", reply("lost")),
    Deno.errors.BadResource,
  );
});

Deno.test("idempotency with the gate: pending while the first runs, then its response replayed", () =>
  withKv(async (kv) => {
    const clock = new ManualClock(T);
    const recorder = new ResponseRecorder(kv, clock, 1);
    const req = {
      interactionId: "400000000000000009",
      userId: USER,
      now: clock.now(),
      claim: true,
      language: "en" as const,
    };
    assert.deepStrictEqual(await admit(kv, req), { kind: "admitted" });
    assert.deepStrictEqual(await admit(kv, req), { kind: "duplicate", response: undefined });
    clock.advance(500);
    await recorder.record(USER, req.interactionId, reply("first answer"));
    assert.deepStrictEqual(await admit(kv, { ...req, now: clock.now() }), {
      kind: "duplicate",
      response: reply("first answer"),
    });
    // The record's 15 minutes count from when the response was recorded.
    clock.advance(IDEMPOTENCY_TTL_MS - 1);
    assert.deepStrictEqual((await admit(kv, { ...req, now: clock.now() })).kind, "duplicate");
    clock.advance(1);
    assert.deepStrictEqual(await admit(kv, { ...req, now: clock.now() }), { kind: "admitted" });
  }));
