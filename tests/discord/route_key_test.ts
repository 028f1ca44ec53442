import assert from "node:assert/strict";
import { parseRoute } from "../../lib/discord/route_key.ts";

const G = "200000000000000001";
const U = "300000000000000001";
const R = "400000000000000001";
const TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXQtdG9rZW4tdmFsdWU";

Deno.test("route key: guild id is the major parameter, other ids become :id", () => {
  const r = parseRoute("patch", `/guilds/${G}/members/${U}`);
  assert.deepStrictEqual(r.method, "PATCH");
  assert.deepStrictEqual(r.key, `PATCH /guilds/${G}/members/:id`);
  assert.deepStrictEqual(r.template, "PATCH /guilds/:major/members/:id");
  assert.deepStrictEqual(r.major, G);
  assert.ok(!r.exemptGlobal);
  assert.deepStrictEqual(parseRoute("PATCH", `/guilds/${G}/members/${R}`).key, r.key);
  assert.notDeepStrictEqual(parseRoute("PATCH", `/guilds/${R}/members/${U}`).key, r.key);
});

Deno.test("route key: query strings do not change the route", () => {
  assert.deepStrictEqual(
    parseRoute("GET", `/guilds/${G}/members?limit=1000&after=${U}`).key,
    `GET /guilds/${G}/members`,
  );
});

Deno.test("route key: member role PUT and DELETE share one queue before any hash is known", () => {
  const put = parseRoute("PUT", `/guilds/${G}/members/${U}/roles/${R}`);
  const del = parseRoute("DELETE", `/guilds/${G}/members/${U}/roles/${R}`);
  assert.deepStrictEqual(put.key, del.key);
  assert.deepStrictEqual(put.template, del.template);
  assert.deepStrictEqual(put.label, `PUT /guilds/${G}/members/:id/roles/:id`);
  assert.deepStrictEqual(del.label, `DELETE /guilds/${G}/members/:id/roles/:id`);
});

Deno.test("route key: webhook tokens stay out of keys and labels but split buckets", () => {
  const a = parseRoute("POST", `/webhooks/${G}/${TOKEN}`);
  const b = parseRoute("POST", `/webhooks/${G}/${TOKEN}x`);
  assert.ok(a.exemptGlobal && a.hasToken);
  assert.notDeepStrictEqual(a.key, b.key);
  for (const text of [a.key, a.label, a.template, a.major]) assert.ok(!text.includes(TOKEN));
  assert.deepStrictEqual(a.label, `POST /webhooks/${G}/:token`);
  const edit = parseRoute("PATCH", `/webhooks/${G}/${TOKEN}/messages/@original`);
  assert.deepStrictEqual(edit.template, "PATCH /webhooks/:major/:token/messages/@original");
  assert.ok(edit.exemptGlobal);
  // A webhook without token (bot auth) is not exempt.
  assert.ok(!parseRoute("GET", `/webhooks/${G}`).exemptGlobal);
});

Deno.test("route key: interaction callbacks are exempt from the global limit", () => {
  const r = parseRoute("POST", `/interactions/${U}/${TOKEN}/callback`);
  assert.ok(r.exemptGlobal);
  assert.deepStrictEqual(r.label, `POST /interactions/${U}/:token/callback`);
  assert.ok(!r.key.includes(TOKEN));
});

Deno.test("route key: reactions collapse the emoji", () => {
  const a = parseRoute("PUT", `/channels/${G}/messages/${U}/reactions/%F0%9F%91%8D/@me`);
  const b = parseRoute("PUT", `/channels/${G}/messages/${U}/reactions/foo:123/@me`);
  assert.deepStrictEqual(a.key, b.key);
  assert.deepStrictEqual(a.major, G);
});

Deno.test("route key: routes without a major parameter", () => {
  const r = parseRoute("GET", "/users/@me");
  assert.deepStrictEqual(r.key, "GET /users/@me");
  assert.deepStrictEqual(r.major, "-");
  const cmds = parseRoute("PUT", `/applications/${U}/guilds/${G}/commands`);
  assert.deepStrictEqual(cmds.key, "PUT /applications/:id/guilds/:id/commands");
});
