import assert from "node:assert/strict";
import { createTestApp } from "../_harness.ts";
import { Routes } from "../../routes/mod.ts";

const TOKEN = "operator-token-0123456789";

Deno.test("routes: a known path with another method is 405 with every method it allows", async () => {
  const t = await createTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const cases: [string, string, string][] = [
      ["GET", "/interactions", "POST"],
      ["DELETE", "/health", "GET, HEAD"],
      ["PUT", "/trigger-sync", "POST"],
      // A parameterised path: its methods, not its neighbours'.
      ["PUT", "/backups/bk_0123456789abcdef", "GET, HEAD, DELETE"],
      ["GET", "/backups/bk_0123456789abcdef/pin", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await t.handle(new Request(`http://bot.test${path}`, { method }));
      assert.deepStrictEqual(
        [res.status, res.headers.get("allow"), await res.json()],
        [405, allow, { error: `method ${method} not allowed` }],
        `${method} ${path}`,
      );
    }
  } finally {
    await t.close();
  }
});

Deno.test("routes: HEAD is answered by the GET route, without a body", async () => {
  const t = await createTestApp();
  try {
    const res = await t.handle(new Request("http://bot.test/health", { method: "HEAD" }));
    assert.deepStrictEqual(res.status, 200);
    assert.deepStrictEqual(await res.text(), "");
  } finally {
    await t.close();
  }
});

Deno.test("routes: unknown paths, a trailing slash and another case are 404 JSON", async () => {
  const t = await createTestApp();
  try {
    for (const path of ["/", "/nope", "/Health", "/backups/download/1"]) {
      const res = await t.handle(new Request(`http://bot.test${path}`));
      assert.deepStrictEqual([res.status, await res.json()], [404, { error: "not found" }], path);
    }
  } finally {
    await t.close();
  }
});

Deno.test("routes: every operator route refuses without the bearer token", async () => {
  const t = await createTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const operator: [string, string][] = [
      ["GET", "/metrics"],
      ["POST", "/status-link"],
      ["GET", "/commands/diff"],
      ["POST", "/commands/sync"],
      ["GET", "/commands/log"],
      ["POST", "/trigger-sync"],
      ["GET", "/sync-status"],
      ["POST", "/stop-sync"],
      ["GET", "/guilds"],
      ["POST", "/linked-roles/register"],
      ["GET", "/linked-roles/status"],
      ["GET", "/backups"],
      ["POST", "/backups"],
      ["GET", "/backups/status"],
      ["POST", "/backups/jobs/capture/stop"],
      ["POST", "/backups/jobs/restore/continue"],
      ["GET", "/backups/bk_0123456789abcdef"],
      ["DELETE", "/backups/bk_0123456789abcdef"],
      ["POST", "/backups/bk_0123456789abcdef/note"],
    ];
    for (const [method, path] of operator) {
      for (const authorization of [undefined, "Bearer wrong-token-wrong-token"]) {
        const res = await t.handle(
          new Request(`http://bot.test${path}`, {
            method,
            headers: authorization ? { authorization } : {},
            body: method === "POST" ? "{}" : undefined,
          }),
        );
        assert.deepStrictEqual(res.status, 401, `${method} ${path} ${authorization}`);
        assert.match((await res.json()).error, /bearer token/);
      }
    }
  } finally {
    await t.close();
  }
});

Deno.test("routes: an operator JSON body over the cap is 413 before the route reads it", async () => {
  const t = await createTestApp({ env: { SYNC_AUTH_TOKEN: TOKEN } });
  try {
    const post = (path: string, size: number) =>
      t.handle(
        new Request(`http://bot.test${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ pad: "x".repeat(size) }),
        }),
      );
    const small = await post("/commands/sync", 5_000);
    assert.deepStrictEqual([small.status, await small.json()], [413, {
      error: "body larger than 4096 bytes",
    }]);
    const big = await post("/trigger-sync", 70_000);
    assert.deepStrictEqual([big.status, await big.json()], [413, {
      error: "body larger than 65536 bytes",
    }]);
    // Under the cap, the route's own validation answers.
    const wrong = await post("/trigger-sync", 10);
    assert.deepStrictEqual(wrong.status, 400);
    assert.deepStrictEqual((await wrong.json()).error, "invalid body");
  } finally {
    await t.close();
  }
});

Deno.test("routes: a route that throws is a logged 500 with no detail in the reply", async () => {
  const kv = await Deno.openKv(":memory:");
  const t = await createTestApp({ kv, env: { SYNC_AUTH_TOKEN: TOKEN } });
  kv.close();
  try {
    const res = await t.handle(
      new Request("http://bot.test/guilds", { headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    assert.deepStrictEqual([res.status, await res.json()], [500, { error: "internal error" }]);
    const line = t.log.lines.find((l) => l.msg === "route failed");
    assert.deepStrictEqual([line?.method, line?.path], ["GET", "/guilds"]);
  } finally {
    await t.close();
  }
});

Deno.test("Routes: parameters are percent-decoded; a parameter never spans a slash", async () => {
  const routes = new Routes();
  routes.on("GET", "/files/:guild/:id", (c) => c.json(c.req.param()));
  const web = routes.close();
  const get = async (path: string) => {
    const res = await web.request(path);
    return [res.status, res.status === 200 ? await res.json() : null];
  };
  assert.deepStrictEqual(await get("/files/1%202/a%2Fb"), [200, { guild: "1 2", id: "a/b" }]);
  assert.deepStrictEqual(await get("/files/1/2/3"), [404, null]);
  assert.deepStrictEqual(await get("/files/1"), [404, null]);
});
