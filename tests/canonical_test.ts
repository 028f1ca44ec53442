/** Canonical JSON and SHA-256 (lib/canonical.ts). */
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { canonicalJson, sha256Hex, SYNC_HASH_MAX_BYTES } from "../lib/canonical.ts";

Deno.test("canonical JSON: sorted keys at every level, undefined dropped, arrays kept", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [3, 1], c: "x" }, u: undefined }),
    '{"a":{"c":"x","d":[3,1]},"b":1}',
  );
  assert.equal(canonicalJson([undefined, null, true]), "[null,null,true]");
  assert.equal(canonicalJson("é\n"), JSON.stringify("é\n"));
  assert.throws(() => canonicalJson({ n: NaN }), TypeError);
  assert.throws(() => canonicalJson({ f: () => 1 }), TypeError);
});

Deno.test("canonical: sha256Hex known answers (FIPS 180-4 examples, one in each path)", async () => {
  const enc = new TextEncoder();
  assert.equal(
    await sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    await sha256Hex(enc.encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    await sha256Hex(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  // One million "a": far above SYNC_HASH_MAX_BYTES, so WebCrypto's answer.
  assert.equal(
    await sha256Hex(enc.encode("a".repeat(1_000_000))),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("canonical: sha256Hex equals node:crypto around the block edges and the path switch", async () => {
  const lengths = [
    ...Array.from({ length: 201 }, (_, i) => i),
    SYNC_HASH_MAX_BYTES - 1,
    SYNC_HASH_MAX_BYTES,
    SYNC_HASH_MAX_BYTES + 1,
    65_536,
  ];
  for (const len of lengths) {
    const bytes = crypto.getRandomValues(new Uint8Array(len));
    assert.equal(
      await sha256Hex(bytes),
      createHash("sha256").update(bytes).digest("hex"),
      `${len}`,
    );
  }
  // A view into a larger buffer hashes only its own bytes, in both paths.
  for (const len of [100, SYNC_HASH_MAX_BYTES + 100]) {
    const bytes = crypto.getRandomValues(new Uint8Array(len));
    const view = bytes.subarray(7, len - 7);
    assert.equal(await sha256Hex(view), createHash("sha256").update(view).digest("hex"), `${len}`);
  }
});

Deno.test("canonical: sha256Hex hashes short input in JS and long input with WebCrypto", async () => {
  const digest = crypto.subtle.digest;
  let calls = 0;
  crypto.subtle.digest = (...args: Parameters<typeof digest>) => {
    calls++;
    return digest.apply(crypto.subtle, args);
  };
  try {
    await sha256Hex(new Uint8Array(SYNC_HASH_MAX_BYTES));
    assert.equal(calls, 0, "up to SYNC_HASH_MAX_BYTES: no thread-pool round trip");
    await sha256Hex(new Uint8Array(SYNC_HASH_MAX_BYTES + 1));
    assert.equal(calls, 1, "above it: WebCrypto");
  } finally {
    crypto.subtle.digest = digest;
  }
});
