import { createHash, createHmac } from "node:crypto";
import { assertEquals } from "./_assert.ts";
import { hmacSha256, sha256 } from "../lib/sha256.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("sha256: known answers (FIPS 180-4 examples)", () => {
  const enc = new TextEncoder();
  assertEquals(
    hex(sha256(enc.encode(""))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    hex(sha256(enc.encode("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    hex(sha256(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256 and hmac: equal to node:crypto for every length around the block edges", () => {
  const bytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  for (let len = 0; len <= 200; len++) {
    const msg = bytes(len);
    assertEquals(hex(sha256(msg)), createHash("sha256").update(msg).digest("hex"), `len ${len}`);
  }
  for (const keyLen of [0, 1, 16, 63, 64, 65, 100, 200]) {
    const key = bytes(keyLen);
    const mac = hmacSha256(key);
    for (const len of [0, 1, 40, 55, 56, 63, 64, 65, 119, 120, 128, 300]) {
      const msg = bytes(len);
      assertEquals(
        hex(mac(msg)),
        createHmac("sha256", key).update(msg).digest("hex"),
        `key ${keyLen}, msg ${len}`,
      );
    }
  }
});

Deno.test("hmac: RFC 4231 test case 2", () => {
  const enc = new TextEncoder();
  assertEquals(
    hex(hmacSha256(enc.encode("Jefe"))(enc.encode("what do ya want for nothing?"))),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});
