/** gzip in memory (lib/backup/compression.ts): a round trip, and bytes that are not gzip. */
import assert from "node:assert/strict";
import { gunzip, gzip } from "../../lib/backup/compression.ts";

Deno.test("compression: gzip round trip; bytes that are not gzip are refused", async () => {
  const raw = new TextEncoder().encode("x".repeat(100_000));
  const z = await gzip(raw);
  assert.deepStrictEqual(z.length < 1000, true);
  assert.deepStrictEqual(await gunzip(z), raw);
  await assert.rejects(gunzip(raw));
});
