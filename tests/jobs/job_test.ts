/** lib/jobs/job.ts: its one class with behaviour, the error a chunk throws once its lease is gone. */
import assert from "node:assert/strict";
import { LeaseLostError } from "../../lib/jobs/job.ts";

Deno.test("LeaseLostError: an Error named for itself that says another chunk took over", () => {
  const e = new LeaseLostError();
  assert.ok(e instanceof Error);
  assert.equal(e.name, "LeaseLostError");
  assert.equal(e.message, "the chunk lost its lease; another chunk took over");
  assert.match(String(e), /^LeaseLostError: /);
});
