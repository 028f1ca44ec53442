import nacl from "tweetnacl";
import assert from "node:assert/strict";
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
  assert.deepStrictEqual(await verifier.verify(sig, ts, body, now), { ok: true });
  assert.deepStrictEqual(await verifier.verify(null, ts, body, now), {
    ok: false,
    reason: "missing signature",
  });
  assert.deepStrictEqual(await verifier.verify("xyz", ts, body, now), {
    ok: false,
    reason: "malformed signature",
  });
  assert.deepStrictEqual(await verifier.verify("g".repeat(128), ts, body, now), {
    ok: false,
    reason: "malformed signature",
  });
  assert.deepStrictEqual(await verifier.verify(sig, null, body, now), {
    ok: false,
    reason: "missing timestamp",
  });
  assert.deepStrictEqual(await verifier.verify(sig, "1.5", body, now), {
    ok: false,
    reason: "malformed timestamp",
  });
  assert.deepStrictEqual(await verifier.verify(sig, ts, body, now + 301_000), {
    ok: false,
    reason: "stale timestamp",
  });
  assert.deepStrictEqual(await verifier.verify(sig, ts, enc.encode('{"type":2}'), now), {
    ok: false,
    reason: "bad signature",
  });
  const flipped = sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0");
  assert.deepStrictEqual(await verifier.verify(flipped, ts, body, now), {
    ok: false,
    reason: "bad signature",
  });
});

Deno.test("verify: a public key that is not 32 bytes of hex is refused at start-up", async () => {
  const refusal = "public key must be 32 bytes of hex";
  // Refused synchronously, before any WebCrypto work: too short, too long, odd length, not hex.
  for (const key of ["abcd", "00".repeat(31), "00".repeat(33), "0".repeat(63), "zz".repeat(32)]) {
    assert.throws(
      () => importPublicKey(key),
      (e) => e instanceof Error && e.message.includes(refusal),
      key,
    );
  }
  await assert.rejects(
    () => createVerifier("abcd"),
    (e) => e instanceof Error && e.message.includes(refusal),
  );
  // 32 bytes of hex, either case, is accepted.
  const pair = nacl.sign.keyPair();
  const key = await importPublicKey(hex(pair.publicKey).toUpperCase());
  assert.deepStrictEqual(key.algorithm.name, "Ed25519");
  assert.deepStrictEqual(key.usages, ["verify"]);
  assert.deepStrictEqual(key.extractable, false);
});

Deno.test("verify: hexToBytes decodes either case and refuses odd lengths and non-hex digits", () => {
  assert.deepStrictEqual(hexToBytes(""), new Uint8Array(0));
  assert.deepStrictEqual(hexToBytes("00ff7Fa0"), new Uint8Array([0, 255, 127, 160]));
  assert.deepStrictEqual(
    hexToBytes("0123456789abcdefABCDEF"),
    new Uint8Array([1, 35, 69, 103, 137, 171, 205, 239, 171, 205, 239]),
  );
  assert.deepStrictEqual(hexToBytes("0g"), null);
  assert.deepStrictEqual(hexToBytes("g0"), null);
  assert.deepStrictEqual(hexToBytes("abc"), null);
  assert.deepStrictEqual(hexToBytes(" 0"), null);
  assert.deepStrictEqual(hexToBytes("0x"), null);
  // Characters just past the digit and letter ranges, and beyond ASCII.
  for (const c of ["/", ":", "@", "G", "`", "g", "\u00e9", "\u0130"]) {
    assert.deepStrictEqual(hexToBytes(`0${c}`), null, JSON.stringify(c));
    assert.deepStrictEqual(hexToBytes(`${c}0`), null, JSON.stringify(c));
  }
});

Deno.test("verify: the timestamp window is five minutes either side, inclusive", async () => {
  const pair = nacl.sign.keyPair();
  const verifier = await createVerifier(hex(pair.publicKey));
  const ts = "1800000000";
  const body = enc.encode("{}");
  const sig = hex(nacl.sign.detached(enc.encode(ts + "{}"), pair.secretKey));
  const at = (offsetMs: number) => verifier.verify(sig, ts, body, 1_800_000_000_000 + offsetMs);
  const stale = { ok: false, reason: "stale timestamp" } as const;
  assert.deepStrictEqual(await at(300_000), { ok: true });
  assert.deepStrictEqual(await at(-300_000), { ok: true });
  assert.deepStrictEqual(await at(300_001), stale);
  assert.deepStrictEqual(await at(-300_001), stale);
  // The timestamp is digits only (no sign, no exponent, no spaces), 1 to 12 of them.
  const malformed = { ok: false, reason: "malformed timestamp" } as const;
  for (
    const bad of [
      "-1800000000",
      "1.8e9",
      " 1800000000",
      "1800000000 ",
      "0x6B49D200",
      "1".repeat(13),
    ]
  ) {
    assert.deepStrictEqual(
      await verifier.verify(sig, bad, body, 1_800_000_000_000),
      malformed,
      bad,
    );
  }
  assert.deepStrictEqual(await verifier.verify(sig, "", body, 1_800_000_000_000), {
    ok: false,
    reason: "missing timestamp",
  });
  assert.deepStrictEqual(await verifier.verify("", ts, body, 1_800_000_000_000), {
    ok: false,
    reason: "missing signature",
  });
  // 127 or 129 hex digits is malformed, not a failed check.
  for (const s of [sig.slice(1), sig + "0"]) {
    assert.deepStrictEqual(await verifier.verify(s, ts, body, 1_800_000_000_000), {
      ok: false,
      reason: "malformed signature",
    });
  }
});

Deno.test("verify: refuses malleated and degenerate signatures, accepts upper-case hex", async () => {
  const pair = nacl.sign.keyPair();
  const verifier = await createVerifier(hex(pair.publicKey));
  const now = 1_800_000_000_000;
  const ts = String(now / 1000);
  const body = enc.encode('{"type":1}');
  const sig = nacl.sign.detached(enc.encode(ts + '{"type":1}'), pair.secretKey);
  assert.deepStrictEqual(await verifier.verify(hex(sig).toUpperCase(), ts, body, now), {
    ok: true,
  });
  // S + L (the group order) verifies under a lax check; a strict verifier must refuse it.
  const L = hexToBytes("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")!;
  const malleated = sig.slice();
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const sum = malleated[32 + i] + L[i] + carry;
    malleated[32 + i] = sum & 0xff;
    carry = sum >> 8;
  }
  assert.ok(nacl.sign.detached.verify(enc.encode(ts + '{"type":1}'), malleated, pair.publicKey));
  const bad = { ok: false, reason: "bad signature" } as const;
  assert.deepStrictEqual(await verifier.verify(hex(malleated), ts, body, now), bad);
  assert.deepStrictEqual(await verifier.verify("0".repeat(128), ts, body, now), bad);
  assert.deepStrictEqual(await verifier.verify("f".repeat(128), ts, body, now), bad);
  // Not hex, including characters beyond ASCII, is malformed rather than a failed check.
  assert.deepStrictEqual(await verifier.verify("é".repeat(128), ts, body, now), {
    ok: false,
    reason: "malformed signature",
  });
  // Another key's valid signature.
  const other = nacl.sign.keyPair();
  const foreign = hex(nacl.sign.detached(enc.encode(ts + '{"type":1}'), other.secretKey));
  assert.deepStrictEqual(await verifier.verify(foreign, ts, body, now), bad);
});
