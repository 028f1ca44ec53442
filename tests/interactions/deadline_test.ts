/**
 * lib/interactions/deadline.ts: an answer within the deadline is the response; a later one is
 * acknowledged at the deadline and edited in afterwards; follow-ups wait for the original message.
 */
import assert from "node:assert/strict";
import { type APIInteractionResponse, InteractionResponseType } from "discord-api-types/v10";
import { followupFor, withDeadline } from "../../lib/interactions/deadline.ts";
import * as reply from "../../lib/interactions/reply.ts";
import type { Trace } from "../../lib/interactions/trace.ts";
import { t } from "../../lib/i18n/mod.ts";
import { memoryDeps } from "../_deps.ts";
import { commandInteraction, componentInteraction, fakeDiscordFetch } from "../_harness.ts";

const trace = (): Trace => ({ after: [], outcome: "ok", language: "en" });

/** Lets pending promise callbacks run. */
const tick = () => new Promise((r) => setTimeout(r, 0));

async function withDeps(
  fn: (
    d: ReturnType<typeof memoryDeps>,
    calls: ReturnType<typeof fakeDiscordFetch>["calls"],
  ) => Promise<void>,
  routes: Parameters<typeof fakeDiscordFetch>[0] = {},
) {
  const kv = await Deno.openKv(":memory:");
  const { fetch, calls } = fakeDiscordFetch(routes);
  try {
    await fn(memoryDeps(kv, { fetch }), calls);
  } finally {
    kv.close();
  }
}

/** A handler the test answers when it chooses. */
function later() {
  let answer!: (r: APIInteractionResponse) => void;
  const promise = new Promise<APIInteractionResponse>((r) => answer = r);
  return { run: () => promise, answer };
}

Deno.test("deadline: an answer in time is the response, with nothing left for after", () =>
  withDeps(async (deps) => {
    const tr = trace();
    const r = await withDeadline(
      { deps },
      commandInteraction("x"),
      tr,
      () => Promise.resolve(reply.message("hi")),
    );
    assert.deepStrictEqual(r, reply.message("hi"));
    assert.deepStrictEqual(tr.after, []);
    assert.equal(deps.clock.pending, 0, "the deadline timer is cancelled");
  }));

Deno.test("deadline: a late answer is deferred at the deadline, then edited in", () =>
  withDeps(async (deps, calls) => {
    const tr = trace();
    const slow = later();
    const interaction = commandInteraction("x");
    const pending = withDeadline({ deps, deadlineMs: 1_000 }, interaction, tr, slow.run);
    await tick();
    deps.clock.advance(999);
    await tick();
    assert.equal(tr.after.length, 0, "not yet");
    deps.clock.advance(1);
    assert.deepStrictEqual(await pending, reply.deferred(true));
    assert.equal(tr.after.length, 1);
    assert.ok(
      deps.log.lines.some((l) => l.msg === "handler exceeded the response deadline; deferring"),
    );

    slow.answer(reply.message("done"));
    await tr.after[0]();
    assert.equal(calls.length, 1);
    assert.equal(calls[0].method, "PATCH");
    assert.match(calls[0].path, /^\/webhooks\/\d+\/.+\/messages\/@original$/);
    assert.equal((calls[0].body as { content: string }).content, "done");
  }));

Deno.test("deadline: a late component is a deferred update; a late modal is too slow", () =>
  withDeps(async (deps, calls) => {
    const tr = trace();
    const slow = later();
    const pending = withDeadline({ deps }, componentInteraction("c"), tr, slow.run);
    await tick();
    deps.clock.advance(2_500);
    assert.deepStrictEqual(await pending, reply.deferredUpdate());
    slow.answer(reply.modal({ custom_id: "m", title: "M", components: [] }));
    await tr.after[0]();
    assert.equal(
      (calls[0].body as { content: string }).content,
      t("en", "interaction.modal_too_slow"),
    );
  }));

Deno.test("deadline: a throwing handler becomes the failure reply", () =>
  withDeps(async (deps) => {
    const tr = trace();
    const r = await withDeadline({ deps }, commandInteraction("x"), tr, () =>
      Promise.reject(new Error("kaboom")));
    assert.equal(r.type, InteractionResponseType.ChannelMessageWithSource);
    assert.equal(tr.outcome, "error");
  }));

/** Answers `unknown` times with Discord's "Unknown Message", then like Discord; counts calls. */
function unknownThenOk(unknown: number) {
  const paths: string[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    paths.push(`${init?.method} ${new URL(String(input)).pathname}`);
    return Promise.resolve(
      unknown-- > 0
        ? Response.json({ message: "Unknown Message", code: 10008 }, { status: 404 })
        : Response.json({ id: "900000000000000001", content: "" }),
    );
  };
  return { fetch, paths };
}

/** Moves the manual clock until `promise` settles (the retries' sleeps). */
async function drive<T>(deps: ReturnType<typeof memoryDeps>, promise: Promise<T>): Promise<T> {
  let settled = false;
  const done = promise.finally(() => settled = true);
  done.catch(() => {}); // awaited below, once settled
  while (!settled) {
    await tick();
    if (deps.clock.pending > 0) deps.clock.advance(500);
  }
  return await done;
}

Deno.test("follow-ups: retried while the original is not there yet, 3 times at most", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const twice = unknownThenOk(2);
    const deps = memoryDeps(kv, { fetch: twice.fetch });
    await drive(deps, followupFor({ deps }, commandInteraction("x")).editOriginal("x"));
    assert.equal(twice.paths.length, 3, "two unknown, then the edit");
    assert.ok(twice.paths.every((p) => p.startsWith("PATCH /api/v10/webhooks/")), twice.paths[0]);

    const always = unknownThenOk(10);
    const deps2 = memoryDeps(kv, { fetch: always.fetch });
    await assert.rejects(
      drive(deps2, followupFor({ deps: deps2 }, commandInteraction("x")).deleteOriginal()),
    );
    assert.equal(always.paths.length, 4, "the call and 3 retries");
  } finally {
    kv.close();
  }
});
