/** Reporting REST events to the metrics hook (lib/discord/events.ts). */
import assert from "node:assert/strict";
import { eventReporter, type RestEvent } from "../../lib/discord/events.ts";

const event: RestEvent = { type: "invalid_request", status: 403, used: 1, limit: 10 };

Deno.test("events: every event reaches the hook", () => {
  const seen: RestEvent[] = [];
  const report = eventReporter((e) => seen.push(e));
  report(event);
  report({ type: "paused", reason: "global_rate_limit", until: 5 });
  assert.deepStrictEqual(seen, [event, { type: "paused", reason: "global_rate_limit", until: 5 }]);
});

Deno.test("events: a hook that throws never breaks the caller, and keeps getting events", () => {
  let calls = 0;
  const report = eventReporter(() => {
    calls++;
    throw new Error("metrics down");
  });
  report(event);
  report(event);
  assert.equal(calls, 2);
});

Deno.test("events: without a hook, reporting does nothing", () => {
  assert.doesNotThrow(() => eventReporter(undefined)(event));
});
