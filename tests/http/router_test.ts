import { assertEquals, assertRejects, assertStrictEquals } from "../_assert.ts";
import { type RouteContext, Router } from "../../lib/http/router.ts";

/** A handler that answers which route it is, with the context it was given. */
const answer = (name: string) => (req: Request, ctx: RouteContext) =>
  Response.json({ name, method: req.method, params: ctx.params, remote: ctx.remote ?? null });

const call = async (router: Router, method: string, path: string, remote?: string) => {
  const res = await router.handle(new Request(`http://bot.test${path}`, { method }), remote);
  return { status: res.status, allow: res.headers.get("allow"), body: await res.json() };
};

Deno.test("router: exact paths match by method and path only (not the query)", async () => {
  const router = new Router()
    .on("GET", "/health", answer("health"))
    .on("POST", "/interactions", answer("interactions"));
  assertEquals(await call(router, "GET", "/health?verbose=1"), {
    status: 200,
    allow: null,
    body: { name: "health", method: "GET", params: {}, remote: null },
  });
  assertEquals((await call(router, "POST", "/interactions")).body.name, "interactions");
  // Paths are case-sensitive and a trailing slash is another path.
  assertEquals((await call(router, "GET", "/Health")).status, 404);
  assertEquals((await call(router, "GET", "/health/")).status, 404);
});

Deno.test("router: the handler gets the parsed URL and the remote address", async () => {
  const router = new Router();
  let seen: RouteContext | undefined;
  router.on("GET", "/x", (_req, ctx) => {
    seen = ctx;
    return new Response("ok");
  });
  await router.handle(new Request("http://bot.test/x?guild=1"), "10.0.0.7");
  assertEquals(seen?.url.searchParams.get("guild"), "1");
  assertEquals(seen?.url.pathname, "/x");
  assertEquals(seen?.remote, "10.0.0.7");
});

Deno.test("router: parameters are captured, one path segment each, as sent", async () => {
  const router = new Router()
    .on("GET", "/backups/download/:guild/:id", answer("download"))
    .on("GET", "/files/*", answer("files"));
  assertEquals((await call(router, "GET", "/backups/download/123/bk01")).body.params, {
    guild: "123",
    id: "bk01",
  });
  // A parameter never spans a slash; a missing one is no match.
  assertEquals((await call(router, "GET", "/backups/download/123/bk01/x")).status, 404);
  assertEquals((await call(router, "GET", "/backups/download/123")).status, 404);
  assertEquals((await call(router, "GET", "/backups/download/123/")).status, 404);
  // Values are not percent-decoded: a handler sees the path as sent.
  assertEquals((await call(router, "GET", "/backups/download/1%202/a%2Fb")).body.params, {
    guild: "1%202",
    id: "a%2Fb",
  });
  // A wildcard takes the rest of the path, slashes included.
  assertEquals((await call(router, "GET", "/files/a/b/c.txt")).body.params, { "0": "a/b/c.txt" });
});

Deno.test("router: an exact path wins over a pattern; patterns are tried in registration order", async () => {
  const router = new Router()
    .on("GET", "/jobs/:kind", answer("first pattern"))
    .on("GET", "/jobs/latest", answer("exact"))
    .on("GET", "/:any/:other", answer("second pattern"));
  assertEquals((await call(router, "GET", "/jobs/latest")).body.name, "exact");
  assertEquals((await call(router, "GET", "/jobs/sync")).body, {
    name: "first pattern",
    method: "GET",
    params: { kind: "sync" },
    remote: null,
  });
  assertEquals((await call(router, "GET", "/other/sync")).body.params, {
    any: "other",
    other: "sync",
  });
});

Deno.test("router: several methods on one path, given together or route by route", async () => {
  const router = new Router()
    .on(["get", "POST"], "/config", answer("config"))
    .on("DELETE", "/config", answer("config delete"))
    .on("PUT", "/items/:id", answer("put item"))
    .on("DELETE", "/items/:id", answer("delete item"));
  assertEquals((await call(router, "GET", "/config")).body.name, "config");
  assertEquals((await call(router, "POST", "/config")).body.name, "config");
  assertEquals((await call(router, "DELETE", "/config")).body.name, "config delete");
  assertEquals((await call(router, "PUT", "/items/7")).body.name, "put item");
  assertEquals((await call(router, "DELETE", "/items/7")).body, {
    name: "delete item",
    method: "DELETE",
    params: { id: "7" },
    remote: null,
  });
  // Registering a method again replaces its handler.
  router.on("GET", "/config", answer("config v2"));
  assertEquals((await call(router, "GET", "/config")).body.name, "config v2");
  assertEquals((await call(router, "POST", "/config")).body.name, "config");
});

Deno.test("router: unknown paths are 404 with a JSON error", async () => {
  const router = new Router().on("GET", "/health", answer("health")).on(
    "GET",
    "/items/:id",
    answer("item"),
  );
  for (const path of ["/", "/nope", "/items", "/items/1/2"]) {
    const res = await router.handle(new Request(`http://bot.test${path}`));
    assertEquals(res.status, 404, path);
    assertEquals(res.headers.get("content-type"), "application/json; charset=utf-8");
    assertEquals(await res.json(), { error: "not found" });
  }
});

Deno.test("router: a known path with another method is 405 with an Allow header", async () => {
  const router = new Router()
    .on(["GET", "POST"], "/config", answer("config"))
    .on("PUT", "/items/:id", answer("item"))
    .on("DELETE", "/items/:id", answer("item"));
  assertEquals(await call(router, "DELETE", "/config"), {
    status: 405,
    allow: "GET, POST",
    body: { error: "method DELETE not allowed" },
  });
  assertEquals(await call(router, "GET", "/items/1"), {
    status: 405,
    allow: "PUT, DELETE",
    body: { error: "method GET not allowed" },
  });
  // HEAD without a GET handler is refused too.
  const head = await router.handle(new Request("http://bot.test/items/1", { method: "HEAD" }));
  assertEquals([head.status, head.headers.get("allow")], [405, "PUT, DELETE"]);
});

Deno.test("router: HEAD is served by the GET handler unless it has its own", async () => {
  let got: string | undefined;
  const router = new Router()
    .on("GET", "/page", (req) => {
      got = req.method;
      return new Response("page", { headers: { "x-route": "get" } });
    })
    .on("GET", "/both", () => new Response("get"))
    .on("HEAD", "/both", () => new Response(null, { status: 204 }));
  const head = await router.handle(new Request("http://bot.test/page", { method: "HEAD" }));
  assertEquals([head.status, head.headers.get("x-route"), got], [200, "get", "HEAD"]);
  const own = await router.handle(new Request("http://bot.test/both", { method: "HEAD" }));
  assertEquals(own.status, 204);
});

Deno.test("router: a handler's response and its rejection pass through unchanged", async () => {
  const sent = new Response("teapot", { status: 418 });
  const router = new Router()
    .on("GET", "/tea", () => sent)
    .on("GET", "/fail", () => Promise.reject(new Error("boom")));
  assertStrictEquals(await router.handle(new Request("http://bot.test/tea")), sent);
  await assertRejects(() => router.handle(new Request("http://bot.test/fail")), Error, "boom");
});
