/**
 * What a sync chunk's parts share (lib/sync/chunk_model.ts): the run's checkpoint as stored (its
 * schema refuses what a resumed chunk could not walk from), the item a member becomes, a settled
 * position, and fresh figures per chunk.
 */
import assert from "node:assert/strict";
import {
  doneItem,
  emptyChunkStats,
  memberItem,
  syncCheckpointSchema,
} from "../../lib/sync/chunk_model.ts";
import { ctx, member, ROLE, uid } from "./_chunk.ts";

Deno.test("chunk model: a full or incremental checkpoint parses as stored", () => {
  const full = { mode: "full", cursor: uid(41), skip: 0, ctx: null, inc: null };
  assert.deepStrictEqual(syncCheckpointSchema.parse(full), full);
  const inc = {
    mode: "incremental",
    cursor: "1500",
    skip: 3,
    ctx,
    inc: { after: "2026-01-01T00:00:00.000Z", until: Date.UTC(2026, 0, 1, 1) },
  };
  assert.deepStrictEqual(syncCheckpointSchema.parse(inc), inc);
});

Deno.test("chunk model: a checkpoint a chunk could not resume from is refused", () => {
  const good = { mode: "full", cursor: "0", skip: 0, ctx: null, inc: null };
  const bad: [string, unknown][] = [
    ["unknown mode", { ...good, mode: "partial" }],
    ["negative skip", { ...good, skip: -1 }],
    ["fractional skip", { ...good, skip: 1.5 }],
    ["numeric cursor", { ...good, cursor: 0 }],
    ["missing cursor", { mode: "full", skip: 0, ctx: null, inc: null }],
    ["ctx left out instead of null", { mode: "full", cursor: "0", skip: 0, inc: null }],
    ["broken ctx", { ...good, ctx: { ...ctx, manageable: "all" } }],
    ["inc without until", { ...good, inc: { after: "x" } }],
    ["not an object", "full:0"],
    ["null", null],
  ];
  for (const [why, value] of bad) {
    assert.equal(syncCheckpointSchema.safeParse(value).success, false, why);
  }
});

Deno.test("chunk model: a member item copies what the rule reads and starts undecided", () => {
  const m = member(uid(1), [ROLE.verified, ROLE.low], { username: "ada" });
  const it = memberItem(m, "p1", 1234);
  assert.deepStrictEqual(it, {
    pos: "p1",
    id: uid(1),
    username: "ada",
    roles: [ROLE.verified, ROLE.low],
    bot: false,
    readAt: 1234,
    diff: null,
    callsLeft: 0,
    done: false,
    outcome: null,
    error: null,
    extra: [],
  });
  // The roles are the item's own: a later change to the read member does not reach it.
  m.roles.push(ROLE.high);
  assert.deepStrictEqual(it.roles, [ROLE.verified, ROLE.low]);
  assert.equal(memberItem(member(uid(2), [], { bot: true }), "p2", 0).bot, true);
  // Only an explicit `bot: true` makes a bot.
  const odd = member(uid(3), []);
  (odd.user as { bot?: unknown }).bot = "yes";
  assert.equal(memberItem(odd, "p3", 0).bot, false);
});

Deno.test("chunk model: a done item is settled with its outcome and no member", () => {
  assert.deepStrictEqual(doneItem("12", uid(9), "skipped.not_member"), {
    pos: "12",
    id: uid(9),
    roles: [],
    bot: false,
    readAt: 0,
    diff: null,
    callsLeft: 0,
    done: true,
    outcome: "skipped.not_member",
    error: null,
    extra: [],
  });
});

Deno.test("chunk model: each chunk's figures start at zero and are its own", () => {
  const a = emptyChunkStats();
  assert.deepStrictEqual(a, {
    listCalls: 0,
    memberReads: 0,
    rereads: 0,
    patches: 0,
    roleCalls: 0,
    maxPatchReadAgeMs: 0,
    scores: { cacheHits: 0, bulkAsked: 0, singleLookups: 0, failures: 0, flagsAsked: 0 },
  });
  a.patches++;
  a.scores.cacheHits++;
  const b = emptyChunkStats();
  assert.equal(b.patches, 0);
  assert.equal(b.scores.cacheHits, 0, "the score figures are not shared either");
});
