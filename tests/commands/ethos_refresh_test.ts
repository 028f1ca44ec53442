/**
 * lib/commands/ethos_refresh.ts: /ethos_refresh puts the member's own refresh into words (score
 * and tier, what was added or removed, what the bot cannot touch, unverified, no score), and
 * refuses when self-refresh is off, when the server is not set up, or within its one-a-minute
 * cooldown. Discord and Ethos are the test harness's recorded fake (tests/_harness.ts).
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { ethosRefresh } from "../../lib/commands/ethos_refresh.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import {
  APP_ID,
  commandInteraction,
  createTestApp,
  GUILD_ID,
  type TestApp,
  USER_ID,
} from "../_harness.ts";

const VERIFIED = "210000000000000001";
const NEUTRAL = "210000000000000002";
const KNOWN = "210000000000000003";
const ABOVE = "210000000000000004";
const BOT_ROLE = "210000000000000009";
const ENV = {
  VERIFIED_ROLE_ID: VERIFIED,
  ETHOS_ROLE_NEUTRAL: NEUTRAL,
  ETHOS_ROLE_KNOWN: KNOWN,
};

const role = (id: string, name: string, position: number, permissions = "0") => ({
  id,
  name,
  position,
  permissions,
  color: 0,
  hoist: false,
  managed: false,
  mentionable: false,
  flags: 0,
});

/** Discord and Ethos as the harness's fake answers them, for a member holding `roles`. */
function routes(roles: string[], score: number | null, o: { knownAboveBot?: boolean } = {}) {
  const member = `/guilds/${GUILD_ID}/members/${USER_ID}`;
  return {
    "GET /users/@me": { id: APP_ID, username: "bot" },
    [`GET /guilds/${GUILD_ID}`]: { id: GUILD_ID, owner_id: "1" },
    [`GET /guilds/${GUILD_ID}/roles`]: [
      role(GUILD_ID, "@everyone", 0),
      role(VERIFIED, "Verified", 1),
      role(NEUTRAL, "Neutral", 2),
      role(KNOWN, "Known", o.knownAboveBot ? 20 : 3),
      role(ABOVE, "Admin", 30),
      role(BOT_ROLE, "Bot", 10, String(PermissionFlagsBits.ManageRoles)),
    ],
    [`GET /guilds/${GUILD_ID}/members/${APP_ID}`]: { user: { id: APP_ID }, roles: [BOT_ROLE] },
    [`GET ${member}`]: { user: { id: USER_ID }, roles },
    [`PUT ${member}/roles/${KNOWN}`]: {},
    [`DELETE ${member}/roles/${KNOWN}`]: {},
    [`DELETE ${member}/roles/${NEUTRAL}`]: {},
    [`PATCH ${member}`]: {},
    // Ethos (its base is not Discord's, so its paths keep their /api/v2).
    ...(score === null ? {} : { "GET /api/v2/score/userkey": { score } }),
    "POST /api/v2/users/by/discord": [],
  };
}

async function refresh(
  r: ReturnType<typeof routes>,
  env: Record<string, string> = ENV,
  before?: (t: TestApp) => Promise<void>,
) {
  const t = await createTestApp({ commands: [ethosRefresh], env, routes: r });
  try {
    await before?.(t);
    const res = await (await t.post(commandInteraction("ethos_refresh"))).json();
    await t.settle();
    const edit = t.calls.filter((c) => c.method === "PATCH" && c.path.endsWith("/@original"))
      .at(-1);
    const writes = t.calls.filter((c) =>
      c.path.startsWith(`/guilds/${GUILD_ID}/members/${USER_ID}`) && c.method !== "GET"
    )
      .map((c) => `${c.method} ${c.path.replace(`/guilds/${GUILD_ID}/members/${USER_ID}`, "")}`);
    return {
      res,
      text: (edit?.body as { content?: string } | undefined)?.content ?? res.data?.content,
      writes,
    };
  } finally {
    await t.close();
  }
}

Deno.test("/ethos_refresh: the new tier role given, with the score and tier named", async () => {
  const { res, text, writes } = await refresh(routes([VERIFIED], 1450));
  assert.equal(res.type, 5);
  assert.equal(res.data.flags & 64, 64, "private");
  assert.equal(text, "Your Ethos score is **1450** (Known). Roles updated: added Known.");
  assert.deepEqual(writes, [`PUT /roles/${KNOWN}`]);
});

Deno.test("/ethos_refresh: a tier change names both roles; roles already right say so", async () => {
  const moved = await refresh(routes([VERIFIED, NEUTRAL], 1450));
  assert.equal(
    moved.text,
    "Your Ethos score is **1450** (Known). Roles updated: added Known; removed Neutral.",
  );
  assert.deepEqual(moved.writes, ["PATCH "]);
  const same = await refresh(routes([VERIFIED, KNOWN], 1450));
  assert.equal(
    same.text,
    "Your Ethos score is **1450** (Known). Your roles were already up to date.",
  );
  assert.deepEqual(same.writes, []);
});

Deno.test("/ethos_refresh: no Ethos score takes the tier role off and says so", async () => {
  const { text, writes } = await refresh(routes([VERIFIED, KNOWN], null));
  assert.equal(text, "You have no Ethos score yet. Roles updated: removed Known.");
  assert.deepEqual(writes, [`DELETE /roles/${KNOWN}`]);
});

Deno.test("/ethos_refresh: without the verified role, Ethos roles go (or none are held)", async () => {
  const held = await refresh(routes([KNOWN], 1450));
  assert.equal(
    held.text,
    "You do not have the verified role, so your Ethos roles were removed: Known.",
  );
  const none = await refresh(routes([], 1450));
  assert.match(none.text, /^You do not have the verified role yet/);
  assert.deepEqual(none.writes, []);
});

Deno.test("/ethos_refresh: a role above the bot is named as one it cannot give", async () => {
  const { text, writes } = await refresh(routes([VERIFIED], 1450, { knownAboveBot: true }));
  assert.equal(
    text,
    "Your Ethos score is **1450** (Known). Your roles were already up to date. " +
      "(The bot cannot give or take Known: ask an admin to move its role up.)",
  );
  assert.deepEqual(writes, []);
});

Deno.test("/ethos_refresh: self-refresh off, or no setup, is refused before any Discord call", async () => {
  const off = await refresh(
    routes([VERIFIED], 1450),
    ENV,
    (t) => setFlag(t.deps.kv, GUILD_ID, "self_refresh", false),
  );
  assert.equal(off.text, "Self-refresh is turned off in this server.");
  assert.deepEqual(off.writes, []);
  const bare = await refresh(routes([VERIFIED], 1450), {});
  assert.match(bare.text, /^Role sync is not set up here yet: .+\.$/);
});

Deno.test("/ethos_refresh: one use a minute per member", async () => {
  const t = await createTestApp({
    commands: [ethosRefresh],
    env: ENV,
    routes: routes([VERIFIED], 1450),
  });
  try {
    const first = await (await t.post(commandInteraction("ethos_refresh"))).json();
    assert.equal(first.type, 5);
    t.clock.advance(30_000);
    const again = await (await t.post(commandInteraction("ethos_refresh"))).json();
    assert.equal(again.type, 4, "answered at once, not run");
    assert.match(again.data.content, /again/i);
    t.clock.advance(30_001);
    assert.equal((await (await t.post(commandInteraction("ethos_refresh"))).json()).type, 5);
    await t.settle();
  } finally {
    await t.close();
  }
});
