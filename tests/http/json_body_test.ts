import assert from "node:assert/strict";
import { Hono } from "hono";
import { jsonBody, limitBody, parseBody } from "../../lib/http/json_body.ts";

const LIMIT = 1_000;

/** An app that echoes what `jsonBody` read behind a `LIMIT`-byte cap. */
const web = new Hono().post("/", limitBody(LIMIT), async (c) => c.json(await jsonBody(c)));

async function post(body: BodyInit | null, headers: Record<string, string> = {}) {
  const res = await web.request("/", { method: "POST", body, headers });
  return { status: res.status, body: await res.json() };
}

Deno.test("jsonBody: a JSON body, an empty one as {}, and what is not JSON", async () => {
  assert.deepStrictEqual(await post('{"force":true}'), {
    status: 200,
    body: { ok: true, value: { force: true } },
  });
  assert.deepStrictEqual(await post(null), { status: 200, body: { ok: true, value: {} } });
  assert.deepStrictEqual(await post(""), { status: 200, body: { ok: true, value: {} } });
  assert.deepStrictEqual(await post("{force:"), {
    status: 200,
    body: { ok: false, error: "body is not valid JSON" },
  });
});

Deno.test("limitBody: 413 over the cap, declared or streamed, with a JSON error", async () => {
  const over = { status: 413, body: { error: `body larger than ${LIMIT} bytes` } };
  assert.deepStrictEqual(await post("x".repeat(LIMIT + 1)), over);
  assert.deepStrictEqual(await post('"x"', { "content-length": "5000" }), over);
  const streamed = (size: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < size; sent += 100) {
          controller.enqueue(new TextEncoder().encode(" ".repeat(Math.min(100, size - sent))));
        }
        controller.close();
      },
    });
  assert.deepStrictEqual(await post(streamed(5_000)), over);
  // At the cap exactly, streamed: read whole (all spaces is not JSON, which says it was read).
  assert.deepStrictEqual(await post(streamed(LIMIT)), {
    status: 200,
    body: { ok: false, error: "body is not valid JSON" },
  });
});

Deno.test("limitBody: a served chunked body behind a small Content-Length is still capped", async () => {
  // Both framing headers (request smuggling's shape): the server frames by chunks, so the
  // declared length must not be what the cap trusts.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, web.fetch);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    const chunk = "x".repeat(2_000);
    const request = "POST / HTTP/1.1\r\nhost: bot.test\r\ncontent-length: 10\r\n" +
      "transfer-encoding: chunked\r\nconnection: close\r\n\r\n" +
      `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    let reply = "";
    const buffer = new Uint8Array(4096);
    try {
      for (let n; (n = await conn.read(buffer)) !== null;) {
        reply += new TextDecoder().decode(buffer.subarray(0, n));
      }
    } catch {
      // The server may reset the connection over the body it did not read.
    }
    // Either the server refuses the request outright or the cap does; never a 200.
    assert.ok(!reply.startsWith("HTTP/1.1 200"), reply.slice(0, 40));
    if (reply.startsWith("HTTP/1.1 413")) assert.match(reply, /body larger than 1000 bytes/);
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("parseBody: the value, or a 400 naming each issue, or the route's own message", async () => {
  const { z } = await import("zod");
  const schema = z.strictObject({ force: z.boolean().optional(), n: z.number().int() });
  const app = new Hono()
    .post("/issues", async (c) => {
      const r = await parseBody(c, schema);
      return r.ok ? c.json({ value: r.value }) : r.res;
    })
    .post("/message", async (c) => {
      const r = await parseBody(c, schema, "body must be {n}");
      return r.ok ? c.json({ value: r.value }) : r.res;
    });
  const post = async (path: string, body: string) => {
    const res = await app.request(path, { method: "POST", body });
    return [res.status, await res.json()];
  };
  assert.deepStrictEqual(await post("/issues", '{"n":2}'), [200, { value: { n: 2 } }]);
  const [status, refused] = await post("/issues", '{"n":1.5,"extra":1}');
  assert.deepStrictEqual([status, refused.error], [400, "invalid body"]);
  assert.deepStrictEqual(refused.issues.length, 2);
  assert.match(refused.issues.join("\n"), /^n: /m);
  assert.match(refused.issues.join("\n"), /^body: .*extra/m);
  assert.deepStrictEqual(await post("/message", "{}"), [400, { error: "body must be {n}" }]);
  assert.deepStrictEqual(await post("/message", "{n:"), [400, {
    error: "body is not valid JSON",
  }]);
});
