import { assertEquals } from "../_assert.ts";
import { httpError, json } from "../../lib/http/response.ts";

const JSON_TYPE = "application/json; charset=utf-8";

Deno.test("json: serialises the body, 200 and a JSON content type by default", async () => {
  const res = json({ ok: true, n: [1, 2], s: "é" });
  assertEquals(res.status, 200);
  assertEquals([...res.headers], [["content-type", JSON_TYPE]]);
  assertEquals(await res.text(), '{"ok":true,"n":[1,2],"s":"é"}');
});

Deno.test("json: takes a status and extra headers, which may override the content type", async () => {
  const res = json([1], 202, { "retry-after": "5", "x-extra": "1" });
  assertEquals(res.status, 202);
  assertEquals(res.headers.get("content-type"), JSON_TYPE);
  assertEquals(res.headers.get("retry-after"), "5");
  assertEquals(res.headers.get("x-extra"), "1");
  assertEquals(await res.json(), [1]);
  const custom = json(null, 200, { "content-type": "application/problem+json" });
  assertEquals(custom.headers.get("content-type"), "application/problem+json");
  assertEquals(await custom.text(), "null");
});

Deno.test("json: responses do not share a mutable headers object", () => {
  const a = json({});
  a.headers.set("x-a", "1");
  const b = json({});
  assertEquals(b.headers.get("x-a"), null);
  assertEquals(b.headers.get("content-type"), JSON_TYPE);
});

Deno.test("httpError: {error, ...detail} with the status", async () => {
  const res = httpError(409, "already running", { status: { chunk: 3 }, pinned: true });
  assertEquals(res.status, 409);
  assertEquals(res.headers.get("content-type"), JSON_TYPE);
  assertEquals(await res.json(), { error: "already running", status: { chunk: 3 }, pinned: true });
  const plain = httpError(404, "not found");
  assertEquals([plain.status, await plain.json()], [404, { error: "not found" }]);
});
