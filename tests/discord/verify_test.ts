import nacl from "tweetnacl";
import { assert, assertEquals } from "../_assert.ts";
import { createVerifier, hexToBytes, importPublicKey } from "../../lib/discord/verify.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const enc = new TextEncoder();

Deno.test("verify: accepts a valid signature, rejects each kind of bad input with its reason", async () => {
  const pair = nacl.sign.keyPair();
  const verifier = await createVerifier(hex(pair.publicKey));
  const now = 1_800_000_000_000;
  const ts = String(now / 1000);
  const body = enc.encode('{"type":1}');
  const sig = hex(nacl.sign.detached(enc.encode(ts + '{"type":1}'), pair.secretKey));
  assertEquals(await verifier.verify(sig, ts, body, now), { ok: true });
  assertEquals(await verifier.verify(null, ts, body, now), {
    ok: false,
    reason: "missing signature",
  });
  assertEquals(await verifier.verify("xyz", ts, body, now), {
    ok: false,
    reason: "malformed signature",
  });
  assertEquals(await verifier.verify("g".repeat(128), ts, body, now), {
    ok: false,
    reason: "malformed signature",
  });
  assertEquals(await verifier.verify(sig, null, body, now), {
    ok: false,
    reason: "missing timestamp",
  });
  assertEquals(await verifier.verify(sig, "1.5", body, now), {
    ok: false,
    reason: "malformed timestamp",
  });
  assertEquals(await verifier.verify(sig, ts, body, now + 301_000), {
    ok: false,
    reason: "stale timestamp",
  });
  assertEquals(await verifier.verify(sig, ts, enc.encode('{"type":2}'), now), {
    ok: false,
    reason: "bad signature",
  });
  const flipped = sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0");
  assertEquals(await verifier.verify(flipped, ts, body, now), {
    ok: false,
    reason: "bad signature",
  });
});

Deno.test("verify: a public key that is not 32 bytes of hex is refused at start-up", () => {
  let threw = false;
  try {
    importPublicKey("abcd");
  } catch {
    threw = true;
  }
  assert(threw);
  assertEquals(hexToBytes("0g"), null);
  assertEquals(hexToBytes("abc"), null);
  assertEquals(Array.from(hexToBytes("00ff")!), [0, 255]);
});

Deno.test("verify: refuses malleated and degenerate signatures, accepts upper-case hex", async () => {
  const pair = nacl.sign.keyPair();
  const verifier = await createVerifier(hex(pair.publicKey));
  const now = 1_800_000_000_000;
  const ts = String(now / 1000);
  const body = enc.encode('{"type":1}');
  const sig = nacl.sign.detached(enc.encode(ts + '{"type":1}'), pair.secretKey);
  assertEquals(await verifier.verify(hex(sig).toUpperCase(), ts, body, now), { ok: true });
  // S + L (the group order) verifies under a lax check; a strict verifier must refuse it.
  const L = hexToBytes("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!;
  const malleated = sig.slice();
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = malleated[32 + i] + L[i] + carry;
    malleated[32 + i] = sum & 0xff;
    carry = sum >> 8;
  }
  assert(nacl.sign.detached.verify(enc.encode(ts + '{"type":1}'), malleated, pair.publicKey));
  const bad = { ok: false, reason: "bad signature" } as const;
  assertEquals(await verifier.verify(hex(malleated), ts, body, now), bad);
  assertEquals(await verifier.verify("0".repeat(128), ts, body, now), bad);
  assertEquals(await verifier.verify("f".repeat(128), ts, body, now), bad);
  // Not hex, including characters beyond ASCII, is malformed rather than a failed check.
  assertEquals(await verifier.verify("é".repeat(128), ts, body, now), {
    ok: false,
    reason: "malformed signature",
  });
  // Another key's valid signature.
  const other = nacl.sign.keyPair();
  const foreign = hex(nacl.sign.detached(enc.encode(ts + '{"type":1}'), other.secretKey));
  assertEquals(await verifier.verify(foreign, ts, body, now), bad);
});
