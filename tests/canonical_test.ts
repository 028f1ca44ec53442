/** Canonical JSON and SHA-256 (lib/canonical.ts). */
import { assertEquals, assertThrows } from "./_assert.ts";
import { canonicalJson, sha256Hex } from "../lib/canonical.ts";

Deno.test("canonical JSON: sorted keys at every level, undefined dropped, arrays kept", () => {
  assertEquals(
    canonicalJson({ b: 1, a: { d: [3, 1], c: "x" }, u: undefined }),
    '{"a":{"c":"x","d":[3,1]},"b":1}',
  );
  assertEquals(canonicalJson([undefined, null, true]), "[null,null,true]");
  assertEquals(canonicalJson("é\n"), JSON.stringify("é\n"));
  assertThrows(() => canonicalJson({ n: NaN }), TypeError);
  assertThrows(() => canonicalJson({ f: () => 1 }), TypeError);
});

Deno.test("blob: canonical: sha256Hex is the hex SHA-256", async () => {
  assertEquals(
    await sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assertEquals(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
