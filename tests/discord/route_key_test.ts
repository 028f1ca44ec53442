import { assert, assertEquals, assertFalse, assertNotEquals } from "../_assert.ts";
import { parseRoute } from "../../lib/discord/route_key.ts";

const G = "200000000000000001";
const U = "300000000000000001";
const R = "400000000000000001";
const TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXQtdG9rZW4tdmFsdWU";

Deno.test("route key: guild id is the major parameter, other ids become :id", () => {
  const r = parseRoute("patch", `/guilds/${G}/members/${U}`);
  assertEquals(r.method, "PATCH");
  assertEquals(r.key, `PATCH /guilds/${G}/members/:id`);
  assertEquals(r.template, "PATCH /guilds/:major/members/:id");
  assertEquals(r.major, G);
  assertFalse(r.exemptGlobal);
  assertEquals(parseRoute("PATCH", `/guilds/${G}/members/${R}`).key, r.key);
  assertNotEquals(parseRoute("PATCH", `/guilds/${R}/members/${U}`).key, r.key);
});

Deno.test("route key: query strings do not change the route", () => {
  assertEquals(
    parseRoute("GET", `/guilds/${G}/members?limit=1000&after=${U}`).key,
    `GET /guilds/${G}/members`,
  );
});

Deno.test("route key: member role PUT and DELETE share one queue before any hash is known", () => {
  const put = parseRoute("PUT", `/guilds/${G}/members/${U}/roles/${R}`);
  const del = parseRoute("DELETE", `/guilds/${G}/members/${U}/roles/${R}`);
  assertEquals(put.key, del.key);
  assertEquals(put.template, del.template);
  assertEquals(put.label, `PUT /guilds/${G}/members/:id/roles/:id`);
  assertEquals(del.label, `DELETE /guilds/${G}/members/:id/roles/:id`);
});

Deno.test("route key: webhook tokens stay out of keys and labels but split buckets", () => {
  const a = parseRoute("POST", `/webhooks/${G}/${TOKEN}`);
  const b = parseRoute("POST", `/webhooks/${G}/${TOKEN}x`);
  assert(a.exemptGlobal && a.hasToken);
  assertNotEquals(a.key, b.key);
  for (const text of [a.key, a.label, a.template, a.major]) assertFalse(text.includes(TOKEN));
  assertEquals(a.label, `POST /webhooks/${G}/:token`);
  const edit = parseRoute("PATCH", `/webhooks/${G}/${TOKEN}/messages/@original`);
  assertEquals(edit.template, "PATCH /webhooks/:major/:token/messages/@original");
  assert(edit.exemptGlobal);
  // A webhook without token (bot auth) is not exempt.
  assertFalse(parseRoute("GET", `/webhooks/${G}`).exemptGlobal);
});

Deno.test("route key: interaction callbacks are exempt from the global limit", () => {
  const r = parseRoute("POST", `/interactions/${U}/${TOKEN}/callback`);
  assert(r.exemptGlobal);
  assertEquals(r.label, `POST /interactions/${U}/:token/callback`);
  assertFalse(r.key.includes(TOKEN));
});

Deno.test("route key: reactions collapse the emoji", () => {
  const a = parseRoute("PUT", `/channels/${G}/messages/${U}/reactions/%F0%9F%91%8D/@me`);
  const b = parseRoute("PUT", `/channels/${G}/messages/${U}/reactions/foo:123/@me`);
  assertEquals(a.key, b.key);
  assertEquals(a.major, G);
});

Deno.test("route key: routes without a major parameter", () => {
  const r = parseRoute("GET", "/users/@me");
  assertEquals(r.key, "GET /users/@me");
  assertEquals(r.major, "-");
  const cmds = parseRoute("PUT", `/applications/${U}/guilds/${G}/commands`);
  assertEquals(cmds.key, "PUT /applications/:id/guilds/:id/commands");
});
