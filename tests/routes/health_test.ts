import { assertEquals } from "../_assert.ts";
import { createTestApp } from "../_harness.ts";

Deno.test("GET /health reports version, uptime and KV without auth", async () => {
  const t = await createTestApp();
  try {
    t.clock.advance(90_000);
    const res = await t.handle(new Request("http://bot.test/health"));
    assertEquals(res.status, 200);
    const body = await res.json();
    assertEquals(body.status, "ok");
    assertEquals(body.version, t.deps.config.version);
    assertEquals(body.uptimeSeconds, 90);
    assertEquals(body.kv.ok, true);
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
    assertEquals(res.status, 503);
    const body = await res.json();
    assertEquals(body.status, "degraded");
    assertEquals(body.kv.ok, false);
  } finally {
    await t.close();
  }
});

Deno.test("unknown paths are 404 JSON", async () => {
  const t = await createTestApp();
  try {
    const res = await t.handle(new Request("http://bot.test/nope"));
    assertEquals(res.status, 404);
    assertEquals((await res.json()).error, "not found");
  } finally {
    await t.close();
  }
});
