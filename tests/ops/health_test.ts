/** lib/ops/health.ts: whether KV answers within the time limit, and why not. */
import assert from "node:assert/strict";
import { kvHealth } from "../../lib/ops/health.ts";
import { ManualClock } from "../_clock.ts";
import { withKv } from "../kv/_kv.ts";

function withGet(kv: Deno.Kv, get: (key: Deno.KvKey) => Promise<unknown>): Deno.Kv {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "get") return get;
      const member = Reflect.get(target, prop, target);
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
}

Deno.test("kvHealth: a KV that answers is ok, with its latency, and leaves no timer behind", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const h = await kvHealth(kv, clock);
    assert.equal(h.ok, true);
    assert.equal(typeof h.latencyMs, "number");
    assert.ok(h.latencyMs! >= 0);
    assert.equal(h.error, undefined);
    assert.equal(clock.pending, 0, "the timeout's sleep was cancelled");
  }));

Deno.test("kvHealth: a KV that does not answer in time is not ok, with the limit named", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const hung = withGet(kv, () => new Promise(() => {}));
    const pending = kvHealth(hung, clock, 250);
    await new Promise((r) => setTimeout(r, 0));
    clock.advance(249);
    let settled = false;
    pending.then(() => settled = true);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(settled, false, "still waiting before the limit");
    clock.advance(1);
    assert.deepEqual(await pending, {
      ok: false,
      latencyMs: null,
      error: "no answer within 250 ms",
    });
  }));

Deno.test("kvHealth: a KV error is reported as not ok with its message", () =>
  withKv(async (kv) => {
    const clock = new ManualClock();
    const broken = withGet(kv, () => Promise.reject(new Error("database is locked")));
    assert.deepEqual(await kvHealth(broken, clock), {
      ok: false,
      latencyMs: null,
      error: "database is locked",
    });
    assert.equal(clock.pending, 0);
    const odd = withGet(kv, () => Promise.reject("plain string"));
    assert.equal((await kvHealth(odd, clock)).error, "plain string");
  }));
