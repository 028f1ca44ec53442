/** Sealed tokens: open for their user and key only; the previous key still opens after rotation. */
import assert from "node:assert/strict";
import { loadSigningKeys } from "../../lib/signing_keys.ts";
import { open, seal } from "../../lib/linked_roles/token_box.ts";

const kv = () => Deno.openKv(":memory:");

Deno.test("token box: seals per user and key; tampering, other users and other keys do not open", async () => {
  const store = await kv();
  try {
    const keys = (await loadSigningKeys({ signingSecret: "a".repeat(32) }, store)).tokenBox;
    const other = (await loadSigningKeys({ signingSecret: "b".repeat(32) }, store)).tokenBox;
    const a = await seal(keys, "300000000000000001", "refresh-token-value");
    const b = await seal(keys, "300000000000000001", "refresh-token-value");
    assert.notDeepStrictEqual(a, b, "a fresh IV per seal");
    assert.ok(!a.includes("refresh-token-value"));
    assert.deepStrictEqual(await open(keys, "300000000000000001", a), "refresh-token-value");
    assert.deepStrictEqual(await open(keys, "300000000000000002", a), null);
    assert.deepStrictEqual(await open(other, "300000000000000001", a), null);
    const flipped = a.slice(0, -2) + (a.at(-2) === "A" ? "B" : "A") + a.at(-1);
    assert.deepStrictEqual(await open(keys, "300000000000000001", flipped), null);
    assert.deepStrictEqual(await open(keys, "300000000000000001", "v1.!!"), null);
    assert.deepStrictEqual(await open(keys, "300000000000000001", "plain"), null);
  } finally {
    store.close();
  }
});

Deno.test("token box: after a SIGNING_SECRET rotation the previous key opens, the new one seals", async () => {
  const store = await kv();
  try {
    const before = (await loadSigningKeys({ signingSecret: "a".repeat(32) }, store)).tokenBox;
    const sealed = await seal(before, "300000000000000001", "t");
    const after = (await loadSigningKeys({
      signingSecret: "c".repeat(32),
      signingSecretPrevious: "a".repeat(32),
    }, store)).tokenBox;
    assert.deepStrictEqual(await open(after, "300000000000000001", sealed), "t");
    const resealed = await seal(after, "300000000000000001", "t");
    assert.deepStrictEqual(await open(before, "300000000000000001", resealed), null);
  } finally {
    store.close();
  }
});
