/** lib/jobs/history.ts: finished runs' summaries (newest first, capped) and per-minute series. */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  HISTORY_KEEP,
  historyMutation,
  listHistory,
  perMinute,
  pruneHistory,
  seriesMutation,
  summarize,
} from "../../lib/jobs/history.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { runRecord } from "./_run.ts";

const KEY = "200000000000000001";
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12);

/** A completed run of 100 in 4 chunks, its checkpoint and sample still held. */
function record(o: Partial<RunRecord> = {}): RunRecord {
  return runRecord({
    kind: "count",
    key: KEY,
    runId: "run-a",
    state: "completed",
    mode: "full",
    dryRun: false,
    processed: 100,
    total: 100,
    counters: { changed: 3 },
    chunk: 4,
    startedAt: T0 - 10 * MIN,
    activeMs: 90_000,
    sample: [{ x: 1 }],
    checkpoint: { pos: 100 },
    ...o,
  });
}

async function commit(kv: Deno.Kv, build: (op: Deno.AtomicOperation) => void) {
  const op = kv.atomic();
  build(op);
  assert.ok((await op.commit()).ok);
}

Deno.test("summarize: the run's figures, its chunks and when it finished; no checkpoint or sample", () => {
  assert.deepStrictEqual(summarize(record({ lastError: "boom", state: "failed" }), T0 + 5), {
    runId: "run-a",
    state: "failed",
    mode: "full",
    dryRun: false,
    processed: 100,
    total: 100,
    counters: { changed: 3 },
    chunks: 4,
    startedAt: T0 - 10 * MIN,
    finishedAt: T0 + 5,
    activeMs: 90_000,
    lastError: "boom",
  });
});

Deno.test("history: listed newest first, limited, other keys and bad entries left out", () =>
  withKv(async (kv) => {
    for (const [runId, at] of [["old", T0], ["new", T0 + MIN], ["mid", T0 + 30_000]] as const) {
      await commit(kv, (op) => historyMutation(op, record({ runId }), at));
    }
    await commit(kv, (op) => historyMutation(op, record({ runId: "x", key: "other" }), T0));
    // An entry of another shape, oldest by its key: skipped.
    await kv.set([...keys.jobHistoryPrefix("count", KEY), Number.MAX_SAFE_INTEGER, "junk"], {
      nope: true,
    });
    const all = await listHistory(kv, "count", KEY);
    assert.deepStrictEqual(all.map((s) => s.runId), ["new", "mid", "old"]);
    assert.deepStrictEqual(
      (await listHistory(kv, "count", KEY, 2)).map((s) => s.runId),
      ["new", "mid"],
    );
    assert.deepStrictEqual(await listHistory(kv, "sync", KEY), []);
  }));

Deno.test("pruneHistory: keeps the newest HISTORY_KEEP summaries", () =>
  withKv(async (kv) => {
    for (let i = 0; i < HISTORY_KEEP + 3; i++) {
      await commit(kv, (op) => historyMutation(op, record({ runId: `r${i}` }), T0 + i * MIN));
    }
    await pruneHistory(kv, "count", KEY);
    const kept = await listHistory(kv, "count", KEY, 1000);
    assert.equal(kept.length, HISTORY_KEEP);
    assert.equal(kept[0].runId, `r${HISTORY_KEEP + 2}`);
    assert.equal(kept.at(-1)!.runId, "r3");
    await pruneHistory(kv, "count", KEY);
    assert.equal((await listHistory(kv, "count", KEY, 1000)).length, HISTORY_KEEP);
  }));

Deno.test("series: one point a minute (the last write of the minute wins), read as per-minute deltas", () =>
  withKv(async (kv) => {
    const at = (processed: number, now: number) =>
      commit(kv, (op) => seriesMutation(op, record({ processed }), now));
    await at(10, T0 + 5_000);
    await at(25, T0 + 50_000); // same minute: overwrites
    await at(25, T0 + MIN); // nothing new this minute
    await at(70, T0 + 3 * MIN + 1);
    await commit(kv, (op) => seriesMutation(op, record({ runId: "run-b", processed: 999 }), T0));
    assert.deepStrictEqual(await perMinute(kv, "count", KEY, "run-a"), [
      { minute: T0, processed: 25 },
      { minute: T0 + MIN, processed: 0 },
      { minute: T0 + 3 * MIN, processed: 45 },
    ]);
    assert.deepStrictEqual(await perMinute(kv, "count", KEY, "run-c"), []);
  }));

Deno.test("series: a total that went down (a restarted count) reads as 0, never negative", () =>
  withKv(async (kv) => {
    await commit(kv, (op) => seriesMutation(op, record({ processed: 50 }), T0));
    await commit(kv, (op) => seriesMutation(op, record({ processed: 20 }), T0 + MIN));
    assert.deepStrictEqual(
      (await perMinute(kv, "count", KEY, "run-a")).map((p) => p.processed),
      [50, 0],
    );
  }));
