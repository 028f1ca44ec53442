/** lib/jobs/store.ts: a run record's last error Reason is read back only while it is valid. */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { keys } from "../../lib/kv/keys.ts";
import { reason } from "../../lib/i18n/reason.ts";
import { readSnapshot, toProgress } from "../../lib/jobs/store.ts";
import { runRecord } from "./_run.ts";

const KEY = "200000000000000001";

const failed = runRecord({
  kind: "count",
  key: KEY,
  state: "failed",
  lastError: "the run is stopped",
});

Deno.test("store: the last error's Reason reaches the progress; a stale one reads as none", async () => {
  await withKv(async (kv) => {
    const read = async (why: unknown) => {
      await kv.set(keys.jobRun("count", KEY), { ...failed, lastErrorWhy: why });
      const snap = await readSnapshot(kv, "count", KEY);
      assert.ok(snap.run, "the record stays readable");
      return toProgress("count", KEY, snap, 0);
    };
    const why = reason("reason.run_is", { state: "stopped" });
    assert.deepStrictEqual((await read(why)).lastErrorWhy, why);
    // A key the catalogue no longer has, or params that are not text or numbers: no Reason.
    for (const stale of [{ key: "reason.gone" }, { key: "reason.run_is", params: { state: {} } }]) {
      const p = await read(stale);
      assert.equal("lastErrorWhy" in p, false);
      assert.equal(p.lastError, "the run is stopped");
    }
  });
});
