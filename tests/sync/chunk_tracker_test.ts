/**
 * The tracking part of a sync chunk (lib/sync/chunk_tracker.ts), fed items by hand: the cursor
 * moves only over a contiguous run of done members, counters and the run summary's samples move
 * with it, checkpoints fall due by count and by time, a failed commit fails the chunk, freshness
 * backlog entries ride along and are settled at the next checkpoint, and the member index learns
 * what each done member now holds.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { withKv } from "../kv/_kv.ts";
import { freshKeys, readBacklog } from "../../lib/jobs/fresh_backlog.ts";
import { lagKeys } from "../../lib/sync/fresh_lag.ts";
import { indexedRoles, lookupMembers, rolesKeyOf } from "../../lib/sync/member_index.ts";
import type { Item, SyncCheckpoint } from "../../lib/sync/chunk_model.ts";
import { ChunkTracker } from "../../lib/sync/chunk_tracker.ts";
import { engineOptions, fullStart, GUILD, item, recordingJob, ROLE, rules, uid } from "./_chunk.ts";

const INDEXED = indexedRoles(rules);

function setup(
  kv: Deno.Kv,
  o: {
    checkpoint?: SyncCheckpoint;
    dryRun?: boolean;
    checkpointItems?: number;
    checkpointMs?: number;
  } = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const job = recordingJob({ checkpoint: o.checkpoint, dryRun: o.dryRun });
  const failures: unknown[] = [];
  const tracker = new ChunkTracker(
    job,
    { kv, clock },
    engineOptions({
      dryRun: o.dryRun ?? false,
      checkpointItems: o.checkpointItems ?? 10_000,
      checkpointMs: o.checkpointMs ?? 3_600_000,
    }),
    o.checkpoint ?? fullStart,
    INDEXED,
    (e) => failures.push(e),
  );
  return { clock, job, tracker, failures };
}

/** A member whose write changes Low to Mid. */
function changing(id: string): Item {
  const it = item(id, [ROLE.verified, ROLE.low]);
  it.diff = { add: [ROLE.mid], remove: [ROLE.low], blocked: [] };
  return it;
}

/** Lets commits started in the background land. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("chunk tracker: the cursor moves only over a contiguous run of done members", () =>
  withKv(async (kv) => {
    const { job, tracker } = setup(kv);
    const items = [1, 2, 3, 4, 5].map((n) => changing(uid(n)));
    for (const it of items) tracker.add(it);
    assert.equal(tracker.lastPos, uid(5));
    tracker.finish(items[1], "changed");
    tracker.finish(items[2], "unchanged");
    await tracker.flush();
    assert.deepStrictEqual(job.checkpoints.at(-1), {
      processed: 0,
      counters: {},
      cursor: "0",
      checkpoint: fullStart,
      sample: [],
    }, "the first member is still in flight: nothing moves");
    tracker.finish(items[0], "skipped.left_guild");
    await tracker.flush();
    assert.deepStrictEqual(job.checkpoints.at(-1), {
      processed: 3,
      counters: { "skipped.left_guild": 1, changed: 1, unchanged: 1 },
      cursor: uid(3),
      checkpoint: { ...fullStart, cursor: uid(3) },
      sample: [{ userId: uid(2), username: "user002", add: ["Mid"], remove: ["Low"] }],
    });
    assert.equal(tracker.checkpoint.cursor, uid(3));
    assert.equal(tracker.allDone, false);
    tracker.finish(items[4], "unchanged");
    tracker.finish(items[3], "unchanged");
    assert.equal(tracker.allDone, true);
    await tracker.flush();
    assert.deepStrictEqual(job.checkpoints.at(-1)!.cursor, uid(5));
    assert.deepStrictEqual(job.checkpoints.at(-1)!.processed, 2);
  }));

Deno.test("chunk tracker: extras and counts go out with the next checkpoint, once", () =>
  withKv(async (kv) => {
    const { job, tracker } = setup(kv);
    const it = item(uid(1), [ROLE.verified, ROLE.top]);
    it.extra.push("blocked.role_above_bot");
    tracker.add(it);
    tracker.count("level.Top");
    tracker.count("calls.list", 2);
    tracker.finish(it, "skipped.role_above_bot");
    await tracker.flush();
    assert.deepStrictEqual(job.checkpoints.at(-1)!.counters, {
      "level.Top": 1,
      "calls.list": 2,
      "skipped.role_above_bot": 1,
      "blocked.role_above_bot": 1,
    });
    await tracker.flush();
    assert.deepStrictEqual(job.checkpoints.at(-1)!.counters, {}, "not counted twice");
    assert.deepStrictEqual(job.checkpoints.at(-1)!.processed, 0);
  }));

Deno.test("chunk tracker: a finished member stays finished; pending members are known", () =>
  withKv((kv) => {
    const { tracker } = setup(kv);
    let finished = 0;
    tracker.onFinish = () => finished++;
    const a = changing(uid(1));
    const done = item(uid(2), []);
    done.done = true;
    done.outcome = "skipped.not_member";
    tracker.add(a);
    tracker.add(done);
    assert.equal(tracker.isPending(uid(1)), true);
    assert.equal(tracker.isPending(uid(2)), false, "a settled position has nothing pending");
    tracker.finish(a, "changed");
    tracker.finish(a, "errors.missing_permissions");
    assert.equal(a.outcome, "changed", "the first outcome stands");
    assert.equal(finished, 1);
    assert.equal(tracker.isPending(uid(1)), false);
    assert.equal(tracker.allDone, true);
    return Promise.resolve();
  }));

Deno.test("chunk tracker: a checkpoint falls due every checkpointItems members, or checkpointMs", () =>
  withKv(async (kv) => {
    const { clock, job, tracker } = setup(kv, { checkpointItems: 3, checkpointMs: 1_000 });
    const items = [1, 2, 3, 4, 5].map((n) => item(uid(n), []));
    for (const it of items) tracker.add(it);
    tracker.finish(items[0], "unchanged");
    tracker.finish(items[1], "unchanged");
    await settle();
    assert.equal(job.checkpoints.length, 0);
    tracker.finish(items[2], "unchanged");
    await settle();
    assert.deepStrictEqual(job.checkpoints.map((c) => [c.processed, c.cursor]), [[3, uid(3)]]);
    // One more member done: not enough for a count, and not a second yet...
    clock.advance(999);
    tracker.finish(items[3], "unchanged");
    await settle();
    assert.equal(job.checkpoints.length, 1);
    // ...but due once a second has passed since the last one.
    clock.advance(1);
    tracker.finish(items[4], "unchanged");
    await settle();
    assert.deepStrictEqual(job.checkpoints.map((c) => [c.processed, c.cursor]), [
      [3, uid(3)],
      [2, uid(5)],
    ]);
  }));

Deno.test("chunk tracker: a commit that fails fails the chunk, and every later one", () =>
  withKv(async (kv) => {
    const { job, tracker, failures } = setup(kv, { checkpointItems: 1 });
    const lost = new Error("lease lost");
    job.failWith = lost;
    const it = item(uid(1), []);
    tracker.add(it);
    tracker.finish(it, "unchanged");
    await settle();
    assert.deepStrictEqual(failures, [lost]);
    // Commits are chained: none lands after a lost one, even once KV would take it.
    job.failWith = null;
    await assert.rejects(tracker.flush(), (e) => e === lost);
    assert.deepStrictEqual(job.checkpoints, []);
  }));

Deno.test("chunk tracker: the run summary keeps the first 25 changes; a dry run samples its plan", () =>
  withKv(async (kv) => {
    const { job, tracker } = setup(kv);
    for (let n = 1; n <= 30; n++) {
      const it = changing(uid(n));
      tracker.add(it);
      tracker.finish(it, "changed");
      if (n === 10) await tracker.flush();
    }
    await tracker.flush();
    const samples = job.checkpoints.flatMap((c) => c.sample ?? []) as { userId: string }[];
    assert.deepStrictEqual(samples.map((x) => x.userId), [...Array(25)].map((_, i) => uid(i + 1)));

    const dry = setup(kv, { dryRun: true });
    const it = changing(uid(1));
    dry.tracker.add(it);
    dry.tracker.sample({ planned: uid(1) });
    dry.tracker.finish(it, "changed");
    await dry.tracker.flush();
    assert.deepStrictEqual(dry.job.checkpoints.at(-1)!.sample, [{ planned: uid(1) }]);
  }));

Deno.test("chunk tracker: a startIndex walk checkpoints the members it passed over", () =>
  withKv(async (kv) => {
    const { job, tracker } = setup(kv, { checkpoint: { ...fullStart, skip: 2500 } });
    await tracker.passed(uid(1000), 1000, 1500);
    assert.deepStrictEqual(job.checkpoints, [{
      skippedByIndex: 1000,
      cursor: uid(1000),
      checkpoint: { ...fullStart, cursor: uid(1000), skip: 1500 },
      counters: { "calls.list": 1 },
    }]);
    assert.deepStrictEqual(tracker.checkpoint, { ...fullStart, cursor: uid(1000), skip: 1500 });
    // The walk goes on from there: the next checkpoint keeps that cursor until members are done.
    await tracker.flush();
    assert.equal(job.checkpoints.at(-1)!.cursor, uid(1000));
  }));

Deno.test("chunk tracker: an incremental run stores its feed position, not a member cursor", () =>
  withKv(async (kv) => {
    const start: SyncCheckpoint = {
      mode: "incremental",
      cursor: "40",
      skip: 0,
      ctx: null,
      inc: { after: "2026-01-01T00:00:00.000Z", until: 0 },
    };
    const { job, tracker } = setup(kv, { checkpoint: start });
    const items = ["41", "42"].map((pos, i) => ({ ...item(uid(i + 1), []), pos }));
    for (const it of items) tracker.add(it);
    for (const it of items) tracker.finish(it, "unchanged");
    await tracker.flush();
    const last = job.checkpoints.at(-1)!;
    assert.equal(last.cursor, null, "the run's cursor is for full runs only");
    assert.deepStrictEqual(last.checkpoint, { ...start, cursor: "42" });
  }));

/** Queues backlog entries for members and reads them back as a chunk would. */
async function queue(kv: Deno.Kv, entries: [string, number][]) {
  for (const [id, updatedAt] of entries) {
    await kv.set(freshKeys.backlog(GUILD, id), { updatedAt, queuedAt: updatedAt });
  }
  return new Map((await readBacklog(kv, GUILD, 100)).map((q) => [q.userId, q]));
}

Deno.test("chunk tracker: the walk position is the last member's, never a backlog entry's", () =>
  withKv(async (kv) => {
    const { tracker } = setup(kv);
    assert.equal(tracker.lastPos, "0", "the checkpoint's cursor to begin with");
    tracker.add(item(uid(3), []));
    const q = await queue(kv, [[uid(5), 0]]);
    tracker.add({ ...item(uid(5), []), pos: uid(5), side: q.get(uid(5))! });
    assert.equal(tracker.lastPos, uid(3));
  }));

Deno.test("chunk tracker: backlog entries ride along, are counted apart and settled at the checkpoint", () =>
  withKv(async (kv) => {
    const { clock, job, tracker } = setup(kv);
    const now = clock.now();
    const q = await queue(kv, [
      [uid(7), now - 4_000],
      [uid(8), now - 9_000],
      [uid(9), now],
      [uid(10), now - 2_000],
    ]);
    const walked = item(uid(1), []);
    tracker.add(walked);
    const sides = [uid(7), uid(8), uid(9), uid(10)].map((id) => {
      const it = { ...changing(id), pos: tracker.lastPos, side: q.get(id)! };
      tracker.add(it);
      return it;
    });
    assert.equal(tracker.lastPos, uid(1), "a backlog entry takes the walk's position");
    tracker.finish(sides[0], "changed");
    tracker.finish(sides[1], "unchanged");
    tracker.finish(sides[2], "skipped.score_unavailable"); // not settled: a later pass retries
    tracker.finish(sides[3], "unchanged");
    tracker.finish(walked, "unchanged");
    // Re-queued meanwhile (a newer update): the entry the chunk read is not the one to remove.
    await kv.set(freshKeys.backlog(GUILD, uid(8)), { updatedAt: now, queuedAt: now });
    await tracker.flush();
    assert.deepStrictEqual(job.checkpoints.at(-1), {
      processed: 1,
      counters: {
        unchanged: 1,
        "fresh.changed": 1,
        "fresh.unchanged": 2,
        "fresh.skipped.score_unavailable": 1,
      },
      cursor: uid(1),
      checkpoint: { ...fullStart, cursor: uid(1) },
      sample: [],
    });
    const left = (await readBacklog(kv, GUILD, 100)).map((x) => x.userId).sort();
    assert.deepStrictEqual(left, [uid(8), uid(9)]);
    // The lags of the settled ones are recorded: 4 s and 2 s from Ethos's update to the write.
    const minute = (await kv.get<{ n: number; sum: number; max: number }>(lagKeys.minute(now)))
      .value!;
    assert.deepStrictEqual([minute.n, minute.sum, minute.max], [2, 6, 4]);
  }));

Deno.test("chunk tracker: a full run rebuilds the member index from what its members now hold", () =>
  withKv(async (kv) => {
    const { clock, tracker } = setup(kv);
    tracker.buildIndex("0");
    const changed = changing(uid(1));
    const same = item(uid(2), [ROLE.verified, ROLE.high, ROLE.other]);
    const bot = item(uid(3), [ROLE.low], { bot: true });
    const gone = changing(uid(4));
    for (const it of [changed, same, bot, gone]) tracker.add(it);
    tracker.finish(changed, "changed");
    tracker.finish(same, "unchanged");
    tracker.finish(bot, "skipped.bot");
    tracker.finish(gone, "skipped.left_guild");
    await tracker.flush();
    await tracker.endIndex(true);
    const key = rolesKeyOf(INDEXED);
    const ids = [1, 2, 3, 4].map(uid);
    const found = await lookupMembers(kv, GUILD, ids, key, clock.now());
    assert.deepStrictEqual(ids.map((id) => found.get(id)), [
      { state: "member", roles: [ROLE.verified, ROLE.mid] },
      { state: "member", roles: [ROLE.verified, ROLE.high] },
      { state: "unknown" },
      { state: "absent" },
    ]);

    // A later incremental run notes the members it wrote into that index.
    const inc = setup(kv, {
      checkpoint: {
        mode: "incremental",
        cursor: "0",
        skip: 0,
        ctx: null,
        inc: { after: "2026-01-01T00:00:00.000Z", until: 0 },
      },
    });
    const promoted = { ...item(uid(2), [ROLE.verified, ROLE.high]), pos: "1" };
    promoted.diff = { add: [ROLE.top], remove: [ROLE.high], blocked: [] };
    inc.tracker.add(promoted);
    inc.tracker.finish(promoted, "changed");
    await inc.tracker.flush();
    const after = await lookupMembers(kv, GUILD, [uid(2)], key, clock.now());
    assert.deepStrictEqual(after.get(uid(2)), {
      state: "member",
      roles: [ROLE.verified, ROLE.top],
    });
  }));

Deno.test("chunk tracker: a dry run leaves the member index alone", () =>
  withKv(async (kv) => {
    const { clock, tracker } = setup(kv, { dryRun: true });
    tracker.buildIndex("0");
    const it = changing(uid(1));
    tracker.add(it);
    tracker.finish(it, "changed");
    await tracker.flush();
    await tracker.endIndex(true);
    const found = await lookupMembers(kv, GUILD, [uid(1)], rolesKeyOf(INDEXED), clock.now());
    assert.deepStrictEqual(found.get(uid(1)), { state: "unknown" });
    let keys = 0;
    for await (const _ of kv.list({ prefix: [] })) keys++;
    assert.equal(keys, 0, "nothing written to KV");
  }));
