/** lib/jobs/continuation.ts: the next chunk's POST, retried with backoff, never thrown. */
import assert from "node:assert/strict";
import { ManualClock } from "../_clock.ts";
import { memoryLogger } from "../_log.ts";
import { postContinuation } from "../../lib/jobs/continuation.ts";

const URL_ = "https://bot.example/trigger-sync";
const BODY = { runId: "run-a", chunk: 3 };

interface Seen {
  url: string;
  method: string;
  auth: string | null;
  type: string | null;
  body: unknown;
}

/** A fetch answering each call with the next of `answers` (a status, or an error to throw). */
function scripted(answers: (number | Error)[]) {
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const req = new Request(input, init);
    seen.push({
      url: req.url,
      method: req.method,
      auth: req.headers.get("authorization"),
      type: req.headers.get("content-type"),
      body: await req.json(),
    });
    const next = answers.shift() ?? 200;
    if (next instanceof Error) throw next;
    return new Response("body", { status: next });
  };
  return { fetch, seen };
}

/** Runs the post on a manual clock, moving time whenever it sleeps; returns the sleeps taken. */
async function post(fetch: typeof globalThis.fetch, attempts: number) {
  const clock = new ManualClock(0);
  const log = memoryLogger();
  const sleeps: number[] = [];
  const sleep = clock.sleep.bind(clock);
  clock.sleep = (ms, signal) => {
    sleeps.push(ms);
    const p = sleep(ms, signal);
    queueMicrotask(() => clock.advance(ms));
    return p;
  };
  await postContinuation({ fetch, authToken: "secret-token", log, clock }, URL_, BODY, attempts);
  return { sleeps, log };
}

Deno.test("continuation: one POST of {runId, chunk} with the bearer token when it is taken", async () => {
  const { fetch, seen } = scripted([202]);
  const { sleeps, log } = await post(fetch, 3);
  assert.deepStrictEqual(seen, [{
    url: URL_,
    method: "POST",
    auth: "Bearer secret-token",
    type: "application/json",
    body: BODY,
  }]);
  assert.deepStrictEqual(sleeps, []);
  const sent = log.lines.find((l) => l.msg === "job: continuation sent");
  assert.equal(sent?.status, 202);
  assert.equal(sent?.runId, "run-a");
});

Deno.test("continuation: a 4xx answer is final (the route refused it); no retry", async () => {
  const { fetch, seen } = scripted([409]);
  const { sleeps, log } = await post(fetch, 3);
  assert.equal(seen.length, 1);
  assert.deepStrictEqual(sleeps, []);
  assert.ok(!log.lines.some((l) => String(l.msg).includes("not delivered")));
});

Deno.test("continuation: 5xx answers and failed requests are retried with doubling waits", async () => {
  const { fetch, seen } = scripted([503, new Error("connection reset"), 200]);
  const { sleeps, log } = await post(fetch, 5);
  assert.equal(seen.length, 3);
  assert.deepStrictEqual(sleeps, [500, 1000]);
  assert.ok(log.lines.some((l) => l.msg === "job: continuation request failed"));
  assert.ok(log.lines.some((l) => l.msg === "job: continuation sent"));
});

Deno.test("continuation: after the last attempt it gives up quietly, for the watchdog", async () => {
  const { fetch, seen } = scripted([500, 500, 500, 500]);
  const { sleeps, log } = await post(fetch, 3);
  assert.equal(seen.length, 3);
  assert.deepStrictEqual(sleeps, [500, 1000, 2000]);
  const given = log.lines.find((l) => String(l.msg).includes("not delivered"));
  assert.equal(given?.level, "warn");
  assert.equal(given?.chunk, 3);
});

Deno.test("continuation: zero attempts sends nothing and still resolves", async () => {
  const { fetch, seen } = scripted([]);
  await post(fetch, 0);
  assert.equal(seen.length, 0);
});
