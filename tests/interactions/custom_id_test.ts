import assert from "node:assert/strict";
import { createCustomIds } from "../../lib/interactions/custom_id.ts";
import { createHmac } from "../../lib/hmac.ts";

Deno.test("custom ids: round trip, tamper, expiry, length limit, and key separation", async () => {
  const ids = createCustomIds(createHmac(new TextEncoder().encode("key-of-the-custom-ids")));
  const now = 1_800_000_000_000;
  const id = await ids.sign("backup.restore", "123456789012345678.roles", 60_000, now);
  assert.ok(id.length <= 100);
  assert.deepStrictEqual(await ids.verify(id, now), {
    ok: true,
    route: "backup.restore",
    state: "123456789012345678.roles",
    expiresAt: Math.ceil((now + 60_000) / 1000) * 1000,
  });
  assert.deepStrictEqual((await ids.verify(id, now + 61_000)).ok, false);
  assert.deepStrictEqual(await ids.verify(id, now + 61_000), { ok: false, reason: "expired" });
  const [route, state, exp, sig] = id.split("|");
  assert.deepStrictEqual(await ids.verify(`${route}|${state}x|${exp}|${sig}`, now), {
    ok: false,
    reason: "tampered",
  });
  assert.deepStrictEqual(await ids.verify(`${route}|${state}|zzzzzz|${sig}`, now), {
    ok: false,
    reason: "tampered",
  });
  assert.deepStrictEqual(await ids.verify("a|b|c", now), { ok: false, reason: "malformed" });
  // Another key does not validate it.
  const other = createCustomIds(createHmac(new TextEncoder().encode("key-of-something-else")));
  assert.deepStrictEqual(await other.verify(id, now), { ok: false, reason: "tampered" });
  await assert.rejects(
    () => ids.sign("help.page", "x".repeat(80), 1000, now),
    (e) => e instanceof Error && e.message.includes("limit is 100"),
  );
  await assert.rejects(
    () => ids.sign("help.page", "a|b", 1000, now),
    (e) => e instanceof Error && e.message.includes("must not contain"),
  );
  await assert.rejects(
    () => ids.sign("Bad Route", "", 1000, now),
    (e) => e instanceof Error && e.message.includes("invalid custom id route"),
  );
});
