/**
 * lib/discord/guild_roles.ts: the guild, its roles and the bot member in 3 calls (plus
 * `/users/@me` the first time), the member count only when asked, and the bot's standing.
 */
import assert from "node:assert/strict";
import { readGuildRoles } from "../../lib/discord/guild_roles.ts";
import { RestClient } from "../../lib/discord/rest.ts";

const APP = "100000000000000001";
const BOT = "100000000000000002";
const OWNER = "100000000000000003";
const G = "200000000000000001";
const ROLE = "300000000000000001";

/** A Discord answering the four reads, recording each request as "METHOD path?query". */
function fakeDiscord(owner = OWNER) {
  const calls: string[] = [];
  const answer = (path: string): unknown => {
    if (path === "/users/@me") return { id: BOT, username: "bot" };
    if (path === `/guilds/${G}`) {
      return { id: G, name: "g", owner_id: owner, approximate_member_count: 42 };
    }
    if (path === `/guilds/${G}/roles`) {
      const role = (id: string, position: number) => ({ id, position, permissions: "0" });
      return [role(G, 0), role(ROLE, 1)];
    }
    if (path === `/guilds/${G}/members/${BOT}`) return { user: { id: BOT }, roles: [ROLE] };
    return undefined;
  };
  const fetch: typeof globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const path = url.pathname.replace(/^\/api\/v10/, "");
    calls.push(`${init?.method ?? "GET"} ${path}${url.search}`);
    const body = answer(path);
    return Promise.resolve(
      body === undefined
        ? new Response(JSON.stringify({ message: "Unknown", code: 0 }), { status: 404 })
        : Response.json(body),
    );
  };
  const rest = new RestClient({ token: "t", apiBase: "https://discord.test/api/v10", fetch });
  return { calls, rest };
}

Deno.test("guild roles: 3 reads plus /users/@me once, then the cached bot id", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { calls, rest } = fakeDiscord();
    const first = await readGuildRoles({ kv, rest }, APP, G);
    assert.deepStrictEqual(calls.toSorted(), [
      `GET /guilds/${G}`,
      `GET /guilds/${G}/members/${BOT}`,
      `GET /guilds/${G}/roles`,
      "GET /users/@me",
    ]);
    assert.equal(first.botUserId, BOT);
    assert.deepStrictEqual(first.botRoles, [ROLE]);
    assert.deepStrictEqual(first.roles.map((r) => r.id), [G, ROLE]);
    assert.equal(first.guild.id, G);
    assert.equal(first.botIsOwner, false);

    calls.length = 0;
    await readGuildRoles({ kv, rest }, APP, G);
    assert.equal(calls.length, 3);
    assert.ok(!calls.includes("GET /users/@me"));
  } finally {
    kv.close();
  }
});

Deno.test("guild roles: the member count is asked for only with withCounts", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { calls, rest } = fakeDiscord();
    await readGuildRoles({ kv, rest }, APP, G, { withCounts: true });
    assert.ok(calls.includes(`GET /guilds/${G}?with_counts=true`), calls.join(", "));
    calls.length = 0;
    await readGuildRoles({ kv, rest }, APP, G);
    assert.ok(calls.includes(`GET /guilds/${G}`), calls.join(", "));
  } finally {
    kv.close();
  }
});

Deno.test("guild roles: a bot that owns the guild is told so", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { rest } = fakeDiscord(BOT);
    assert.equal((await readGuildRoles({ kv, rest }, APP, G)).botIsOwner, true);
  } finally {
    kv.close();
  }
});

Deno.test("guild roles: an aborted signal stops the reads", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const { calls, rest } = fakeDiscord();
    const ctl = new AbortController();
    ctl.abort(new Error("stop"));
    await assert.rejects(readGuildRoles({ kv, rest }, APP, G, { signal: ctl.signal }));
    assert.deepStrictEqual(calls, []);
  } finally {
    kv.close();
  }
});
