/**
 * lib/jobs/runner.ts: chunks over a counting job in memory: checkpoints and startIndex, the lease,
 * stops, the time box and auto-continue, SIGINT, failures, the watchdog, idempotent
 * continuations, commit sizes, and the Reason its refusals carry to the caller.
 * Kept in one file past 400 lines: the cases share the counting job.
 */
import assert from "node:assert/strict";
import { instrumentAtomics, withKv } from "../kv/_kv.ts";
import { systemClock } from "../../lib/clock.ts";
import { memoryLogger } from "../_log.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  type ChunkContext,
  type JobDefinition,
  type JobEnv,
  requestStop,
  startChunk,
  watchdog,
} from "../../lib/jobs/runner.ts";
import { LeaseLostError } from "../../lib/jobs/job.ts";
import { leaseName, readProgress, readSnapshot } from "../../lib/jobs/store.ts";
import { reason } from "../../lib/i18n/reason.ts";
import { assertCarries } from "./_refusal.ts";
import { runRecord } from "./_run.ts";

const KEY = "200000000000000001";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job over `total` numbered items, 5 per batch, with a hook to slow or block a batch. */
function countingJob(
  total: number,
  opts: { batchMs?: number; gate?: Promise<void>; fail?: number } = {},
) {
  const seen: number[] = [];
  const def: JobDefinition = {
    kind: "count",
    continuePath: "/trigger-count",
    newRun: (_req, skip) => ({ mode: "full", checkpoint: { pos: 0, skip } }),
    async runChunk(ctx: ChunkContext) {
      let { pos, skip } = ctx.run.checkpoint as { pos: number; skip?: number };
      let done = 0;
      if (opts.gate) await opts.gate;
      if (skip) {
        // Passing over a startIndex that matched no checkpoint.
        pos += skip;
        await ctx.checkpoint({ skippedByIndex: skip, checkpoint: { pos, skip: 0 } });
        skip = 0;
      }
      while (pos < total && done < ctx.limit && !ctx.signal.aborted) {
        const n = Math.min(5, total - pos, ctx.limit - done);
        for (let i = 0; i < n; i++) seen.push(pos + i);
        if (opts.fail !== undefined && pos >= opts.fail) throw new Error("boom");
        if (opts.batchMs) await sleep(opts.batchMs);
        pos += n;
        done += n;
        await ctx.checkpoint({ processed: n, counters: { items: n }, checkpoint: { pos }, total });
      }
      return { finished: pos >= total };
    },
  };
  return { def, seen };
}

function env(kv: Deno.Kv, extra: Partial<JobEnv> = {}) {
  const background: Promise<unknown>[] = [];
  const log = memoryLogger("info");
  const e: JobEnv = {
    kv,
    clock: systemClock,
    log,
    fetch: globalThis.fetch,
    waitUntil: (p) => void background.push(p),
    autoContinue: false,
    maxChunkMs: 60_000,
    defaultChunkSize: 20,
    ...extra,
  };
  return {
    env: e,
    log,
    async settle() {
      while (background.length) await background.shift();
    },
  };
}

Deno.test("jobs: chunks continue from the checkpoint; startIndex 0 starts anew; others skip", async () => {
  await withKv(async (kv) => {
    const { def, seen } = countingJob(50);
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    const r1 = await a.done;
    assert.deepStrictEqual([r1.state, r1.progress.processed, r1.progress.nextIndex], [
      "waiting",
      20,
      20,
    ]);
    // No startIndex: continue.
    const b = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(b.status === "started");
    assert.deepStrictEqual(b.run.runId, a.run.runId);
    assert.deepStrictEqual((await b.done).progress.processed, 40);
    // startIndex equal to the checkpoint: continue; the last chunk completes the run.
    const c = await startChunk(e, def, { key: KEY, startIndex: 40, source: "test" });
    assert.ok(c.status === "started");
    const r3 = await c.done;
    assert.deepStrictEqual([r3.state, r3.progress.processed, r3.progress.chunk], [
      "completed",
      50,
      3,
    ]);
    assert.deepStrictEqual(seen, Array.from({ length: 50 }, (_, i) => i));
    // Completed: a trigger without startIndex starts a new run.
    const d = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(d.status === "started");
    assert.ok(d.run.runId !== a.run.runId);
    await d.done;
    // Any other startIndex: a new run that walks past that many items.
    const f = await startChunk(e, def, {
      key: KEY,
      startIndex: 35,
      chunkSize: 100,
      source: "test",
    });
    assert.ok(f.status === "started");
    const rf = await f.done;
    assert.deepStrictEqual([rf.state, rf.progress.processed, rf.progress.counters.items], [
      "completed",
      50,
      15,
    ]);
  });
});

Deno.test("jobs: a second chunk never runs while one holds the lease (409-style conflict)", async () => {
  await withKv(async (kv) => {
    const gate = Promise.withResolvers<void>();
    const { def } = countingJob(10, { gate: gate.promise });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    const b = await startChunk(e, def, { key: KEY, source: "test" });
    assert.deepStrictEqual(b.status, "conflict");
    assert.deepStrictEqual(b.progress.state, "running");
    assert.deepStrictEqual(b.progress.lease?.live, true);
    gate.resolve();
    assert.deepStrictEqual((await a.done).state, "completed");
    // Lease released at the end.
    assert.deepStrictEqual((await readSnapshot(kv, "count", KEY)).lease, null);
  });
});

Deno.test("jobs: a chunk that lost its lease cannot overwrite progress", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(100, { batchMs: 10 });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, chunkSize: 100, source: "test" });
    assert.ok(a.status === "started");
    await sleep(35);
    // Someone else takes the lease (as after an expiry).
    await kv.set(keys.lease(leaseName("count", KEY)), {
      owner: "other",
      expiresAt: Date.now() + 60_000,
      takenAt: Date.now(),
    });
    const before = (await readSnapshot(kv, "count", KEY)).run!.value.processed;
    const r = await a.done;
    assert.deepStrictEqual(r.stopReason, "lease_lost");
    const after = (await readSnapshot(kv, "count", KEY)).run!.value;
    assert.ok(after.processed <= before + 5, `${after.processed} vs ${before}`);
    assert.deepStrictEqual(after.state, "running"); // never marked waiting/completed by the loser
  });
});

Deno.test("jobs: stop while running stops after the batch; stop while waiting marks stopped", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(1000, { batchMs: 5 });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, chunkSize: 1000, source: "test" });
    assert.ok(a.status === "started");
    await sleep(30);
    const s = await requestStop(e, def, KEY);
    assert.deepStrictEqual(s.status, "stopping");
    assert.deepStrictEqual(s.progress.state, "stopping");
    const r = await a.done;
    assert.deepStrictEqual(r.state, "stopped");
    assert.ok(r.progress.processed < 1000);
    // Resume: continues from the checkpoint.
    const b = await startChunk(e, def, { key: KEY, chunkSize: 20, source: "test" });
    assert.ok(b.status === "started");
    assert.deepStrictEqual(b.run.runId, a.run.runId);
    const rb = await b.done;
    assert.deepStrictEqual(rb.progress.processed, r.progress.processed + 20);
    assert.deepStrictEqual(rb.state, "waiting");
    const s2 = await requestStop(e, def, KEY);
    assert.deepStrictEqual(s2.status, "stopped");
    assert.deepStrictEqual(s2.progress.state, "stopped");
    assert.deepStrictEqual((await requestStop(e, def, KEY)).status, "noop");
  });
});

Deno.test("jobs: the time box ends a chunk; auto-continue chains chunks in-process", async () => {
  await withKv(async (kv) => {
    const { def, seen } = countingJob(60, { batchMs: 20 });
    const t = env(kv, { autoContinue: true });
    const a = await startChunk(t.env, def, {
      key: KEY,
      chunkSize: 1000,
      maxChunkMs: 60,
      source: "test",
    });
    assert.ok(a.status === "started");
    const r = await a.done;
    assert.deepStrictEqual(r.stopReason, "time_box");
    assert.deepStrictEqual(r.state, "waiting");
    await t.settle();
    const p = await readProgress(t.env, "count", KEY);
    assert.deepStrictEqual(p.state, "completed");
    assert.ok(p.chunk >= 2, `chunks ${p.chunk}`);
    assert.deepStrictEqual(seen, Array.from({ length: 60 }, (_, i) => i));
  });
});

Deno.test("jobs: SIGINT checkpoints and releases the lease within the grace period", async () => {
  await withKv(async (kv) => {
    const shutdown = new AbortController();
    let hard = false;
    const def: JobDefinition = {
      kind: "count",
      continuePath: "/x",
      newRun: () => ({ mode: "full", checkpoint: {} }),
      async runChunk(ctx) {
        await ctx.checkpoint({ processed: 3 });
        // A request that ignores the soft stop and only ends when aborted hard.
        await new Promise<void>((resolve) => ctx.hard.addEventListener("abort", () => resolve()));
        hard = true;
        return { finished: false };
      },
    };
    const { env: e } = env(kv, { shutdown: shutdown.signal, graceMs: 200 });
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    await sleep(20);
    const t0 = Date.now();
    shutdown.abort();
    const r = await a.done;
    const ms = Date.now() - t0;
    assert.ok(hard);
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.deepStrictEqual(r.stopReason, "shutdown");
    assert.deepStrictEqual(r.state, "waiting");
    const snap = await readSnapshot(kv, "count", KEY);
    assert.deepStrictEqual(snap.lease, null);
    assert.deepStrictEqual(snap.run!.value.processed, 3);
  });
});

Deno.test("jobs: a failing chunk marks the run failed; the checkpoint stays; a trigger retries", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(20, { fail: 10 });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    const r = await a.done;
    assert.deepStrictEqual(r.state, "failed");
    assert.deepStrictEqual(r.progress.lastError, "boom");
    assert.deepStrictEqual(r.progress.processed, 10);
  });
});

Deno.test("jobs: the watchdog resumes a run whose chunk died", async () => {
  await withKv(async (kv) => {
    const { def, seen } = countingJob(30);
    const t = env(kv, { leaseMs: 60 });
    // A chunk that "dies": it checkpoints once and then never finishes or renews.
    const dying: JobDefinition = {
      ...def,
      async runChunk(ctx) {
        await ctx.checkpoint({ processed: 5, checkpoint: { pos: 5 } });
        await new Promise(() => {});
        return { finished: false };
      },
    };
    const a = await startChunk(t.env, dying, { key: KEY, chunkSize: 100, source: "test" });
    assert.ok(a.status === "started");
    await sleep(20);
    assert.deepStrictEqual(await watchdog(t.env, def), []); // lease still live
    // Simulate the isolate's death: the heartbeat stops (delete and let the lease lapse).
    await kv.set(keys.lease(leaseName("count", KEY)), {
      owner: "dead",
      expiresAt: Date.now() - 1,
      takenAt: 0,
    });
    assert.deepStrictEqual(await watchdog(t.env, def), [KEY]);
    await t.settle();
    const p = await readProgress(t.env, "count", KEY);
    assert.deepStrictEqual(p.state, "completed");
    assert.deepStrictEqual(seen.slice(-25), Array.from({ length: 25 }, (_, i) => i + 5));
  });
});

Deno.test("jobs: continuations are idempotent (runId + chunk)", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(50);
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    await a.done;
    const cont = { key: KEY, runId: a.run.runId, chunk: 2, source: "continue" };
    const b = await startChunk(e, def, cont);
    assert.deepStrictEqual(b.status, "started");
    if (b.status === "started") await b.done;
    const dup = await startChunk(e, def, cont);
    assert.deepStrictEqual(dup.status, "noop");
    const stale = await startChunk(e, def, {
      key: KEY,
      runId: "someone-else",
      chunk: 3,
      source: "continue",
    });
    assert.deepStrictEqual(stale.status, "noop");
    const wrongIndex = await startChunk(e, def, {
      key: KEY,
      runId: a.run.runId,
      startIndex: 7,
      source: "cli",
    });
    assert.deepStrictEqual(wrongIndex.status, "conflict");
  });
});

Deno.test("jobs: every atomic commit stays within 10 checks", async () => {
  await withKv(async (raw) => {
    const { kv, commits } = instrumentAtomics(raw);
    const { def } = countingJob(40);
    const { env: e } = env(kv);
    for (let i = 0; i < 3; i++) {
      const r = await startChunk(e, def, { key: KEY, source: "test" });
      if (r.status === "started") await r.done;
    }
    await requestStop(e, def, KEY);
    assert.ok(commits.length > 5);
    for (const c of commits) assert.ok(c.checks <= 10, JSON.stringify(c));
  });
});

void LeaseLostError;

Deno.test("jobs: a dry-run request never continues a real run, nor another mode's run", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(50);
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    await a.done;
    const dry = await startChunk(e, def, { key: KEY, dryRun: true, source: "test" });
    assert.deepStrictEqual(dry.status, "conflict");
    const other = await startChunk(e, def, { key: KEY, mode: "incremental", source: "test" });
    assert.deepStrictEqual(other.status, "conflict");
    // startIndex 0 replaces it with a fresh dry run.
    const fresh = await startChunk(e, def, {
      key: KEY,
      dryRun: true,
      startIndex: 0,
      source: "test",
    });
    assert.ok(fresh.status === "started");
    assert.deepStrictEqual(fresh.run.dryRun, true);
    assert.ok(fresh.run.runId !== a.run.runId);
    await fresh.done;
  });
});

/** A job with nothing to do, for the refusals. */
const idle: JobDefinition = {
  kind: "count",
  continuePath: "/trigger-count",
  newRun: () => ({ mode: "full", checkpoint: { pos: 0 } }),
  runChunk: () => Promise.resolve({ finished: true }),
};

Deno.test("startChunk: its refusals carry their Reason to the caller", async () => {
  await withKv(async (kv) => {
    const shutdown = AbortSignal.abort();
    const down = await startChunk(env(kv, { shutdown }).env, idle, { key: KEY, source: "test" });
    assert.ok(down.status === "conflict");
    const shutting = "esta instancia se está apagando; inténtalo de nuevo";
    assertCarries(down, reason("reason.shutting_down"), shutting, "shutting down");

    await kv.set(keys.jobRun("count", KEY), runRecord({ kind: "count", key: KEY, runId: "run-b" }));
    const stale = await startChunk(env(kv).env, idle, { key: KEY, runId: "run-a", source: "test" });
    assert.ok(stale.status === "noop");
    assertCarries(stale, reason("reason.run_replaced"), "esa ejecución fue sustituida", "replaced");
  });
});

Deno.test("requestStop: nothing to stop says why, with its Reason", async () => {
  await withKv(async (kv) => {
    const e = env(kv).env;
    const none = await requestStop(e, idle, KEY);
    assert.ok(none.status === "noop");
    assertCarries(none, reason("reason.no_run"), "no hay ninguna ejecución", "no run");
    const spanish = {
      completed: "la ejecución ya terminó",
      stopped: "la ejecución está detenida",
    };
    for (const state of ["completed", "stopped"] as const) {
      await kv.set(keys.jobRun("count", KEY), runRecord({ kind: "count", key: KEY, state }));
      const r = await requestStop(e, idle, KEY);
      assert.ok(r.status === "noop", state);
      assertCarries(r, reason(`reason.run_${state}`), spanish[state], state);
    }
  });
});
