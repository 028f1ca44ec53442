/**
 * Ethos as Discord linked roles, end to end on the emulator: the metadata records registered once
 * (no call when unchanged), and the connect flow from the verification URL through Discord's
 * authorize page to the callback, which pushes the user's Ethos metadata with their own token and
 * keeps the tokens sealed. Every bad input is a 4xx page that stores nothing and pushes nothing.
 */
import assert from "node:assert/strict";
import { GUILD, startBot, type TestBot } from "./sync_helpers.ts";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { linkedKeys, linkedUserSchema } from "../../lib/linked_roles/store.ts";
import { open } from "../../lib/linked_roles/token_box.ts";
import { METADATA_KEYS } from "../../lib/linked_roles/metadata.ts";
import { emptyCounters, pushLinked } from "../../lib/linked_roles/keeper.ts";
import { freshnessPass } from "../../lib/sync/fresh_pass.ts";
import { linkedRolesStage } from "../../lib/linked_roles/fresh.ts";
import { deleteMemberData, privacySources, viewMemberData } from "../../lib/privacy/mod.ts";

const SECRET = "emulator-client-secret-0123";

async function setup(env: Record<string, string> = {}) {
  const emu = await startEmulator({
    uniformRate: 300,
    guilds: [{ members: 30 }],
    clientSecret: SECRET,
  });
  // The emulator's authorize page stands in for discord.com's.
  const bot = await startBot(emu, {
    env: {
      DISCORD_CLIENT_SECRET: SECRET,
      DISCORD_OAUTH_AUTHORIZE_URL: emu.oauthAuthorizeUrl,
      ...env,
    },
  });
  return { emu, bot, close: async () => (await bot.close(), await emu.close()) };
}

/** A member with an Ethos score, and one without a profile. */
function users(emu: Emulator) {
  const members = [...emu.state.guild(GUILD).members.values()].filter((m) => !m.bot);
  const scored = members.find((m) => emu.state.score(m.id) !== undefined)!;
  return { scored: scored.id };
}

/** GET /linked-role: the redirect to the authorize page and the state cookie. */
async function begin(bot: TestBot) {
  const res = await fetch(`${bot.url}/linked-role`, { redirect: "manual" });
  await res.body?.cancel();
  assert.deepStrictEqual(res.status, 302);
  const location = new URL(res.headers.get("location")!);
  const cookie = res.headers.get("set-cookie")!;
  return { location, cookie: cookie.split(";")[0], setCookie: cookie };
}

/** Discord's authorize page approves as `userId` and sends the browser back: the callback URL. */
async function authorize(emu: Emulator, location: URL, userId: string): Promise<URL> {
  emu.state.oauth.approveAs(userId);
  const res = await fetch(location, { redirect: "manual" });
  await res.body?.cancel();
  assert.deepStrictEqual(res.status, 302);
  return new URL(res.headers.get("location")!);
}

async function callback(url: URL | string, cookie?: string) {
  const res = await fetch(url, { headers: cookie ? { cookie } : {} });
  return { status: res.status, html: await res.text(), setCookie: res.headers.get("set-cookie") };
}

Deno.test("linked roles: the records are registered once; the same records make no call", async () => {
  const { emu, bot, close } = await setup();
  try {
    const first = await bot.request("POST", "/linked-roles/register", {});
    assert.deepStrictEqual(first.status, 200);
    const r = await first.json();
    assert.deepStrictEqual(r.status, "registered");
    assert.deepStrictEqual(emu.state.roleConnections.metadata().map((m) => m.key), [
      ...METADATA_KEYS,
    ]);
    assert.deepStrictEqual(emu.state.roleConnections.metadata().map((m) => m.type), [2, 2, 7, 7]);
    emu.stats.reset();
    const again = await (await bot.request("POST", "/linked-roles/register", {})).json();
    assert.deepStrictEqual(again.status, "unchanged");
    assert.deepStrictEqual(emu.stats.totalRequests, 0);
    const forced = await (await bot.request("POST", "/linked-roles/register", { force: true }))
      .json();
    assert.deepStrictEqual(forced.status, "registered");
    assert.deepStrictEqual(emu.stats.totalRequests, 1);
    const bad = await bot.request("POST", "/linked-roles/register", { force: "yes" });
    assert.deepStrictEqual(bad.status, 400);
    await bad.body?.cancel();
    const anon = await bot.request("POST", "/linked-roles/register", {}, null);
    assert.deepStrictEqual(anon.status, 401);
    await anon.body?.cancel();
    const status = await (await bot.request("GET", "/linked-roles/status")).json();
    assert.deepStrictEqual(status.enabled, true);
    assert.deepStrictEqual(status.redirectUri, `${bot.url}/linked-role/callback`);
    assert.deepStrictEqual(status.registered.current, true);
    assert.deepStrictEqual(status.linkedUsers, 0);
  } finally {
    await close();
  }
});

Deno.test("linked roles: connecting pushes the user's Ethos metadata and keeps the tokens sealed", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const { scored } = users(emu);
    const { location, cookie, setCookie } = await begin(bot);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.deepStrictEqual(location.searchParams.get("scope"), "identify role_connections.write");
    assert.deepStrictEqual(
      location.searchParams.get("redirect_uri"),
      `${bot.url}/linked-role/callback`,
    );
    const back = await authorize(emu, location, scored);
    const page = await callback(back, cookie);
    assert.deepStrictEqual(page.status, 200, page.html);
    const score = emu.state.score(scored)!;
    assert.ok(page.html.includes(`data-key="score">${score}<`), page.html);
    // Discord now holds the metadata, set with the user's own token.
    const conn = emu.state.roleConnections.connection(scored)!;
    assert.deepStrictEqual(conn.platform_name, "Ethos");
    assert.deepStrictEqual(conn.metadata.score, String(score));
    assert.ok(["0", "1"].includes(conn.metadata.validator));
    assert.deepStrictEqual(emu.stats.roleConnectionPuts.map((p) => p.userId), [scored]);
    // Stored sealed: no raw token in KV, and it opens only for its user.
    const raw = (await bot.kv.get(linkedKeys.user(scored))).value;
    const rec = linkedUserSchema.parse(raw);
    const grant = emu.state.oauth.grants(scored).at(-1)!;
    assert.ok(!JSON.stringify(raw).includes(grant.refreshToken), "the refresh token is sealed");
    assert.deepStrictEqual(
      await open(bot.app.keys.tokenBox, scored, rec.refresh),
      grant.refreshToken,
    );
    assert.deepStrictEqual(
      await open(bot.app.keys.tokenBox, "300000000000000999", rec.refresh),
      null,
    );
    // The state is good once: the same callback again is refused and changes nothing.
    const replay = await callback(back, cookie);
    assert.deepStrictEqual(replay.status, 400);
    assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 1);
  } finally {
    await close();
  }
});

Deno.test("linked roles: a user without an Ethos profile gets score 0 and how to create one", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const nobody = "300000000000000777";
    emu.state.addUser({ id: nobody, username: "nobody" });
    const { location, cookie } = await begin(bot);
    const page = await callback(await authorize(emu, location, nobody), cookie);
    assert.deepStrictEqual(page.status, 200);
    assert.match(page.html, /has no Ethos profile yet/);
    assert.deepStrictEqual(emu.state.roleConnections.connection(nobody)!.metadata, {
      score: "0",
      level: "0",
      validator: "0",
      human: "0",
    });
  } finally {
    await close();
  }
});

Deno.test("linked roles: forged, replayed, cookieless, denied and reused-code callbacks are 4xx and store nothing", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const { scored } = users(emu);
    const nothingStored = async () =>
      assert.deepStrictEqual((await bot.kv.get(linkedKeys.user(scored))).versionstamp, null);

    // A state that never came from here, with a cookie of its own (forged).
    const a = await begin(bot);
    const forged = new URL(`${bot.url}/linked-role/callback?code=x&state=forgedstate0123456789`);
    assert.deepStrictEqual(
      (await callback(forged, "ethos_linked_role_state=forgedstate0123456789")).status,
      400,
    );
    // A real state with another browser's cookie (mismatch), and with no cookie.
    const back = await authorize(emu, a.location, scored);
    assert.deepStrictEqual(
      (await callback(back, "ethos_linked_role_state=someone-elses-state-01")).status,
      400,
    );
    assert.deepStrictEqual((await callback(back)).status, 400);
    // Denied on Discord's page.
    const d = await begin(bot);
    const denied = new URL(`${bot.url}/linked-role/callback`);
    denied.searchParams.set("error", "access_denied");
    denied.searchParams.set("state", d.location.searchParams.get("state")!);
    const deniedPage = await callback(denied, d.cookie);
    assert.deepStrictEqual(deniedPage.status, 400);
    assert.match(deniedPage.html, /You cancelled/);
    // A code already used: its first use succeeded; a new state with the same code is refused.
    const ok = await callback(back, a.cookie);
    assert.deepStrictEqual(ok.status, 200);
    await bot.kv.delete(linkedKeys.user(scored));
    const b = await begin(bot);
    const reuse = new URL(back);
    reuse.searchParams.set("state", b.location.searchParams.get("state")!);
    const used = await callback(reuse, b.cookie);
    assert.deepStrictEqual(used.status, 400);
    assert.match(used.html, /already used/);
    await nothingStored();
    assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 1);
  } finally {
    await close();
  }
});

Deno.test("linked roles: Ethos or Discord failing mid-flow is a 424 page; nothing stored or pushed", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const { scored } = users(emu);
    emu.state.ethos.failing = true;
    const a = await begin(bot);
    const page = await callback(await authorize(emu, a.location, scored), a.cookie);
    assert.deepStrictEqual(page.status, 424);
    assert.match(page.html, /Ethos did not answer/);
    emu.state.ethos.failing = false;
    // Discord failing after the code exchange (reading the user).
    const b = await begin(bot);
    const back = await authorize(emu, b.location, scored);
    emu.setFaults({ errorRate: 1 });
    const failed = await callback(back, b.cookie);
    emu.setFaults({ errorRate: 0 });
    assert.deepStrictEqual(failed.status, 424);
    assert.deepStrictEqual((await bot.kv.get(linkedKeys.user(scored))).versionstamp, null);
    assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, 0);
  } finally {
    await close();
  }
});

Deno.test("linked roles: without DISCORD_CLIENT_SECRET the connect routes are 404", async () => {
  const emu = await startEmulator({ uniformRate: 300, guilds: [{ members: 5 }] });
  const bot = await startBot(emu);
  try {
    for (const path of ["/linked-role", "/linked-role/callback?code=x&state=y"]) {
      const res = await fetch(`${bot.url}${path}`, { redirect: "manual" });
      await res.body?.cancel();
      assert.deepStrictEqual(res.status, 404, path);
    }
  } finally {
    await bot.close();
    await emu.close();
  }
});

/** Runs the connect flow for `userId` (the records registered first). */
async function connect(emu: Emulator, bot: TestBot, userId: string): Promise<void> {
  const { location, cookie } = await begin(bot);
  const page = await callback(await authorize(emu, location, userId), cookie);
  assert.deepStrictEqual(page.status, 200, page.html);
}

Deno.test("linked roles: a score change reaches a linked user's metadata in the next freshness pass", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const { scored } = users(emu);
    await connect(emu, bot, scored);
    const tokenKeys = bot.app.keys.tokenBox;
    await freshnessPass(bot.deps, { linked: linkedRolesStage(bot.deps, tokenKeys) }); // sets the feed cursor
    const before = emu.stats.roleConnectionPuts.length;
    const newScore = emu.state.score(scored)! >= 2000 ? 900 : 2100;
    emu.state.setScore(scored, newScore, Date.now());
    // Someone not linked changes too: dropped with no Discord call.
    emu.state.setScore("300000000000000888", 1500, Date.now());
    const pass =
      (await freshnessPass(bot.deps, { linked: linkedRolesStage(bot.deps, tokenKeys) }))!;
    assert.deepStrictEqual(pass.linked?.applied, 1);
    assert.deepStrictEqual(pass.linked?.notLinked, 1);
    assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, before + 1);
    assert.deepStrictEqual(
      emu.state.roleConnections.connection(scored)!.metadata.score,
      String(newScore),
    );
    // Nothing new: no push.
    const again =
      (await freshnessPass(bot.deps, { linked: linkedRolesStage(bot.deps, tokenKeys) }))!;
    assert.deepStrictEqual(again.linked?.applied, 0);
    assert.deepStrictEqual(emu.stats.roleConnectionPuts.length, before + 1);
  } finally {
    await close();
  }
});

Deno.test("linked roles: an expired token is refreshed before the push; a revoked grant unlinks", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const { scored } = users(emu);
    await connect(emu, bot, scored);
    const keys = bot.app.keys.tokenBox;
    // Discord expires the access token early: the push gets 401, refreshes, pushes.
    emu.state.oauth.expire(emu.state.oauth.grants(scored).at(-1)!.accessToken);
    const counters = emptyCounters();
    const out = await pushLinked(bot.deps, keys, scored, {
      score: 2222,
      validator: false,
      human: true,
    }, counters);
    assert.deepStrictEqual(out, "pushed");
    assert.deepStrictEqual(counters.refreshes, 1);
    assert.deepStrictEqual(emu.state.roleConnections.connection(scored)!.metadata.score, "2222");
    const rec = linkedUserSchema.parse((await bot.kv.get(linkedKeys.user(scored))).value);
    assert.deepStrictEqual(
      await open(keys, scored, rec.refresh),
      emu.state.oauth.grants(scored).at(-1)!.refreshToken,
      "the rotated refresh token is stored",
    );
    // The user removes the app on Discord: the grant is gone; the tokens are deleted.
    emu.state.oauth.revoke(scored);
    const gone = await pushLinked(bot.deps, keys, scored, {
      score: 1000,
      validator: false,
      human: false,
    }, counters);
    assert.deepStrictEqual(gone, "unlinked");
    assert.deepStrictEqual((await bot.kv.get(linkedKeys.user(scored))).versionstamp, null);
    // Two pushes at once for one user: one waits its turn (busy), never a racing refresh.
    await connect(emu, bot, scored);
    const both = await Promise.all([
      pushLinked(bot.deps, keys, scored, { score: 1500, validator: false, human: false }),
      pushLinked(bot.deps, keys, scored, { score: 1500, validator: false, human: false }),
    ]);
    assert.deepStrictEqual(both.sort(), ["busy", "pushed"]);
  } finally {
    await close();
  }
});

Deno.test("linked roles: /privacy delete clears the metadata on Discord, revokes and forgets", async () => {
  const { emu, bot, close } = await setup();
  try {
    await bot.request("POST", "/linked-roles/register", {}).then((r) => r.body?.cancel());
    const { scored } = users(emu);
    await connect(emu, bot, scored);
    await connect(emu, bot, scored); // connecting again counts once
    const linkedNow = await (await bot.request("GET", "/linked-roles/status")).json();
    assert.deepStrictEqual(linkedNow.linkedUsers, 1);
    const sources = privacySources(bot.app.keys.tokenBox);
    const view = await viewMemberData(bot.deps, GUILD, scored, sources);
    const linked = view.find((v) => v.name === "Ethos linked role connection")!;
    assert.deepStrictEqual(linked.items.length, 2);
    const report = await deleteMemberData(bot.deps, GUILD, scored, sources);
    assert.deepStrictEqual(
      report.deleted.find((d) => d.name === "Ethos linked role connection")?.count,
      1,
    );
    assert.deepStrictEqual(emu.state.roleConnections.connection(scored)?.metadata ?? {}, {});
    assert.deepStrictEqual(emu.state.oauth.grants(scored).length, 0, "the grant is revoked");
    assert.deepStrictEqual((await bot.kv.get(linkedKeys.user(scored))).versionstamp, null);
    const status = await (await bot.request("GET", "/linked-roles/status")).json();
    assert.deepStrictEqual(status.linkedUsers, 0);
  } finally {
    await close();
  }
});
