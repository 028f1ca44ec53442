import { InteractionResponseType, InteractionType } from "discord-api-types/v10";
import nacl from "tweetnacl";
import { verifyKey } from "discord-interactions";
import assert from "node:assert/strict";
import { APP_ID, createTestApp, nextId } from "../_harness.ts";

const ping = () => ({
  id: nextId(),
  application_id: APP_ID,
  type: InteractionType.Ping,
  token: "t",
  version: 1,
});

Deno.test("PING gets PONG", async () => {
  const t = await createTestApp();
  try {
    const res = await t.post(ping());
    assert.deepStrictEqual(res.status, 200);
    assert.deepStrictEqual(await res.json(), { type: InteractionResponseType.Pong });
  } finally {
    await t.close();
  }
});

Deno.test("signature rules: 401 for missing, malformed, wrong and stale", async () => {
  const t = await createTestApp();
  try {
    const body = JSON.stringify(ping());
    const now = Math.floor(t.clock.now() / 1000);
    const cases: [string, Parameters<typeof t.post>[1]][] = [
      ["missing signature", { raw: body, signature: null }],
      ["malformed signature", { raw: body, signature: "zz".repeat(64) }],
      ["short signature", { raw: body, signature: "ab" }],
      ["bad signature", { raw: body, signature: "ab".repeat(64) }],
      ["stale timestamp", { raw: body, timestamp: String(now - 301) }],
      ["future timestamp", { raw: body, timestamp: String(now + 301) }],
      ["malformed timestamp", { raw: body, timestamp: "yesterday" }],
    ];
    for (const [name, opts] of cases) {
      const res = await t.post(undefined, opts);
      assert.deepStrictEqual(res.status, 401, name);
      assert.match((await res.json()).error, /invalid request signature/, name);
    }
    // A signature over a different body (tampered payload) is refused too.
    const sig = await t.keys.sign(new TextEncoder().encode(`${now}${body}`));
    const tampered = await t.post(undefined, {
      raw: body.replace('"t"', '"u"'),
      signature: sig,
      timestamp: String(now),
    });
    assert.deepStrictEqual(tampered.status, 401);
    await tampered.body?.cancel();
    // Within 5 minutes is fine.
    const ok = await t.post(ping(), { timestamp: String(now - 299) });
    assert.deepStrictEqual(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("413 for bodies over 1 MB, before any verification work", async () => {
  const t = await createTestApp();
  try {
    const res = await t.post(undefined, { raw: "x".repeat(1_000_001) });
    assert.deepStrictEqual(res.status, 413);
    await res.body?.cancel();
    // Declared over the cap (nothing read), understated, and streamed without a length.
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      t.handle(new Request("http://bot.test/interactions", { method: "POST", body, headers }));
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 11; i++) controller.enqueue(new Uint8Array(100_000));
        controller.close();
      },
    });
    for (
      const over of [
        await post("{}", { "content-length": "1000001" }),
        await post("x".repeat(1_000_001), { "content-length": "10" }),
        await post(streamed),
      ]
    ) {
      assert.deepStrictEqual([over.status, await over.json()], [413, {
        error: "body larger than 1 MB",
      }]);
    }
  } finally {
    await t.close();
  }
});

Deno.test("400 for invalid JSON and for bodies that are not interactions", async () => {
  const t = await createTestApp();
  try {
    const bad = await t.post(undefined, { raw: "{not json" });
    assert.deepStrictEqual(bad.status, 400);
    assert.match((await bad.json()).error, /JSON/);
    for (
      const payload of [{ hello: "world" }, { ...ping(), type: 99 }, { ...ping(), id: "x" }, [1, 2]]
    ) {
      const res = await t.post(payload);
      assert.deepStrictEqual(res.status, 400, JSON.stringify(payload));
      assert.match((await res.json()).error, /not a Discord interaction/);
    }
    // A command interaction without data is not an interaction either.
    const res = await t.post({
      ...ping(),
      type: InteractionType.ApplicationCommand,
      guild_id: "1",
    });
    assert.deepStrictEqual(res.status, 400);
    await res.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("405 for other methods, with Allow", async () => {
  const t = await createTestApp();
  try {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await t.handle(new Request("http://bot.test/interactions", { method }));
      assert.deepStrictEqual(res.status, 405, method);
      assert.deepStrictEqual(res.headers.get("allow"), "POST");
      await res.body?.cancel();
    }
  } finally {
    await t.close();
  }
});

Deno.test("requests signed by other Ed25519 implementations verify (tweetnacl, discord-interactions)", async () => {
  const pair = nacl.sign.keyPair();
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const t = await createTestApp({ env: { DISCORD_PUBLIC_KEY: hex(pair.publicKey) } });
  try {
    const body = JSON.stringify(ping());
    const timestamp = String(Math.floor(t.clock.now() / 1000));
    const signature = hex(
      nacl.sign.detached(new TextEncoder().encode(timestamp + body), pair.secretKey),
    );
    assert.ok(
      await verifyKey(body, signature, timestamp, hex(pair.publicKey)),
      "reference verifier agrees",
    );
    const res = await t.post(undefined, { raw: body, timestamp, signature });
    assert.deepStrictEqual(res.status, 200);
    await res.body?.cancel();
  } finally {
    await t.close();
  }
});
