/**
 * The reading part of a sync chunk (lib/sync/chunk_reader.ts) over a stand-in of the REST
 * client's member routes and a scripted Ethos feed, with fakes of the tracker, the writer and the
 * decider: the full walk's pages (size, budget, resume, startIndex skip), the incremental feed
 * (members read once, updates after the window or taken by the freshness pass left alone), the
 * holders phase, the freshness backlog taken in between pages, and when reading stops.
 * Kept in one file past 400 lines: the cases share the stand-ins above.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { testConfig } from "../_config.ts";
import { memoryLogger } from "../_log.ts";
import { withKv } from "../kv/_kv.ts";
import { DiscordApiError, DiscordHttpError } from "../../lib/discord/errors.ts";
import type { RestClient } from "../../lib/discord/rest.ts";
import type { EthosClient } from "../../lib/ethos/client.ts";
import { freshKeys } from "../../lib/jobs/fresh_backlog.ts";
import { holderKey } from "../../lib/sync/holders.ts";
import { DrainShare } from "../../lib/sync/drain_share.ts";
import type { ScoreCache } from "../../lib/sync/score_cache.ts";
import {
  emptyChunkStats,
  type EngineDeps,
  type Item,
  type SyncCheckpoint,
} from "../../lib/sync/chunk_model.ts";
import type { ChunkTracker } from "../../lib/sync/chunk_tracker.ts";
import type { ChunkWriter } from "../../lib/sync/chunk_writer.ts";
import type { ChunkDecider } from "../../lib/sync/chunk_decider.ts";
import { ChunkReader } from "../../lib/sync/chunk_reader.ts";
import { engineOptions, fullStart, GUILD, member, recordingJob, ROLE, uid } from "./_chunk.ts";

/** The guild's members (ascending ids) behind `GET /guilds/:id/members[/:user]`. */
class MemberRoutes {
  /** What was asked: "list <limit> <after>" or "get <user>". */
  asked: string[] = [];
  /** Reads of these members fail as Discord failing would (a 5xx after retries). */
  failing = new Set<string>();
  constructor(readonly ids: string[]) {}
  get = (path: string, o: { query?: Record<string, unknown> } = {}): Promise<unknown> => {
    const one = /\/members\/(\d+)$/.exec(path);
    if (one) {
      this.asked.push(`get ${one[1]}`);
      if (this.failing.has(one[1])) {
        return Promise.reject(new DiscordHttpError(502, "GET", "/guilds/:id", "bad gateway"));
      }
      return this.ids.includes(one[1])
        ? Promise.resolve(member(one[1], [ROLE.verified]))
        : Promise.reject(
          new DiscordApiError(404, 10007, "Unknown Member", undefined, "GET", "/guilds/:id"),
        );
    }
    const limit = Number(o.query?.limit);
    const after = BigInt(String(o.query?.after));
    this.asked.push(`list ${limit} ${o.query?.after}`);
    const page = this.ids.filter((id) => BigInt(id) > after).slice(0, limit);
    return Promise.resolve(page.map((id) => member(id, [ROLE.verified])));
  };
}

/** Records each page handed over; `pauseAfter` pages in, it pauses the run as a failing Ethos. */
class FakeDecider {
  pages: { pos: string[]; ids: string[]; fresh: boolean; holders: boolean; side: boolean }[] = [];
  /** Outcomes items already had when handed over (settled positions), by "pos/id". */
  outcomes = new Map<string, string | null>();
  paused = false;
  membersSeen = 0;
  pauseAfter = Infinity;
  ingest(items: Item[], fresh: boolean, holdersPhase = false): Promise<void> {
    this.pages.push({
      pos: items.map((it) => it.pos),
      ids: items.map((it) => it.id),
      fresh,
      holders: holdersPhase,
      side: items.every((it) => it.side),
    });
    this.membersSeen += items.filter((it) => !it.done).length;
    if (this.pages.length >= this.pauseAfter) this.paused = true;
    for (const it of items) this.outcomes.set(`${it.pos}/${it.id}`, it.outcome);
    return Promise.resolve();
  }
}

/** The writer as the reader sees it: how much work is queued and which limit binds. */
class FakeWriter {
  binding = "none";
  callsPlanned = 0;
  rates = { patch: 10, role: 10, global: 50 };
  backlog = 0;
  learnLimits() {}
  backlogSeconds() {
    return this.backlog;
  }
}

/** The tracker as the reader sees it: the checkpoint, startIndex walks, the index, pending. */
class FakeTracker {
  passedOver: [string, number, number][] = [];
  indexFrom: string[] = [];
  counts: Record<string, number> = {};
  pending = new Set<string>();
  lastPos: string;
  constructor(public checkpoint: SyncCheckpoint) {
    this.lastPos = checkpoint.cursor;
  }
  passed(after: string, count: number, skipLeft: number) {
    this.passedOver.push([after, count, skipLeft]);
    this.checkpoint = { ...this.checkpoint, cursor: after, skip: skipLeft };
    return Promise.resolve();
  }
  buildIndex(after: string) {
    this.indexFrom.push(after);
  }
  count(key: string, n = 1) {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
  isPending(id: string) {
    return this.pending.has(id);
  }
}

interface FeedUpdate {
  userkey: string;
  lastUpdatedAt: string;
}

function setup(
  kv: Deno.Kv,
  o: {
    members?: number;
    checkpoint?: SyncCheckpoint;
    limit?: number;
    deadlineMs?: number;
    feed?: FeedUpdate[];
    hasFlagRoles?: boolean;
    env?: Record<string, string>;
    dryRun?: boolean;
  } = {},
) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const config = testConfig({ SYNC_FRESHNESS: "false", SYNC_FRESH_MS: "5000", ...o.env });
  const routes = new MemberRoutes(Array.from({ length: o.members ?? 0 }, (_, i) => uid(i + 1)));
  const feedAsked: { after: string; limit: number; offset: number }[] = [];
  const ethos = {
    updates(after: string, page: { limit: number; offset: number }) {
      feedAsked.push({ after, ...page });
      const values = (o.feed ?? []).slice(page.offset, page.offset + page.limit);
      return Promise.resolve({ values, total: o.feed?.length ?? 0, ...page });
    },
  };
  const forgotten: string[][] = [];
  const cache = {
    forget(ids: readonly string[]) {
      forgotten.push([...ids]);
      return Promise.resolve();
    },
  };
  const deps = {
    config,
    kv,
    clock,
    log: memoryLogger(),
    rest: routes as unknown as RestClient,
    ethos: ethos as unknown as EthosClient,
    cache: cache as unknown as ScoreCache,
  } as EngineDeps;
  const checkpoint = o.checkpoint ?? fullStart;
  const job = recordingJob({
    checkpoint,
    limit: o.limit,
    deadline: clock.now() + (o.deadlineMs ?? 3_600_000),
  });
  const stats = emptyChunkStats();
  const tracker = new FakeTracker(checkpoint);
  const writer = new FakeWriter();
  const decider = new FakeDecider();
  const stop = new AbortController();
  const reader = new ChunkReader(
    job,
    deps,
    engineOptions({ dryRun: o.dryRun ?? false }),
    stats,
    tracker as unknown as ChunkTracker,
    writer as unknown as ChunkWriter,
    decider as unknown as ChunkDecider,
    new DrainShare(config.sync.freshMs),
    o.hasFlagRoles ?? false,
    stop.signal,
  );
  return {
    clock,
    routes,
    feedAsked,
    forgotten,
    job,
    stats,
    tracker,
    writer,
    decider,
    stop,
    reader,
  };
}

const ids = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => uid(from + i));

Deno.test("chunk reader: a full run pages by user id, 50 first, then 1000, to the end", () =>
  withKv(async (kv) => {
    const s = setup(kv, { members: 1_120 });
    assert.equal(await s.reader.read(), true, "the end of the member list");
    assert.deepStrictEqual(s.routes.asked, [
      "list 50 0",
      `list 1000 ${uid(50)}`,
      `list 1000 ${uid(1050)}`,
    ]);
    assert.deepStrictEqual(s.decider.pages.map((p) => p.ids.length), [50, 1000, 70]);
    const first = s.decider.pages[0];
    assert.deepStrictEqual(first.ids, ids(1, 50));
    assert.deepStrictEqual(first.pos, first.ids, "a full run's position is the user id");
    assert.deepStrictEqual([first.fresh, first.holders], [false, false]);
    assert.deepStrictEqual(s.tracker.indexFrom, ["0"]);
    assert.equal(s.stats.listCalls, 3);
    assert.equal(s.tracker.counts["calls.list"], 3);
  }));

Deno.test("chunk reader: a full page ending on the last member needs one more, empty, read", () =>
  withKv(async (kv) => {
    const s = setup(kv, { members: 50 });
    assert.equal(await s.reader.read(), true);
    assert.deepStrictEqual(s.routes.asked, ["list 50 0", `list 1000 ${uid(50)}`]);
    assert.equal(s.decider.pages.length, 1, "nothing to hand over from the empty page");
  }));

Deno.test("chunk reader: the chunk's budget caps what it reads; the next resumes at the cursor", () =>
  withKv(async (kv) => {
    const s = setup(kv, { members: 200, limit: 60 });
    assert.equal(await s.reader.read(), false, "more members are left");
    assert.deepStrictEqual(s.routes.asked, ["list 50 0", `list 10 ${uid(50)}`]);
    const next = setup(kv, { members: 200, checkpoint: { ...fullStart, cursor: uid(60) } });
    assert.equal(await next.reader.read(), true);
    assert.equal(next.routes.asked[0], `list 50 ${uid(60)}`);
    assert.deepStrictEqual(next.tracker.indexFrom, [uid(60)]);
    assert.deepStrictEqual(next.decider.pages.flatMap((p) => p.ids), ids(61, 200));
  }));

Deno.test("chunk reader: a startIndex that matched no checkpoint walks past that many first", () =>
  withKv(async (kv) => {
    const s = setup(kv, { members: 1_500, checkpoint: { ...fullStart, skip: 1_200 } });
    assert.equal(await s.reader.read(), true);
    assert.deepStrictEqual(s.routes.asked.slice(0, 3), [
      "list 1000 0",
      `list 200 ${uid(1000)}`,
      `list 50 ${uid(1200)}`,
    ]);
    assert.deepStrictEqual(s.tracker.passedOver, [[uid(1000), 1000, 200], [uid(1200), 200, 0]]);
    assert.deepStrictEqual(s.tracker.indexFrom, [uid(1200)]);
    assert.equal(s.decider.pages[0].ids[0], uid(1201), "decided from the first not passed over");
    // Passing over more members than there are ends the run.
    const past = setup(kv, { members: 30, checkpoint: { ...fullStart, skip: 100 } });
    assert.equal(await past.reader.read(), true);
    assert.deepStrictEqual(past.routes.asked, ["list 100 0"]);
    assert.deepStrictEqual(past.decider.pages, []);
  }));

Deno.test("chunk reader: reading stops when the decider pauses, the chunk stops, or time runs out", () =>
  withKv(async (kv) => {
    const paused = setup(kv, { members: 500 });
    paused.decider.pauseAfter = 1;
    assert.equal(await paused.reader.read(), false);
    assert.equal(paused.routes.asked.length, 1);

    const stopped = setup(kv, { members: 500 });
    stopped.stop.abort();
    assert.equal(await stopped.reader.read(), false);
    assert.deepStrictEqual(stopped.routes.asked, []);

    // Half a second left: not enough for a page's fetch and its writes.
    const late = setup(kv, { members: 500, deadlineMs: 500 });
    assert.equal(await late.reader.read(), false);
    assert.deepStrictEqual(late.routes.asked, []);
    // A second is enough for a page, unless the lanes still hold writes that would not drain.
    const room = setup(kv, { members: 500, deadlineMs: 1_000, limit: 50 });
    await room.reader.read();
    assert.deepStrictEqual(room.routes.asked, ["list 50 0"]);
    const busy = setup(kv, { members: 500, deadlineMs: 1_000 });
    busy.writer.backlog = 0.3;
    assert.equal(await busy.reader.read(), false);
    assert.deepStrictEqual(busy.routes.asked, []);
  }));

Deno.test("chunk reader: when the global limit binds, a page drains in a share of the fresh window", () =>
  withKv(async (kv) => {
    const s = setup(kv, { members: 400 });
    s.writer.binding = "global";
    s.writer.rates.global = 100;
    s.writer.callsPlanned = 50; // one call per member so far
    await s.reader.read();
    // The share grows from 0.3 to 0.35 of 5 s: 1.75 s at 100 calls/s, one call a member.
    assert.deepStrictEqual(s.routes.asked.slice(0, 2), ["list 50 0", `list 175 ${uid(50)}`]);
    const slow = setup(kv, { members: 400 });
    slow.writer.binding = "global";
    slow.writer.rates.global = 5;
    slow.writer.callsPlanned = 100;
    await slow.reader.read();
    assert.equal(slow.routes.asked[1], `list 20 ${uid(50)}`, "never below 20 members a page");
  }));

const updated = (id: string, at: string): FeedUpdate => ({
  userkey: `service:discord:${id}`,
  lastUpdatedAt: at,
});

const incremental = (cursor = "0"): SyncCheckpoint => ({
  mode: "incremental",
  cursor,
  skip: 0,
  ctx: null,
  inc: { after: "2026-01-01T00:00:00.000Z", until: Date.UTC(2026, 0, 1, 11) },
});

Deno.test("chunk reader: an incremental run reads the members the feed names, once each", () =>
  withKv(async (kv) => {
    const feed = [
      updated(uid(3), "2026-01-01T10:00:00.000Z"),
      { userkey: "address:0xabc", lastUpdatedAt: "2026-01-01T10:00:01.000Z" },
      updated(uid(9), "2026-01-01T10:00:02.000Z"), // not in the guild
      updated(uid(3), "2026-01-01T10:00:03.000Z"), // again: one read serves both
      updated(uid(4), "2026-01-01T11:30:00.000Z"), // after the run's window: the next run's
    ];
    const s = setup(kv, { members: 5, checkpoint: incremental(), feed });
    assert.equal(await s.reader.read(), true);
    assert.deepStrictEqual(s.feedAsked, [
      { after: "2026-01-01T00:00:00.000Z", limit: 1000, offset: 0 },
    ]);
    assert.deepStrictEqual(s.routes.asked.sort(), [`get ${uid(3)}`, `get ${uid(9)}`]);
    assert.deepStrictEqual(s.forgotten, [[uid(3), uid(9)]], "cached scores are stale for them");
    assert.deepStrictEqual(s.job.checkpoints, [{ total: 5 }]);
    const [page] = s.decider.pages;
    assert.deepStrictEqual(page.pos, ["1", "2", "3", "4", "5"], "the feed offset, from 1");
    assert.deepStrictEqual(page.ids, [uid(3), "", uid(9), uid(3), ""]);
    assert.equal(page.fresh, true);
    assert.deepStrictEqual([...s.decider.outcomes.values()], [
      null,
      "skipped.not_member",
      "skipped.not_member",
      null,
      "skipped.not_member",
    ]);
    assert.equal(s.stats.memberReads, 2);
  }));

Deno.test("chunk reader: a member read Discord keeps failing fails the read, not the member", () =>
  withKv(async (kv) => {
    const feed = [1, 2].map((n) => updated(uid(n), "2026-01-01T10:00:00.000Z"));
    const s = setup(kv, { members: 5, checkpoint: incremental(), feed });
    s.routes.failing.add(uid(2));
    await assert.rejects(s.reader.read(), DiscordHttpError);
    assert.deepStrictEqual(s.decider.pages, [], "no member is taken for gone");
  }));

Deno.test("chunk reader: the feed resumes at its offset, and leaves what the freshness pass took", () =>
  withKv(async (kv) => {
    const feed = [1, 2, 3, 4].map((n) => updated(uid(n), `2026-01-01T10:00:0${n}.000Z`));
    await kv.set(freshKeys.seen(uid(3)), Date.parse("2026-01-01T10:00:03.000Z"));
    await kv.set(freshKeys.seen(uid(4)), Date.parse("2026-01-01T10:00:03.000Z")); // older
    const s = setup(kv, {
      members: 5,
      checkpoint: incremental("1"),
      feed,
      env: { SYNC_FRESHNESS: "true" },
    });
    assert.equal(await s.reader.read(), true);
    assert.deepStrictEqual(s.feedAsked.map((a) => a.offset), [1]);
    const [page] = s.decider.pages;
    assert.deepStrictEqual(page.pos, ["2", "3", "4"]);
    assert.deepStrictEqual([...s.decider.outcomes.values()], [null, "skipped.fresh_pass", null]);
    assert.deepStrictEqual(s.routes.asked.sort(), [`get ${uid(2)}`, `get ${uid(4)}`]);
  }));

Deno.test("chunk reader: after the feed, the holders of flag roles are re-read", () =>
  withKv(async (kv) => {
    for (const n of [2, 4, 7]) await kv.set(holderKey(GUILD, uid(n)), 1);
    const feed = [updated(uid(1), "2026-01-01T10:00:00.000Z")];
    const s = setup(kv, { members: 5, checkpoint: incremental(), feed, hasFlagRoles: true });
    assert.equal(await s.reader.read(), true);
    assert.deepStrictEqual(s.job.checkpoints, [{ total: 1 }, { total: 1 + 3 }]);
    assert.equal(s.decider.pages.length, 2);
    const holders = s.decider.pages[1];
    assert.deepStrictEqual(holders.pos, [uid(2), uid(4), uid(7)].map((id) => `h:${id}`));
    assert.deepStrictEqual([holders.fresh, holders.holders], [true, true]);
    assert.deepStrictEqual([...s.decider.outcomes.values()].slice(1), [
      null,
      null,
      "skipped.not_member", // uid(7) left the guild
    ]);
    // Without flag roles the run ends with the feed.
    const plain = setup(kv, { members: 5, checkpoint: incremental(), feed });
    assert.equal(await plain.reader.read(), true);
    assert.equal(plain.decider.pages.length, 1);
  }));

Deno.test("chunk reader: the holders phase resumes after the last holder done", () =>
  withKv(async (kv) => {
    for (const n of [2, 4, 5]) await kv.set(holderKey(GUILD, uid(n)), 1);
    const s = setup(kv, {
      members: 5,
      checkpoint: incremental(`h:${uid(2)}`),
      hasFlagRoles: true,
    });
    assert.equal(await s.reader.read(), true);
    assert.deepStrictEqual(s.feedAsked, [], "the feed is done");
    assert.deepStrictEqual(s.job.checkpoints, [], "the total was set when the phase began");
    assert.deepStrictEqual(s.decider.pages.map((p) => p.ids), [[uid(4), uid(5)]]);
  }));

Deno.test("chunk reader: the guild's freshness backlog is taken in between pages", () =>
  withKv(async (kv) => {
    const queue = async (n: number, updatedAt: number) =>
      await kv.set(freshKeys.backlog(GUILD, uid(n)), { updatedAt, queuedAt: updatedAt });
    await queue(5000, 2); // not a member any more
    await queue(2, 1);
    await queue(3, 3); // has writes pending in this chunk: waits for them
    const s = setup(kv, { members: 1_100, env: { SYNC_FRESHNESS: "true" } });
    s.tracker.pending.add(uid(3));
    s.tracker.lastPos = uid(0);
    assert.equal(await s.reader.read(), true);
    // Before the first page, and not again before five seconds have passed. (Its members count
    // as decided: the first page is a full one.)
    assert.deepStrictEqual(s.decider.pages.map((p) => [p.side, p.ids.length]), [
      [true, 2],
      [false, 1000],
      [false, 100],
    ]);
    const [side] = s.decider.pages;
    assert.deepStrictEqual(side.ids, [uid(2), uid(5000)], "oldest update first");
    assert.deepStrictEqual(side.pos, [uid(0), uid(0)], "at the walk's position");
    assert.equal(side.fresh, true);
    assert.equal(s.decider.outcomes.get(`${uid(0)}/${uid(5000)}`), "skipped.not_member");
    assert.equal(s.decider.outcomes.get(`${uid(0)}/${uid(2)}`), null);
    // Never in a dry run, nor with the freshness pass off.
    const dry = setup(kv, { members: 5, env: { SYNC_FRESHNESS: "true" }, dryRun: true });
    await dry.reader.read();
    assert.ok(dry.decider.pages.every((p) => !p.side));
    const off = setup(kv, { members: 5 });
    await off.reader.read();
    assert.ok(off.decider.pages.every((p) => !p.side));
  }));
