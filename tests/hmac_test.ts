/** HMAC-SHA256 signing (lib/hmac.ts): known answers, node:crypto agreement, truncation, rotation. */
import { Buffer } from "node:buffer";
import { createHmac as nodeHmac } from "node:crypto";
import assert from "node:assert/strict";
import { base64url, createHmac } from "../lib/hmac.ts";

const key = (text: string) => new TextEncoder().encode(text);
const hexToBase64url = (hex: string) => Buffer.from(hex, "hex").toString("base64url");

Deno.test("hmac: RFC 4231 test cases 1, 2, 6 and 7 (short, text and longer-than-block keys)", async () => {
  const long = new Uint8Array(131).fill(0xaa);
  const cases: [Uint8Array, string, string][] = [
    [
      new Uint8Array(20).fill(0x0b),
      "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      key("Jefe"),
      "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      long,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      long,
      "This is a test using a larger than block-size key and a larger than block-size data. The key " +
      "needs to be hashed before being used by the HMAC algorithm.",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [k, data, mac] of cases) {
    const hmac = createHmac(k);
    assert.equal(await hmac.sign(data), hexToBase64url(mac), data);
    assert.ok(await hmac.verify(data, hexToBase64url(mac)), data);
  }
});

Deno.test("hmac: equal to node:crypto for key and message lengths around the block edges", async () => {
  const text = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => String.fromCharCode(33 + (i * 7 + seed) % 90)).join("");
  for (const keyLen of [0, 1, 16, 63, 64, 65, 100, 200]) {
    const k = crypto.getRandomValues(new Uint8Array(keyLen));
    const hmac = createHmac(k);
    // 256 and above take the TextEncoder path of utf8(); "é" makes a non-ASCII message.
    for (const len of [0, 1, 40, 55, 56, 63, 64, 65, 119, 120, 128, 255, 256, 300]) {
      for (const data of [text(len, keyLen), `${text(len, keyLen)}é`]) {
        assert.equal(
          await hmac.sign(data),
          nodeHmac("sha256", k).update(data).digest("base64url"),
          `key ${keyLen}, message ${data.length}`,
        );
      }
    }
  }
});

Deno.test("hmac: one key's MACs do not leak into the next message's or another key's", async () => {
  const a = createHmac(key("key-a"));
  const b = createHmac(key("key-b"));
  const first = await a.sign("one");
  await a.sign("two");
  await b.sign("one");
  assert.equal(await a.sign("one"), first);
  assert.equal(first, nodeHmac("sha256", "key-a").update("one").digest("base64url"));
});

Deno.test("hmac: truncated signatures are the base64url of the digest's first bytes", async () => {
  const hmac = createHmac(key("a-32-byte-key-for-the-hmac-test!"));
  const data = "help.page|300000000000000001.0.1|t4k2z9";
  const digest = new Uint8Array(
    nodeHmac("sha256", key("a-32-byte-key-for-the-hmac-test!")).update(data).digest(),
  );
  for (const bytes of [8, 12, 16, 20, 24, 32]) {
    const sig = await hmac.sign(data, bytes);
    assert.equal(sig, base64url(digest.subarray(0, bytes)), `${bytes} bytes`);
    assert.ok(await hmac.verify(data, sig, bytes));
    assert.ok(!(await hmac.verify(`${data}x`, sig, bytes)));
  }
});

Deno.test("hmac: verify accepts exactly the signature sign gives, character for character", async () => {
  const hmac = createHmac(key("a-32-byte-key-for-the-hmac-test!"));
  const data = "help.page|300000000000000001.0.1|t4k2z9";
  const others = [
    ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .é\u0100",
  ];
  for (let bytes = 0; bytes <= 32; bytes++) {
    const sig = await hmac.sign(data, bytes);
    assert.ok(await hmac.verify(data, sig, bytes), `${bytes} bytes`);
    assert.ok(!(await hmac.verify(data, `${sig}A`, bytes)), `${bytes} bytes, one character more`);
    if (bytes) assert.ok(!(await hmac.verify(data, sig.slice(0, -1), bytes)), `${bytes}, shorter`);
    for (let j = 0; j < sig.length; j++) {
      for (const c of others) {
        if (c === sig[j]) continue;
        const forged = sig.slice(0, j) + c + sig.slice(j + 1);
        assert.ok(!(await hmac.verify(data, forged, bytes)), `${bytes} bytes, ${forged}`);
      }
    }
  }
  // Asking for more than the digest's 32 bytes gives the whole digest, as before.
  assert.equal(await hmac.sign(data, 40), await hmac.sign(data));
  assert.ok(await hmac.verify(data, await hmac.sign(data), 40));
});

Deno.test("hmac: base64url is unpadded RFC 4648 base64url for every tail length", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(40));
  for (let n = 0; n <= bytes.length; n++) {
    assert.equal(
      base64url(bytes.subarray(0, n)),
      Buffer.from(bytes.subarray(0, n)).toString("base64url"),
    );
  }
});

Deno.test("hmac: different keys do not verify each other's signatures", async () => {
  const a = createHmac(key("key-a"));
  const b = createHmac(key("key-b"));
  assert.notEqual(await a.sign("x"), await b.sign("x"));
  assert.ok(!(await b.verify("x", await a.sign("x"))));
});

Deno.test("hmac: a previous key verifies but never signs", async () => {
  const old = createHmac(key("old-key"));
  const rotated = createHmac(key("new-key"), key("old-key"));
  const fresh = createHmac(key("new-key"));
  const oldSig = await old.sign("data", 12);
  assert.ok(await rotated.verify("data", oldSig, 12), "a signature of the previous key verifies");
  assert.equal(await rotated.sign("data", 12), await fresh.sign("data", 12), "signs with the new");
  assert.ok(!(await fresh.verify("data", oldSig, 12)), "without the previous key it is refused");
  assert.ok(!(await rotated.verify("other", oldSig, 12)));
});
