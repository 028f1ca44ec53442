import { createHmac as nodeHmac } from "node:crypto";
import { assert, assertEquals } from "./_assert.ts";
import { base64url, createHmac } from "../lib/hmac.ts";

Deno.test("hmac: truncated signatures are the base64url of the digest's first bytes", async () => {
  const hmac = await createHmac("secret", "purpose");
  const data = "help.page|300000000000000001.0.1|t4k2z9";
  const digest = new Uint8Array(
    nodeHmac("sha256", new TextEncoder().encode("purpose\0secret")).update(data).digest(),
  );
  for (const bytes of [8, 12, 16, 20, 24, 32]) {
    const sig = await hmac.sign(data, bytes);
    assertEquals(sig, base64url(digest.subarray(0, bytes)), `${bytes} bytes`);
    assert(await hmac.verify(data, sig, bytes));
    assert(!(await hmac.verify(`${data}x`, sig, bytes)));
  }
});

Deno.test("hmac: a key per purpose", async () => {
  const a = await createHmac("secret", "links");
  const b = await createHmac("secret", "custom-id");
  assert((await a.sign("x")) !== (await b.sign("x")));
  assert(!(await b.verify("x", await a.sign("x"))));
});
