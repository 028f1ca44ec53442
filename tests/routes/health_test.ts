import assert from "node:assert/strict";
import { createTestApp } from "../_harness.ts";

Deno.test("GET /health reports version, uptime and KV without auth", async () => {
  const t = await createTestApp();
  try {
    t.clock.advance(90_000);
    const res = await t.handle(new Request("http://bot.test/health"));
    assert.deepStrictEqual(res.status, 200);
    const body = await res.json();
    assert.deepStrictEqual(body.status, "ok");
    assert.deepStrictEqual(body.version, t.deps.config.version);
    assert.deepStrictEqual(body.uptimeSeconds, 90);
    assert.deepStrictEqual(body.kv.ok, true);
  } finally {
    await t.close();
  }
});

Deno.test("GET /health is 503 when KV does not answer", async () => {
  const kv = await Deno.openKv(":memory:");
  const t = await createTestApp({ kv });
  kv.close();
  try {
    const res = await t.handle(new Request("http://bot.test/health"));
    assert.deepStrictEqual(res.status, 503);
    const body = await res.json();
    assert.deepStrictEqual(body.status, "degraded");
    assert.deepStrictEqual(body.kv.ok, false);
  } finally {
    await t.close();
  }
});

Deno.test("unknown paths are 404 JSON", async () => {
  const t = await createTestApp();
  try {
    const res = await t.handle(new Request("http://bot.test/nope"));
    assert.deepStrictEqual(res.status, 404);
    assert.deepStrictEqual((await res.json()).error, "not found");
  } finally {
    await t.close();
  }
});
