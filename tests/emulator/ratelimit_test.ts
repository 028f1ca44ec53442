import { deepStrictEqual, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Routes } from "discord-api-types/v10";
import { api, GUILD, withEmulator } from "./test_helpers.ts";

const small = { guilds: [{ members: 10 }] };

Deno.test("missing or wrong token answers 401 with Discord's body", async () => {
  await withEmulator(small, async (emu) => {
    const none = await api(emu, "GET", Routes.user("@me"), { auth: false });
    strictEqual(none.status, 401);
    deepStrictEqual(none.body, { message: "401: Unauthorized", code: 0 });
    const wrong = await api(emu, "GET", Routes.user("@me"), { auth: "Bot nope" });
    strictEqual(wrong.status, 401);
    const bearer = await api(emu, "GET", Routes.user("@me"), { auth: `Bearer ${emu.token}` });
    strictEqual(bearer.status, 401);
    strictEqual(emu.stats.invalidRequests, 3);
    const me = await api<{ id: string; bot: boolean }>(emu, "GET", Routes.user("@me"));
    strictEqual(me.status, 200);
    strictEqual(me.body.id, emu.botUserId);
    strictEqual(me.body.bot, true);
  });
});

Deno.test("rate-limit headers are present and count down; exhaustion gives a user 429", async () => {
  await withEmulator(small, async (emu) => {
    const path = Routes.guildMember(GUILD, emu.state.guild(GUILD).members.ids()[0]);
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(emu, "GET", path);
      strictEqual(res.status, 200);
      strictEqual(res.headers.get("x-ratelimit-limit"), "5");
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
      ok(Number(res.headers.get("x-ratelimit-reset")) * 1000 > Date.now() - 1000);
      ok(Number(res.headers.get("x-ratelimit-reset-after")) <= 1);
      ok(/^[0-9a-f]{32}$/.test(res.headers.get("x-ratelimit-bucket")!));
    }
    deepStrictEqual(remaining, [4, 3, 2, 1, 0]);
    const limited = await api<{ message: string; retry_after: number; global: boolean }>(
      emu,
      "GET",
      path,
    );
    strictEqual(limited.status, 429);
    strictEqual(limited.body.message, "You are being rate limited.");
    strictEqual(limited.body.global, false);
    ok(limited.body.retry_after > 0 && limited.body.retry_after <= 1);
    strictEqual(limited.headers.get("x-ratelimit-scope"), "user");
    strictEqual(limited.headers.get("x-ratelimit-remaining"), "0");
    ok(Number(limited.headers.get("retry-after")) >= 1);
    strictEqual(limited.headers.get("x-ratelimit-global"), null);
    strictEqual(emu.stats.rateLimited.user, 1);
    strictEqual(emu.stats.invalidRequests, 1);
  });
});

Deno.test("buckets reset after their window", async () => {
  await withEmulator(
    { ...small, limits: { memberGet: { limit: 2, windowMs: 150 } } },
    async (emu) => {
      const path = Routes.guildMember(GUILD, emu.state.guild(GUILD).members.ids()[0]);
      strictEqual((await api(emu, "GET", path)).status, 200);
      strictEqual((await api(emu, "GET", path)).status, 200);
      const limited = await api<{ retry_after: number }>(emu, "GET", path);
      strictEqual(limited.status, 429);
      await new Promise((r) => setTimeout(r, limited.body.retry_after * 1000 + 20));
      strictEqual((await api(emu, "GET", path)).status, 200);
    },
  );
});

Deno.test("PUT and DELETE member role share one bucket", async () => {
  await withEmulator(
    { ...small, limits: { memberRole: { limit: 4, windowMs: 10_000 } } },
    async (emu) => {
      const g = emu.state.guild(GUILD);
      const user = g.members.ids().find((id) => !g.members.get(id)!.bot)!;
      const role = g.ethosRoles!.neutral;
      const put = await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, role));
      const del = await api(emu, "DELETE", Routes.guildMemberRole(GUILD, user, role));
      strictEqual(put.status, 204);
      strictEqual(del.status, 204);
      strictEqual(put.headers.get("x-ratelimit-bucket"), del.headers.get("x-ratelimit-bucket"));
      deepStrictEqual([
        put.headers.get("x-ratelimit-remaining"),
        del.headers.get("x-ratelimit-remaining"),
      ], ["3", "2"]);
      await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, role));
      await api(emu, "DELETE", Routes.guildMemberRole(GUILD, user, role));
      const limited = await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, role));
      strictEqual(limited.status, 429);
      // A different route has its own bucket and hash.
      const patch = await api(emu, "PATCH", Routes.guildMember(GUILD, user), { body: {} });
      strictEqual(patch.status, 200);
      notStrictEqual(
        patch.headers.get("x-ratelimit-bucket"),
        put.headers.get("x-ratelimit-bucket"),
      );
    },
  );
});

Deno.test("buckets are per major parameter (guild)", async () => {
  await withEmulator({
    guilds: [{ members: 3 }, { id: "200000000000000002", members: 3 }],
    limits: { memberList: { limit: 1, windowMs: 10_000 } },
  }, async (emu) => {
    strictEqual((await api(emu, "GET", Routes.guildMembers(GUILD))).status, 200);
    strictEqual((await api(emu, "GET", Routes.guildMembers(GUILD))).status, 429);
    strictEqual((await api(emu, "GET", Routes.guildMembers("200000000000000002"))).status, 200);
  });
});

Deno.test("the global limit answers a global 429; interaction routes are exempt", async () => {
  await withEmulator({ ...small, limits: { global: 3 } }, async (emu) => {
    for (let i = 0; i < 3; i++) {
      strictEqual((await api(emu, "GET", Routes.user("@me"))).status, 200);
    }
    const limited = await api<{ global: boolean; retry_after: number }>(
      emu,
      "GET",
      Routes.guildRoles(GUILD),
    );
    strictEqual(limited.status, 429);
    strictEqual(limited.body.global, true);
    ok(limited.body.retry_after > 0 && limited.body.retry_after <= 1);
    strictEqual(limited.headers.get("x-ratelimit-global"), "true");
    strictEqual(limited.headers.get("x-ratelimit-scope"), "global");
    ok(limited.headers.get("retry-after"));
    strictEqual(emu.stats.rateLimited.global, 1);
    const cb = await api(emu, "POST", Routes.interactionCallback("300000000000000001", "tok"), {
      auth: false,
      body: { type: 5 },
    });
    strictEqual(cb.status, 204);
  });
});

Deno.test("uniformRate sets every bucket and the global limit", async () => {
  await withEmulator({ ...small, uniformRate: 7 }, async (emu) => {
    const res = await api(emu, "GET", Routes.guildMembers(GUILD));
    strictEqual(res.headers.get("x-ratelimit-limit"), "7");
    strictEqual(emu.limits.global, 7);
    emu.setLimits({ memberList: { limit: 2, windowMs: 1000 } });
    const after = await api(emu, "GET", Routes.guildMembers(GUILD));
    strictEqual(after.headers.get("x-ratelimit-limit"), "2");
  });
});

Deno.test("forced 429s: shared scope does not count as invalid, user and global do", async () => {
  await withEmulator(small, async (emu) => {
    const route = "GET /guilds/:guild/roles";
    emu.state.forceShared429(route, 2, 3);
    for (let i = 0; i < 2; i++) {
      const res = await api<{ retry_after: number; global: boolean }>(
        emu,
        "GET",
        Routes.guildRoles(GUILD),
      );
      strictEqual(res.status, 429);
      strictEqual(res.headers.get("x-ratelimit-scope"), "shared");
      strictEqual(res.headers.get("retry-after"), "3");
      strictEqual(res.body.retry_after, 3);
      ok(res.headers.get("x-ratelimit-bucket"));
    }
    strictEqual((await api(emu, "GET", Routes.guildRoles(GUILD))).status, 200);
    strictEqual(emu.stats.rateLimited.shared, 2);
    strictEqual(emu.stats.invalidRequests, 0);

    emu.state.force429({ scope: "global", retryAfter: 0.25 });
    const g = await api<{ global: boolean; retry_after: number }>(emu, "GET", Routes.guild(GUILD));
    strictEqual(g.status, 429);
    strictEqual(g.body.global, true);
    strictEqual(g.body.retry_after, 0.25);
    emu.state.force429({ route: "GET /guilds/:guild", scope: "user", retryAfter: 2 });
    const u = await api(emu, "GET", Routes.guild(GUILD));
    strictEqual(u.headers.get("x-ratelimit-scope"), "user");
    strictEqual(emu.stats.invalidRequests, 2);
  });
});

Deno.test("past the invalid-request threshold every request is refused without headers", async () => {
  await withEmulator({ ...small, invalidRequestBanThreshold: 3 }, async (emu) => {
    for (let i = 0; i < 3; i++) {
      strictEqual((await api(emu, "GET", Routes.user("@me"), { auth: false })).status, 401);
    }
    const banned = await api(emu, "GET", Routes.user("@me"));
    strictEqual(banned.status, 429);
    strictEqual(banned.headers.get("x-ratelimit-limit"), null);
    strictEqual(banned.headers.get("x-ratelimit-scope"), null);
    strictEqual(emu.stats.bannedRequests, 1);
    emu.resetRateLimits();
    strictEqual((await api(emu, "GET", Routes.user("@me"))).status, 200);
  });
});

Deno.test("403 answers count toward the invalid-request window", async () => {
  await withEmulator(small, async (emu) => {
    const g = emu.state.guild(GUILD);
    const user = g.members.ids().find((id) => !g.members.get(id)!.bot)!;
    const res = await api(emu, "PUT", Routes.guildMemberRole(GUILD, user, g.aboveBotRole!));
    strictEqual(res.status, 403);
    strictEqual(emu.stats.invalidRequests, 1);
    strictEqual(emu.stats.statuses[403], 1);
  });
});

Deno.test("unknown routes answer 404 and wrong methods 405", async () => {
  await withEmulator(small, async (emu) => {
    const nf = await api(emu, "GET", "/nothing/here");
    strictEqual(nf.status, 404);
    deepStrictEqual(nf.body, { message: "404: Not Found", code: 0 });
    const na = await api(emu, "POST", Routes.guildMember(GUILD, "1"));
    strictEqual(na.status, 405);
  });
});

Deno.test("an injected clock drives bucket windows without sleeping", async () => {
  let now = Date.UTC(2026, 0, 1);
  await withEmulator({ ...small, clock: { now: () => now } }, async (emu) => {
    const path = Routes.guildMembers(GUILD);
    for (let i = 0; i < 10; i++) strictEqual((await api(emu, "GET", path)).status, 200);
    const limited = await api<{ retry_after: number }>(emu, "GET", path);
    strictEqual(limited.status, 429);
    strictEqual(limited.body.retry_after, 10);
    strictEqual(limited.headers.get("x-ratelimit-reset"), ((now + 10_000) / 1000).toFixed(3));
    now += 10_000;
    strictEqual((await api(emu, "GET", path)).status, 200);
  });
});
