import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { DISABLED, operatorAuth } from "../../lib/http/operator.ts";

const TOKEN = "op-token-0123456789abcdef";

/** A one-route app behind the guard, answering as routes/mod.ts does when the guard throws. */
function guarded(token: string | undefined) {
  const web = new Hono();
  web.post("/x", operatorAuth(token), (c) => c.json({ ok: true }));
  web.onError((e, c) => e instanceof HTTPException ? e.getResponse() : c.text("boom", 500));
  return async (authorization?: string) => {
    const res = await web.request("/x", {
      method: "POST",
      headers: authorization === undefined ? {} : { authorization },
    });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      challenge: res.headers.get("www-authenticate") !== null,
      body: await res.json(),
    };
  };
}

const refused = (error: string) => ({
  status: 401,
  type: "application/json",
  challenge: true,
  body: { error },
});

Deno.test("operatorAuth: the right token passes, whatever the scheme's case and spacing", async () => {
  const call = guarded(TOKEN);
  for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER   ${TOKEN}`]) {
    assert.deepStrictEqual((await call(header)).body, { ok: true }, header);
  }
});

Deno.test("operatorAuth: a missing header or another scheme is 401 'missing bearer token'", async () => {
  const call = guarded(TOKEN);
  for (
    const header of [undefined, "", TOKEN, `Basic ${TOKEN}`, `Token ${TOKEN}`, `Bearer${TOKEN}`]
  ) {
    const got = await call(header);
    // An empty header is no header: the challenge is still sent.
    assert.deepStrictEqual(got, refused("missing bearer token"), String(header));
  }
  for (const header of ["Bearer", "Bearer   "]) {
    assert.deepStrictEqual((await call(header)).body, { error: "missing bearer token" }, header);
  }
});

Deno.test("operatorAuth: a wrong token is 401 'invalid bearer token'", async () => {
  const call = guarded(TOKEN);
  for (
    const token of [
      "wrong-token",
      TOKEN.slice(0, -1),
      TOKEN + "0",
      TOKEN.toUpperCase(),
      `${TOKEN} ${TOKEN}`,
      "not;a:token68",
    ]
  ) {
    assert.deepStrictEqual(await call(`Bearer ${token}`), refused("invalid bearer token"), token);
  }
});

Deno.test("operatorAuth: without a configured token every request is refused (fail closed)", async () => {
  for (const token of [undefined, ""]) {
    const call = guarded(token);
    for (const header of [undefined, "Bearer ", "Bearer x", `Bearer ${TOKEN}`]) {
      const got = await call(header);
      assert.deepStrictEqual([got.status, got.body], [401, { error: DISABLED }], String(header));
    }
  }
});
