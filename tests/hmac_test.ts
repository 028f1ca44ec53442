import { createHmac as nodeHmac } from "node:crypto";
import { assert, assertEquals } from "./_assert.ts";
import { base64url, createHmac } from "../lib/hmac.ts";

const key = (text: string) => new TextEncoder().encode(text);

Deno.test("hmac: truncated signatures are the base64url of the digest's first bytes", async () => {
  const hmac = createHmac(key("a-32-byte-key-for-the-hmac-test!"));
  const data = "help.page|300000000000000001.0.1|t4k2z9";
  const digest = new Uint8Array(
    nodeHmac("sha256", key("a-32-byte-key-for-the-hmac-test!")).update(data).digest(),
  );
  for (const bytes of [8, 12, 16, 20, 24, 32]) {
    const sig = await hmac.sign(data, bytes);
    assertEquals(sig, base64url(digest.subarray(0, bytes)), `${bytes} bytes`);
    assert(await hmac.verify(data, sig, bytes));
    assert(!(await hmac.verify(`${data}x`, sig, bytes)));
  }
});

Deno.test("hmac: different keys do not verify each other's signatures", async () => {
  const a = createHmac(key("key-a"));
  const b = createHmac(key("key-b"));
  assert((await a.sign("x")) !== (await b.sign("x")));
  assert(!(await b.verify("x", await a.sign("x"))));
});

Deno.test("hmac: a previous key verifies but never signs", async () => {
  const old = createHmac(key("old-key"));
  const rotated = createHmac(key("new-key"), key("old-key"));
  const fresh = createHmac(key("new-key"));
  const oldSig = await old.sign("data", 12);
  assert(await rotated.verify("data", oldSig, 12), "a signature of the previous key verifies");
  assertEquals(await rotated.sign("data", 12), await fresh.sign("data", 12), "signs with the new");
  assert(!(await fresh.verify("data", oldSig, 12)), "without the previous key it is refused");
  assert(!(await rotated.verify("other", oldSig, 12)));
});
