import { assertEquals } from "../_assert.ts";
import { PayloadTooLarge, readLimited } from "../../lib/http/body.ts";

const LIMIT = 1_000;

async function outcome(read: Promise<Uint8Array>): Promise<number | "too large"> {
  try {
    return (await read).length;
  } catch (error) {
    if (error instanceof PayloadTooLarge) return "too large";
    throw error;
  }
}

Deno.test("readLimited: in-process requests are held to the limit whatever their headers say", async () => {
  const body = "x".repeat(LIMIT + 1);
  const post = (headers: Record<string, string>, b: BodyInit = body) =>
    new Request("http://bot.test/", { method: "POST", headers, body: b });
  assertEquals(await outcome(readLimited(post({ "content-length": "5000" }), LIMIT)), "too large");
  // A header that understates the body: the whole-body read is checked after the fact.
  assertEquals(await outcome(readLimited(post({ "content-length": "10" }), LIMIT)), "too large");
  assertEquals(await outcome(readLimited(post({}), LIMIT)), "too large");
  assertEquals(
    await outcome(
      readLimited(post({ "content-length": "10", "transfer-encoding": "chunked" }), LIMIT),
    ),
    "too large",
  );
  assertEquals(await outcome(readLimited(post({ "content-length": "3" }, "abc"), LIMIT)), 3);
  assertEquals(
    await outcome(readLimited(new Request("http://bot.test/", { method: "GET" }), LIMIT)),
    0,
  );
});

Deno.test("readLimited: served requests, with a Content-Length or chunked, in and over the limit", async () => {
  const seen: (number | "too large")[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    seen.push(await outcome(readLimited(req, LIMIT)));
    return new Response("ok");
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const chunked = (size: number) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < size; sent += 100) {
          controller.enqueue(new Uint8Array(Math.min(100, size - sent)));
        }
        controller.close();
      },
    });
  try {
    for (const body of ["x".repeat(LIMIT), "x".repeat(LIMIT + 1), chunked(LIMIT), chunked(5_000)]) {
      const res = await fetch(url, { method: "POST", body });
      await res.body?.cancel();
    }
  } finally {
    await server.shutdown();
  }
  assertEquals(seen, [LIMIT, "too large", LIMIT, "too large"]);
});

Deno.test("readLimited: a chunked body behind a small Content-Length is still capped", async () => {
  // Both framing headers (request smuggling's shape): the server frames by chunks, so the declared
  // length must not be trusted for the whole-body read.
  const seen: (number | "too large")[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    seen.push(await outcome(readLimited(req, LIMIT)));
    return new Response("ok");
  });
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
    // Either the server refuses the request outright or the handler refuses the body.
    if (reply.startsWith("HTTP/1.1 200")) assertEquals(seen, ["too large"]);
    else assertEquals(seen, []);
  } finally {
    await server.shutdown();
  }
});
