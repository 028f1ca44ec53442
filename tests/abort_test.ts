/** lib/abort.ts: which errors are cancellations (stop quietly) and which are failures. */
import assert from "node:assert/strict";
import { isAbort } from "../lib/abort.ts";

Deno.test("isAbort: an aborted signal's and a timed-out signal's reasons are cancellations", () => {
  assert.equal(isAbort(AbortSignal.abort().reason), true);
  assert.equal(isAbort(new DOMException("late", "TimeoutError")), true);
  assert.equal(isAbort(new DOMException("stop", "AbortError")), true);
});

Deno.test("isAbort: an Error named AbortError (thrown by libraries) is a cancellation", () => {
  const e = new Error("aborted");
  e.name = "AbortError";
  assert.equal(isAbort(e), true);
});

Deno.test("isAbort: failures and non-errors are not cancellations", () => {
  assert.equal(isAbort(new Error("AbortError")), false, "the message does not count");
  assert.equal(isAbort(new DOMException("bad", "NetworkError")), false);
  assert.equal(isAbort(new TypeError("fetch failed")), false);
  assert.equal(isAbort("AbortError"), false);
  assert.equal(isAbort({ name: "AbortError" }), false, "a plain object is not an error");
  assert.equal(isAbort(null), false);
  assert.equal(isAbort(undefined), false);
});
