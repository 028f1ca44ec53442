/**
 * lib/manifest/discord_call.ts: one call under a deadline, one short 429 waited out (and counted),
 * longer 429s and pauses passed on as "rate limited until".
 */
import assert from "node:assert/strict";
import type { CallOptions } from "../../lib/discord/api.ts";
import { DiscordRateLimitError, RestPausedError } from "../../lib/discord/errors.ts";
import { memoryLogger } from "../_log.ts";
import {
  DeadlineError,
  discordCall,
  errorText,
  rateLimitedUntil,
  withDeadline,
} from "../../lib/manifest/discord_call.ts";
import { DEFAULT_TUNING } from "../../lib/manifest/env.ts";

const limited = (ms: number) =>
  new DiscordRateLimitError("PUT", "/applications/1/commands", "user", ms);

function env(tuning: Partial<typeof DEFAULT_TUNING> = {}) {
  return { tuning: { ...DEFAULT_TUNING, ...tuning }, log: memoryLogger() };
}

/** A call failing with each of `errors` in turn, then answering "done"; records its options. */
function scripted(...errors: Error[]) {
  const seen: CallOptions[] = [];
  const fn = (opts: CallOptions) => {
    seen.push(opts);
    const error = errors.shift();
    return error ? Promise.reject(error) : Promise.resolve("done");
  };
  return { fn, seen };
}

Deno.test("discord call: an answer is one call, sent with no wait on a paused client", async () => {
  const counter = { calls: 0 };
  const { fn, seen } = scripted();
  assert.equal(await discordCall(env(), counter, fn), "done");
  assert.equal(counter.calls, 1);
  assert.equal(seen[0].maxPauseWaitMs, 0);
  assert.ok(seen[0].signal instanceof AbortSignal);
});

Deno.test("discord call: one short 429 is waited out and counted, a second is thrown", async () => {
  const e = env({ shortRateLimitMs: 5_000 });
  const once = { calls: 0 };
  assert.equal(await discordCall(e, once, scripted(limited(5_000)).fn), "done");
  assert.equal(once.calls, 2);
  assert.ok(e.log.lines.some((l) => l.msg === "command sync: short 429, waiting it out once"));

  const twice = { calls: 0 };
  const second = limited(100);
  await assert.rejects(
    discordCall(e, twice, scripted(limited(100), second).fn),
    (x) => x === second,
  );
  assert.equal(twice.calls, 2);
});

Deno.test("discord call: a long 429 or any other failure is thrown at once", async () => {
  const e = env({ shortRateLimitMs: 5_000 });
  for (const error of [limited(5_001), new Error("boom"), new RestPausedError("GET", "/x", 1)]) {
    const counter = { calls: 0 };
    await assert.rejects(discordCall(e, counter, scripted(error).fn), (x) => x === error);
    assert.equal(counter.calls, 1, error.message);
  }
});

Deno.test("discord call: a call that never answers is aborted at the deadline", async () => {
  const counter = { calls: 0 };
  const never = (opts: CallOptions) =>
    new Promise<never>((_, reject) =>
      opts.signal!.addEventListener("abort", () => reject(opts.signal!.reason))
    );
  await assert.rejects(
    discordCall(env({ callTimeoutMs: 20 }), counter, never),
    (e) =>
      e instanceof DeadlineError && e.message.startsWith("no answer from Discord within 20 ms"),
  );
  assert.equal(counter.calls, 1);
});

Deno.test("with deadline: the signal stays unaborted when the work finishes in time", async () => {
  let signal: AbortSignal | undefined;
  assert.equal(await withDeadline(1_000, (s) => (signal = s, Promise.resolve(7))), 7);
  assert.equal(signal?.aborted, false);
});

Deno.test("rate limited until: retry_after (1 s at least), a pause's end, else null", () => {
  const now = 1_000_000;
  assert.equal(rateLimitedUntil(limited(30_000), now), now + 30_000);
  assert.equal(rateLimitedUntil(limited(10), now), now + 1_000);
  assert.equal(rateLimitedUntil(new RestPausedError("GET", "/x", now + 60_000), now), now + 60_000);
  assert.equal(rateLimitedUntil(new RestPausedError("GET", "/x", now - 5), now), now + 1_000);
  assert.equal(rateLimitedUntil(new Error("500"), now), null);
  assert.equal(rateLimitedUntil("nope", now), null);
});

Deno.test("error text: an error's message, anything else as a string", () => {
  assert.equal(errorText(new Error("boom")), "boom");
  assert.equal(errorText(42), "42");
});
