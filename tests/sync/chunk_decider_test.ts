/**
 * The deciding part of a sync chunk (lib/sync/chunk_decider.ts), between a scripted Ethos and
 * fakes of the tracker and the writer: which member gets which outcome or write, what a page
 * Ethos fails for does (the run pauses, nothing is taken in), what a dry run plans, when the
 * writer probes, the flag-role holders kept in KV, and the cache a fresh page skips.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { listAll, withKv } from "../kv/_kv.ts";
import type { EthosClient } from "../../lib/ethos/client.ts";
import { flagRoles, holderKey, holdersOf } from "../../lib/sync/holders.ts";
import { ScoreCache } from "../../lib/sync/score_cache.ts";
import { managedRoles, type SyncRules } from "../../lib/sync/rule.ts";
import {
  doneItem,
  emptyChunkStats,
  type EngineDeps,
  type Item,
  type PlannedChange,
} from "../../lib/sync/chunk_model.ts";
import { ChunkDecider } from "../../lib/sync/chunk_decider.ts";
import type { ChunkTracker } from "../../lib/sync/chunk_tracker.ts";
import type { ChunkWriter } from "../../lib/sync/chunk_writer.ts";
import {
  ctx,
  engineOptions,
  GUILD,
  item,
  recordingJob,
  RecordingTracker,
  ROLE,
  rules,
  scriptedEthos,
  uid,
} from "./_chunk.ts";

/** Records the writers handed over, per call. */
class FakeWriter {
  probing = false;
  probed: string[][] = [];
  assigned: Item[][] = [];
  probe(writers: Item[]) {
    this.probed.push(writers.map((w) => w.id));
    return Promise.resolve();
  }
  assign(writers: Item[]) {
    this.assigned.push([...writers]);
  }
}

function setup(
  kv: Deno.Kv,
  ethos: EthosClient,
  o: { dryRun?: boolean; rules?: SyncRules } = {},
) {
  const r = o.rules ?? rules;
  const clock = new ManualClock();
  const log = memoryLogger();
  const cache = new ScoreCache(kv, clock, { ttlMs: 3_600_000, noScoreTtlMs: 600_000 });
  const deps = { kv, clock, log, ethos, cache } as unknown as EngineDeps;
  const job = recordingJob();
  const tracker = new RecordingTracker();
  const writer = new FakeWriter();
  const stats = emptyChunkStats();
  const tierOfRole = new Map(r.tiers.map((t) => [t.roleId, t.name]));
  const decider = new ChunkDecider(
    job,
    deps,
    engineOptions({ rules: r, dryRun: o.dryRun ?? false }),
    stats,
    tracker as unknown as ChunkTracker,
    writer as unknown as ChunkWriter,
    {
      managed: managedRoles(r),
      manageable: new Set(ctx.manageable),
      flagRoles: flagRoles(r),
      tierOfRole,
    },
  );
  return { decider, job, tracker, writer, stats, log, cache };
}

Deno.test("chunk decider: each member of a page gets its outcome or goes to the writer", () =>
  withKv(async (kv) => {
    const V = ROLE.verified;
    const { ethos, asked } = scriptedEthos(
      new Map<string, number | "fail">([
        [uid(3), 1500],
        [uid(4), 2100],
        [uid(5), 2600],
        [uid(6), 2600],
        [uid(7), 2600],
        [uid(8), "fail"],
      ]),
    );
    const { decider, tracker, writer, stats } = setup(kv, ethos);
    const page = [
      item(uid(1), [ROLE.low], { bot: true }),
      item(uid(2), [ROLE.low, ROLE.other]), // not verified: loses the tier role
      item(uid(3), [V, ROLE.mid]), // right already
      item(uid(4), [V, ROLE.low]), // moves up a tier
      item(uid(5), [V, ROLE.high]), // its new tier is above the bot: only the removal goes
      item(uid(6), [V, ROLE.top]), // holds the tier above the bot already
      item(uid(7), [V]), // would get only the tier above the bot
      item(uid(8), [V, ROLE.low]), // Ethos failed for it: never stripped
      item(uid(9), [V, ROLE.low]), // no score, confirmed by the single lookup
      item(uid(10), [V]), // no score, nothing to lose: not looked up
    ];
    const gone = doneItem(uid(11), uid(11), "skipped.not_member");
    await decider.ingest([...page, gone], false);

    assert.deepStrictEqual(tracker.added, [...page.map((it) => it.id), uid(11)]);
    assert.deepStrictEqual(Object.fromEntries(tracker.finished), {
      [uid(1)]: "skipped.bot",
      [uid(3)]: "unchanged",
      [uid(6)]: "unchanged",
      [uid(7)]: "skipped.role_above_bot",
      [uid(8)]: "skipped.score_unavailable",
      [uid(10)]: "unchanged",
    });
    assert.deepStrictEqual(
      writer.assigned.map((w) => w.map((it) => [it.id, it.diff])),
      [[
        [uid(2), { add: [], remove: [ROLE.low], blocked: [] }],
        [uid(4), { add: [ROLE.high], remove: [ROLE.low], blocked: [] }],
        [uid(5), {
          add: [],
          remove: [ROLE.high],
          blocked: [{ roleId: ROLE.top, op: "add", reason: "role_above_bot" }],
        }],
        [uid(9), { add: [], remove: [ROLE.low], blocked: [] }],
      ]],
    );
    assert.deepStrictEqual(page[4].extra, ["blocked.role_above_bot"]);
    assert.deepStrictEqual(page[6].extra, ["blocked.role_above_bot"]);
    assert.deepStrictEqual(tracker.counts, { "level.Mid": 1, "level.High": 1, "level.Top": 3 });
    assert.equal(tracker.advances, 1);
    assert.equal(decider.membersSeen, 10, "the settled position is not a member decided");
    assert.equal(decider.paused, false);
    assert.deepStrictEqual(decider.planned, []);
    // Only verified humans are asked about; a missing score is confirmed only when it costs roles.
    assert.deepStrictEqual(asked.bulk, [[3, 4, 5, 6, 7, 8, 9, 10].map(uid)]);
    assert.deepStrictEqual(asked.single, [uid(9)]);
    assert.deepStrictEqual(
      [stats.scores.bulkAsked, stats.scores.singleLookups, stats.scores.failures],
      [8, 1, 1],
    );
  }));

Deno.test("chunk decider: a page Ethos fails for entirely pauses the run and is not taken in", () =>
  withKv(async (kv) => {
    const { ethos } = scriptedEthos(new Map([[uid(1), "fail"], [uid(2), "fail"]]));
    const { decider, job, tracker, writer } = setup(kv, ethos);
    await decider.ingest([
      item(uid(1), [ROLE.verified, ROLE.low]),
      item(uid(2), [ROLE.verified, ROLE.mid]),
      item(uid(3), [ROLE.low]), // needs no score, but the page waits with the others
    ], false);
    assert.equal(decider.paused, true);
    assert.deepStrictEqual(job.pauses, [
      "the Ethos API failed for all 2 members of a page; nothing was changed",
    ]);
    assert.ok(job.signal.aborted);
    assert.deepStrictEqual([tracker.added, writer.assigned, tracker.advances], [[], [], 0]);
    assert.equal(decider.membersSeen, 0);
  }));

Deno.test("chunk decider: backlog entries and pages needing no score do not pause", () =>
  withKv(async (kv) => {
    const down = scriptedEthos(new Map([[uid(1), "fail"], [uid(2), "fail"]]));
    const side = setup(kv, down.ethos);
    const entries = [uid(1), uid(2)].map((id) => {
      const it = item(id, [ROLE.verified, ROLE.low]);
      it.side = { userId: id, entry: { updatedAt: 0, queuedAt: 0 }, versionstamp: "00" };
      return it;
    });
    await side.decider.ingest(entries, true);
    assert.equal(side.decider.paused, false);
    assert.deepStrictEqual(side.job.pauses, []);
    assert.deepStrictEqual([...side.tracker.finished.values()], [
      "skipped.score_unavailable",
      "skipped.score_unavailable",
    ]);

    const unverified = setup(kv, down.ethos);
    await unverified.decider.ingest([item(uid(3), [ROLE.low])], false);
    assert.equal(unverified.decider.paused, false);
    assert.deepStrictEqual(unverified.writer.assigned.map((w) => w.map((it) => it.id)), [[
      uid(3),
    ]]);
  }));

Deno.test("chunk decider: a dry run plans the changes by role name and writes nothing", () =>
  withKv(async (kv) => {
    const { ethos } = scriptedEthos(new Map([[uid(1), 2100], [uid(2), 2600]]));
    const { decider, tracker, writer, log } = setup(kv, ethos, { dryRun: true });
    const a = item(uid(1), [ROLE.verified, ROLE.low], { bot: false });
    a.username = "ada";
    await decider.ingest([a, item(uid(2), [ROLE.verified, ROLE.high])], false);
    const expected: PlannedChange[] = [
      { userId: uid(1), username: "ada", add: ["High"], remove: ["Low"] },
      { userId: uid(2), username: "user002", add: [], remove: ["High"], blocked: ["Top"] },
    ];
    assert.deepStrictEqual(decider.planned, expected);
    assert.deepStrictEqual(tracker.samples, expected);
    assert.deepStrictEqual([...tracker.finished.values()], ["changed", "changed"]);
    assert.equal(writer.assigned.length, 0);
    const lines = log.lines.filter((l) => l.msg === "sync: dry run would change");
    assert.deepStrictEqual(lines.map((l) => l.userId), [uid(1), uid(2)]);
  }));

Deno.test("chunk decider: a dry run keeps the first 1000 planned changes, samples them all", () =>
  withKv(async (kv) => {
    const { ethos } = scriptedEthos(new Map());
    const { decider, tracker } = setup(kv, ethos, { dryRun: true });
    const page = Array.from({ length: 1001 }, (_, i) => item(uid(i + 1), [ROLE.low]));
    await decider.ingest(page.slice(0, 600), false);
    await decider.ingest(page.slice(600), false);
    assert.equal(decider.planned.length, 1000);
    assert.equal(decider.planned.at(-1)!.userId, uid(1000));
    assert.equal(tracker.samples.length, 1001);
  }));

Deno.test("chunk decider: while a write bucket is unknown, the writers go through probe first", () =>
  withKv(async (kv) => {
    const { ethos } = scriptedEthos(new Map());
    const { decider, writer } = setup(kv, ethos);
    writer.probing = true;
    await decider.ingest([item(uid(1), [ROLE.low]), item(uid(2), [ROLE.mid])], false);
    assert.deepStrictEqual(writer.probed, [[uid(1), uid(2)]]);
    assert.equal(writer.assigned.length, 1);
    // No writers on a page: nothing to probe with.
    await decider.ingest([item(uid(3), [])], false);
    assert.equal(writer.probed.length, 1);
    writer.probing = false;
    await decider.ingest([item(uid(4), [ROLE.low])], false);
    assert.equal(writer.probed.length, 1);
    assert.equal(writer.assigned.length, 2);
  }));

Deno.test("chunk decider: flag-role holders are recorded as the page leaves them", () =>
  withKv(async (kv) => {
    const withValidator: SyncRules = { ...rules, validatorRoleId: ROLE.validator };
    const V = ROLE.verified;
    const scores = new Map([[uid(1), 1500], [uid(2), 1500], [uid(3), 1500]]);
    const { ethos } = scriptedEthos(scores, new Set([uid(1)]));
    await kv.set(holderKey(GUILD, uid(2)), 1); // held it at the last page
    const { decider } = setup(kv, ethos, { rules: withValidator });
    await decider.ingest([
      item(uid(1), [V, ROLE.mid]), // a validator now: given the role, a holder
      item(uid(2), [V, ROLE.mid, ROLE.validator]), // no longer: the role goes, and the entry
      item(uid(3), [V, ROLE.mid]), // never was: nothing recorded
      item(uid(4), [ROLE.validator], { bot: true }), // skipped: keeps what it holds, a holder
    ], false);
    const holders = (await listAll(kv, holdersOf(GUILD))).map((e) => e.key[2]);
    assert.deepStrictEqual(holders, [uid(1), uid(4)]);
  }));

Deno.test("chunk decider: the holders phase clears members who hold no flag role any more", () =>
  withKv(async (kv) => {
    const withValidator: SyncRules = { ...rules, validatorRoleId: ROLE.validator };
    const { ethos } = scriptedEthos(new Map([[uid(1), 1500]]));
    for (const n of [1, 2]) await kv.set(holderKey(GUILD, uid(n)), 1);
    const { decider } = setup(kv, ethos, { rules: withValidator });
    await decider.ingest(
      [
        item(uid(1), [ROLE.verified, ROLE.mid]),
        doneItem(`h:${uid(2)}`, uid(2), "skipped.not_member"),
      ],
      true,
      true,
    );
    assert.deepStrictEqual(await listAll(kv, holdersOf(GUILD)), []);
    // A dry run records nothing.
    await kv.set(holderKey(GUILD, uid(1)), 1);
    const dry = setup(kv, ethos, { rules: withValidator, dryRun: true });
    await dry.decider.ingest([item(uid(1), [ROLE.verified, ROLE.mid])], true, true);
    assert.equal((await listAll(kv, holdersOf(GUILD))).length, 1);
  }));

Deno.test("chunk decider: a page read from the feed asks Ethos even for cached scores", () =>
  withKv(async (kv) => {
    const { ethos, asked } = scriptedEthos(new Map([[uid(1), 2100]]));
    const { decider, cache, writer } = setup(kv, ethos);
    await cache.putMany([[uid(1), { score: 1500 }]]);
    await decider.ingest([item(uid(1), [ROLE.verified, ROLE.mid])], false);
    assert.deepStrictEqual(asked.bulk, [], "a full run's page takes the cached score");
    assert.equal(writer.assigned.length, 0);
    await decider.ingest([item(uid(1), [ROLE.verified, ROLE.mid])], true);
    assert.deepStrictEqual(asked.bulk, [[uid(1)]]);
    assert.deepStrictEqual(writer.assigned.flat().map((it) => it.diff!.add), [[ROLE.high]]);
  }));
