import { assert, assertEquals } from "../_assert.ts";
import { instrumentAtomics, withKv } from "../kv/_kv.ts";
import { systemClock } from "../../lib/clock.ts";
import { memoryLogger } from "../../lib/log/log.ts";
import { keys } from "../../lib/kv/keys.ts";
import {
  type ChunkContext,
  type JobDefinition,
  type JobEnv,
  LeaseLostError,
  readProgress,
  requestStop,
  startChunk,
  watchdog,
} from "../../lib/jobs/runner.ts";
import { leaseName, readSnapshot } from "../../lib/jobs/store.ts";

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
    assert(a.status === "started");
    const r1 = await a.done;
    assertEquals([r1.state, r1.progress.processed, r1.progress.nextIndex], ["waiting", 20, 20]);
    // No startIndex: continue.
    const b = await startChunk(e, def, { key: KEY, source: "test" });
    assert(b.status === "started");
    assertEquals(b.run.runId, a.run.runId);
    assertEquals((await b.done).progress.processed, 40);
    // startIndex equal to the checkpoint: continue; the last chunk completes the run.
    const c = await startChunk(e, def, { key: KEY, startIndex: 40, source: "test" });
    assert(c.status === "started");
    const r3 = await c.done;
    assertEquals([r3.state, r3.progress.processed, r3.progress.chunk], ["completed", 50, 3]);
    assertEquals(seen, Array.from({ length: 50 }, (_, i) => i));
    // Completed: a trigger without startIndex starts a new run.
    const d = await startChunk(e, def, { key: KEY, source: "test" });
    assert(d.status === "started");
    assert(d.run.runId !== a.run.runId);
    await d.done;
    // Any other startIndex: a new run that walks past that many items.
    const f = await startChunk(e, def, {
      key: KEY,
      startIndex: 35,
      chunkSize: 100,
      source: "test",
    });
    assert(f.status === "started");
    const rf = await f.done;
    assertEquals([rf.state, rf.progress.processed, rf.progress.counters.items], [
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
    assert(a.status === "started");
    const b = await startChunk(e, def, { key: KEY, source: "test" });
    assertEquals(b.status, "conflict");
    assertEquals(b.progress.state, "running");
    assertEquals(b.progress.lease?.live, true);
    gate.resolve();
    assertEquals((await a.done).state, "completed");
    // Lease released at the end.
    assertEquals((await readSnapshot(kv, "count", KEY)).lease, null);
  });
});

Deno.test("jobs: a chunk that lost its lease cannot overwrite progress", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(100, { batchMs: 10 });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, chunkSize: 100, source: "test" });
    assert(a.status === "started");
    await sleep(35);
    // Someone else takes the lease (as after an expiry).
    await kv.set(keys.lease(leaseName("count", KEY)), {
      owner: "other",
      expiresAt: Date.now() + 60_000,
      takenAt: Date.now(),
    });
    const before = (await readSnapshot(kv, "count", KEY)).run!.value.processed;
    const r = await a.done;
    assertEquals(r.stopReason, "lease_lost");
    const after = (await readSnapshot(kv, "count", KEY)).run!.value;
    assert(after.processed <= before + 5, `${after.processed} vs ${before}`);
    assertEquals(after.state, "running"); // never marked waiting/completed by the loser
  });
});

Deno.test("jobs: stop while running stops after the batch; stop while waiting marks stopped", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(1000, { batchMs: 5 });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, chunkSize: 1000, source: "test" });
    assert(a.status === "started");
    await sleep(30);
    const s = await requestStop(e, def, KEY);
    assertEquals(s.status, "stopping");
    assertEquals(s.progress.state, "stopping");
    const r = await a.done;
    assertEquals(r.state, "stopped");
    assert(r.progress.processed < 1000);
    // Resume: continues from the checkpoint.
    const b = await startChunk(e, def, { key: KEY, chunkSize: 20, source: "test" });
    assert(b.status === "started");
    assertEquals(b.run.runId, a.run.runId);
    const rb = await b.done;
    assertEquals(rb.progress.processed, r.progress.processed + 20);
    assertEquals(rb.state, "waiting");
    const s2 = await requestStop(e, def, KEY);
    assertEquals(s2.status, "stopped");
    assertEquals(s2.progress.state, "stopped");
    assertEquals((await requestStop(e, def, KEY)).status, "noop");
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
    assert(a.status === "started");
    const r = await a.done;
    assertEquals(r.stopReason, "time_box");
    assertEquals(r.state, "waiting");
    await t.settle();
    const p = await readProgress(t.env, "count", KEY);
    assertEquals(p.state, "completed");
    assert(p.chunk >= 2, `chunks ${p.chunk}`);
    assertEquals(seen, Array.from({ length: 60 }, (_, i) => i));
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
    assert(a.status === "started");
    await sleep(20);
    const t0 = Date.now();
    shutdown.abort();
    const r = await a.done;
    const ms = Date.now() - t0;
    assert(hard);
    assert(ms < 1000, `took ${ms} ms`);
    assertEquals(r.stopReason, "shutdown");
    assertEquals(r.state, "waiting");
    const snap = await readSnapshot(kv, "count", KEY);
    assertEquals(snap.lease, null);
    assertEquals(snap.run!.value.processed, 3);
  });
});

Deno.test("jobs: a failing chunk marks the run failed; the checkpoint stays; a trigger retries", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(20, { fail: 10 });
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert(a.status === "started");
    const r = await a.done;
    assertEquals(r.state, "failed");
    assertEquals(r.progress.lastError, "boom");
    assertEquals(r.progress.processed, 10);
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
    assert(a.status === "started");
    await sleep(20);
    assertEquals(await watchdog(t.env, def), []); // lease still live
    // Simulate the isolate's death: the heartbeat stops (delete and let the lease lapse).
    await kv.set(keys.lease(leaseName("count", KEY)), {
      owner: "dead",
      expiresAt: Date.now() - 1,
      takenAt: 0,
    });
    assertEquals(await watchdog(t.env, def), [KEY]);
    await t.settle();
    const p = await readProgress(t.env, "count", KEY);
    assertEquals(p.state, "completed");
    assertEquals(seen.slice(-25), Array.from({ length: 25 }, (_, i) => i + 5));
  });
});

Deno.test("jobs: continuations are idempotent (runId + chunk)", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(50);
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert(a.status === "started");
    await a.done;
    const cont = { key: KEY, runId: a.run.runId, chunk: 2, source: "continue" };
    const b = await startChunk(e, def, cont);
    assertEquals(b.status, "started");
    if (b.status === "started") await b.done;
    const dup = await startChunk(e, def, cont);
    assertEquals(dup.status, "noop");
    const stale = await startChunk(e, def, {
      key: KEY,
      runId: "someone-else",
      chunk: 3,
      source: "continue",
    });
    assertEquals(stale.status, "noop");
    const wrongIndex = await startChunk(e, def, {
      key: KEY,
      runId: a.run.runId,
      startIndex: 7,
      source: "cli",
    });
    assertEquals(wrongIndex.status, "conflict");
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
    assert(commits.length > 5);
    for (const c of commits) assert(c.checks <= 10, JSON.stringify(c));
  });
});

void LeaseLostError;

Deno.test("jobs: a dry-run request never continues a real run, nor another mode's run", async () => {
  await withKv(async (kv) => {
    const { def } = countingJob(50);
    const { env: e } = env(kv);
    const a = await startChunk(e, def, { key: KEY, source: "test" });
    assert(a.status === "started");
    await a.done;
    const dry = await startChunk(e, def, { key: KEY, dryRun: true, source: "test" });
    assertEquals(dry.status, "conflict");
    const other = await startChunk(e, def, { key: KEY, mode: "incremental", source: "test" });
    assertEquals(other.status, "conflict");
    // startIndex 0 replaces it with a fresh dry run.
    const fresh = await startChunk(e, def, {
      key: KEY,
      dryRun: true,
      startIndex: 0,
      source: "test",
    });
    assert(fresh.status === "started");
    assertEquals(fresh.run.dryRun, true);
    assert(fresh.run.runId !== a.run.runId);
    await fresh.done;
  });
});
