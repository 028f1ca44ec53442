import assert from "node:assert/strict";
import { Hono } from "hono";
import { requestedGuildOf } from "../../lib/http/requested_guild.ts";

const GUILD = "100000000000000001";
const OTHER = "100000000000000002";

/** An app that echoes the guild `requestedGuildOf` chose, with `fallback` as the default. */
function web(fallback: string | undefined) {
  return new Hono().get("/", (c) => {
    const guild = requestedGuildOf(c, fallback);
    return guild instanceof Response ? guild : c.json({ guild });
  });
}

async function get(fallback: string | undefined, query = "") {
  const res = await web(fallback).request(`/${query}`);
  return { status: res.status, body: await res.json() };
}

Deno.test("requestedGuildOf: ?guild= wins over the default, the default stands in", async () => {
  assert.deepStrictEqual(await get(GUILD, `?guild=${OTHER}`), {
    status: 200,
    body: { guild: OTHER },
  });
  assert.deepStrictEqual(await get(undefined, `?guild=${OTHER}`), {
    status: 200,
    body: { guild: OTHER },
  });
  assert.deepStrictEqual(await get(GUILD), { status: 200, body: { guild: GUILD } });
});

Deno.test("requestedGuildOf: a malformed ?guild= or no guild at all is a 400", async () => {
  assert.deepStrictEqual(await get(GUILD, "?guild=123"), {
    status: 400,
    body: { error: "guild must be a Discord id" },
  });
  assert.deepStrictEqual(await get(GUILD, "?guild="), {
    status: 400,
    body: { error: "guild must be a Discord id" },
  });
  assert.deepStrictEqual(await get(undefined), {
    status: 400,
    body: { error: "no guild: pass ?guild=<id> or set DISCORD_GUILD_ID" },
  });
});
