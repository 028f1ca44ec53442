import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { systemClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log/log.ts";
import type { JobDefinition, JobEnv } from "../../lib/jobs/job.ts";
import { startChunk } from "../../lib/jobs/runner.ts";
import { readProgress } from "../../lib/jobs/store.ts";
import { reason, ReasonError } from "../../lib/i18n/reason.ts";

const KEY = "200000000000000001";

/** A job over `total` items, a chunk's limit at a time, whose preflight records its runs. */
function preflightJob(total: number, o: { refuse?: string } = {}) {
  const calls: string[] = [];
  const given: string[] = [];
  const def: JobDefinition<string> = {
    kind: "count",
    continuePath: "/trigger-count",
    newRun: () => ({ mode: "full", checkpoint: { pos: 0 } }),
    preflight(key) {
      calls.push(key);
      if (o.refuse) return Promise.reject(new Error(o.refuse));
      return Promise.resolve(`rules of ${key} #${calls.length}`);
    },
    async runChunk(ctx) {
      given.push(ctx.preflight);
      let { pos } = ctx.run.checkpoint as { pos: number };
      const n = Math.min(ctx.limit, total - pos);
      pos += n;
      await ctx.checkpoint({ processed: n, checkpoint: { pos } });
      return { finished: pos >= total };
    },
  };
  return { def, calls, given };
}

function env(kv: Deno.Kv, extra: Partial<JobEnv> = {}) {
  const background: Promise<unknown>[] = [];
  const e: JobEnv = {
    kv,
    clock: systemClock,
    log: silentLogger,
    fetch: () => Promise.reject(new Error("no fetch in this test")),
    waitUntil: (p) => void background.push(p),
    autoContinue: false,
    maxChunkMs: 60_000,
    defaultChunkSize: 10,
    ...extra,
  };
  return {
    env: e,
    async settle() {
      while (background.length) await background.shift();
    },
  };
}

Deno.test("chunk: a job's preflight runs once per chunk, self-chained chunks included", async () => {
  await withKv(async (kv) => {
    const { def, calls, given } = preflightJob(30);
    const t = env(kv, { autoContinue: true });
    const a = await startChunk(t.env, def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    await a.done;
    await t.settle();
    const p = await readProgress(t.env, "count", KEY);
    assert.deepStrictEqual([p.state, p.chunk], ["completed", 3]);
    assert.deepStrictEqual(calls, [KEY, KEY, KEY]);
    assert.deepStrictEqual(given, [1, 2, 3].map((i) => `rules of ${KEY} #${i}`));
  });
});

Deno.test("chunk: a preflight the starter ran is not run again; the chunk gets its result", async () => {
  await withKv(async (kv) => {
    const { def, calls, given } = preflightJob(30);
    const t = env(kv);
    const a = await startChunk(t.env, def, { key: KEY, source: "test", preflight: "checked" });
    assert.ok(a.status === "started");
    assert.equal((await a.done).state, "waiting");
    assert.deepStrictEqual(calls, []);
    assert.deepStrictEqual(given, ["checked"]);
    // A continuation that did not run it (the in-process chain, the watchdog) gets it run.
    const b = await startChunk(t.env, def, { key: KEY, runId: a.run.runId, source: "continue" });
    assert.ok(b.status === "started");
    await b.done;
    assert.deepStrictEqual(calls, [KEY]);
    assert.deepStrictEqual(given, ["checked", `rules of ${KEY} #1`]);
  });
});

Deno.test("chunk: a preflight that refuses in the chunk fails the run, its progress kept", async () => {
  await withKv(async (kv) => {
    const ok = preflightJob(30);
    const t = env(kv);
    const a = await startChunk(t.env, ok.def, { key: KEY, source: "test" });
    assert.ok(a.status === "started");
    await a.done;
    const { def, given } = preflightJob(30, { refuse: "role sync is turned off" });
    const b = await startChunk(t.env, def, { key: KEY, source: "test" });
    assert.ok(b.status === "started");
    const r = await b.done;
    assert.deepStrictEqual([r.state, r.stopReason, r.progress.lastError, r.progress.processed], [
      "failed",
      "failed",
      "role sync is turned off",
      10,
    ]);
    assert.deepStrictEqual(given, []); // the job's work never ran
  });
});

Deno.test("chunk: a failed run keeps its error's Reason beside its text, until the next chunk", async () => {
  await withKv(async (kv) => {
    const t = env(kv);
    const disabled = reason("reason.sync_disabled", { guild: KEY });
    // What each chunk throws, in turn (undefined: it works).
    const errors = [
      new ReasonError(disabled),
      undefined,
      new ReasonError(disabled),
      new Error("boom"),
    ];
    const def: JobDefinition = {
      kind: "count",
      continuePath: "/trigger-count",
      newRun: () => ({ mode: "full", checkpoint: {} }),
      runChunk: () => {
        const error = errors.shift();
        return error ? Promise.reject(error) : Promise.resolve({ finished: false });
      },
    };
    const chunk = async () => {
      const r = await startChunk(t.env, def, { key: KEY, source: "test" });
      assert.ok(r.status === "started");
      return (await r.done).progress;
    };
    const failed = await chunk();
    assert.equal(
      failed.lastError,
      `role sync is turned off for server ${KEY} (feature flag role_sync)`,
    );
    assert.deepStrictEqual(failed.lastErrorWhy, disabled);
    // The next chunk starts clean: neither the text nor its Reason stays.
    const worked = await chunk();
    assert.deepStrictEqual([worked.state, worked.chunk, worked.lastError], ["waiting", 2, null]);
    assert.equal("lastErrorWhy" in worked, false);
    assert.deepStrictEqual((await chunk()).lastErrorWhy, disabled);
    // An error without a Reason replaces the text and leaves no Reason.
    const plain = await chunk();
    assert.equal(plain.lastError, "boom");
    assert.equal("lastErrorWhy" in plain, false);
  });
});
