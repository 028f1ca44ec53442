/**
 * RestClient against the Discord emulator (real HTTP on loopback): the whole client stack at once
 * (pacing, buckets, the global limit, the invalid-request guard, retries, typed errors and the
 * KV-shared state) against a server that enforces Discord's limits, where rest_test.ts drives the
 * client alone over a scripted fake. Windows are small (n per second) so the runs are short;
 * assertions are about counts and final state, plus lower bounds on waits that the client itself
 * enforces (never upper bounds on elapsed time). The route wrappers' own tests are in
 * api_test.ts, the follow-up's in tests/interactions/followup_test.ts.
 */
import assert from "node:assert/strict";
import { memoryLogger } from "../_log.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import {
  hasDiscordCode,
  isUnknownMember,
  RESTJSONErrorCodes,
  RestPausedError,
} from "../../lib/discord/errors.ts";
import * as api from "../../lib/discord/api.ts";
import { createFollowup } from "../../lib/interactions/followup.ts";
import { caught } from "../discord/_fake_discord.ts";
import { GUILD, humans, withEmu } from "../discord/_emulator.ts";

const MEMBER_PATCH = "PATCH /guilds/:guild/members/:user";

Deno.test("emulator: 500 writes through a bucket of 10 per second with zero 429s", async () => {
  await withEmu({
    guilds: [{ members: 600 }],
    limits: { memberPatch: { limit: 10, windowMs: 1000 }, global: 50 },
  }, async (emu, client) => {
    const rest = client();
    const roles = emu.state.guild(GUILD).ethosRoles!;
    const targets = humans(emu, 500);
    assert.deepStrictEqual(targets.length, 500);
    await Promise.all(
      targets.map((id, i) =>
        api.modifyMemberRoles(rest, GUILD, id, [i % 2 ? roles.neutral : roles.reputable], "bench")
      ),
    );
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
    assert.deepStrictEqual(emu.stats.statuses[429], undefined);
    const writes = emu.stats.writesTo(MEMBER_PATCH);
    assert.deepStrictEqual(writes.length, 500);
    assert.ok(writes.every((w) => w.reason === "bench"));
    targets.forEach((id, i) =>
      assert.deepStrictEqual(emu.state.memberRoles(GUILD, id), [
        i % 2 ? roles.neutral : roles.reputable,
      ])
    );
    assert.deepStrictEqual(rest.stats().rateLimited, { user: 0, global: 0, shared: 0 });
  });
});

/**
 * A fetch that logs when each request left and when its answer arrived (before the client sees
 * it), so waits can be checked as lower bounds the client must honour.
 */
function timedFetch() {
  const log: {
    method: string;
    path: string;
    status: number;
    sentAt: number;
    answeredAt: number;
  }[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const sentAt = Date.now();
    const res = await fetch(input, init);
    log.push({
      method: init?.method ?? "GET",
      path: url.pathname.replace("/api/v10", ""),
      status: res.status,
      sentAt,
      answeredAt: Date.now(),
    });
    return res;
  };
  return { fetch: fetchFn, log };
}

Deno.test("emulator: waits out a forced per-route 429, then the write lands once", async () => {
  await withEmu({
    guilds: [{ members: 20 }],
    limits: { memberPatch: { limit: 10, windowMs: 1000 } },
  }, async (emu, client) => {
    const timed = timedFetch();
    const rest = client({ fetch: timed.fetch });
    const roles = emu.state.guild(GUILD).ethosRoles!;
    const [a] = humans(emu, 1);
    emu.state.force429({ route: MEMBER_PATCH, scope: "user", retryAfter: 0.8 });
    await api.modifyMemberRoles(rest, GUILD, a, [roles.neutral], "forced");
    assert.deepStrictEqual(emu.stats.rateLimited.user, 1);
    const writes = emu.stats.writesTo(MEMBER_PATCH);
    assert.deepStrictEqual(writes.length, 1);
    assert.deepStrictEqual(timed.log.map((c) => c.status), [429, 200]);
    assert.ok(
      timed.log[1].sentAt >= timed.log[0].answeredAt + 800,
      "retried only after retry_after",
    );
    assert.deepStrictEqual(emu.state.memberRoles(GUILD, a), [roles.neutral]);
    const s = rest.stats();
    assert.deepStrictEqual(s.rateLimited.user, 1);
    assert.deepStrictEqual(s.retries, 1);
  });
});

Deno.test("emulator: a forced global 429 pauses other routes too, but not interaction routes", async () => {
  await withEmu({ guilds: [{ members: 20 }] }, async (emu, client) => {
    const timed = timedFetch();
    const rest = client({ fetch: timed.fetch });
    const token = "interaction-token-abcdefghijklmnopqrstuvwxyz";
    emu.state.registerInteraction("400000000000000001", token);
    await rest.post(`/interactions/400000000000000001/${token}/callback`, {
      auth: false,
      body: { type: 5 },
    });
    emu.state.force429({ route: "GET /guilds/:guild", scope: "global", retryAfter: 1 });
    const guild = api.getGuild(rest, GUILD);
    while (!timed.log.some((c) => c.status === 429)) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const limited = timed.log.find((c) => c.status === 429)!;
    const roles = api.getRoles(rest, GUILD);
    const followup = createFollowup(rest, emu.applicationId, token).send({ content: "hi" });
    const [g, r, f] = await Promise.all([guild, roles, followup]);
    assert.deepStrictEqual(g.id, GUILD);
    assert.deepStrictEqual(
      r.map((role) => role.id),
      emu.state.guild(GUILD).sortedRoles().map((x) => x.id),
    );
    assert.deepStrictEqual(f.content, "hi");
    const sent = (method: string, re: RegExp) =>
      timed.log.filter((c) => c.method === method && re.test(c.path)).map((c) => c.sentAt);
    const pauseEnd = limited.answeredAt + 1000;
    assert.ok(sent("GET", /^\/guilds\/\d+\/roles$/)[0] >= pauseEnd, "roles waited");
    assert.ok(sent("GET", /^\/guilds\/\d+$/)[1] >= pauseEnd, "the retry waited");
    // The follow-up is exempt: it went out while the others were still held back.
    assert.ok(sent("POST", /^\/webhooks\//)[0] < sent("GET", /^\/guilds\/\d+\/roles$/)[0]);
    assert.deepStrictEqual(emu.stats.rateLimited.global, 1);
    assert.deepStrictEqual(rest.stats().rateLimited.global, 1);
  });
});

Deno.test("emulator: retries injected 5xx and ends with the right state", async () => {
  await withEmu({
    guilds: [{ members: 100 }],
    uniformRate: 50,
    faults: { errorRate: 0.3, seed: 7 },
  }, async (emu, client) => {
    const rest = client({ maxRetries: 10 });
    const roles = emu.state.guild(GUILD).ethosRoles!;
    const targets = humans(emu, 60);
    await Promise.all(
      targets.map((id, i) =>
        i % 2
          ? api.modifyMemberRoles(rest, GUILD, id, [roles.exemplary], "5xx test")
          : api.addMemberRole(rest, GUILD, id, roles.questionable, "5xx test")
      ),
    );
    assert.ok(emu.stats.faults > 5, `faults ${emu.stats.faults}`);
    const s = rest.stats();
    assert.deepStrictEqual(s.serverErrors, emu.stats.faults);
    assert.deepStrictEqual(s.retries, emu.stats.faults);
    targets.forEach((id, i) => {
      const held = emu.state.memberRoles(GUILD, id)!;
      if (i % 2) assert.deepStrictEqual(held, [roles.exemplary]);
      else assert.ok(held.includes(roles.questionable));
    });
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
  });
});

Deno.test("emulator: the invalid-request guard trips on a flood of 403s and pauses", async () => {
  await withEmu({
    guilds: [{ members: 50 }],
    limits: { memberRole: { limit: 4, windowMs: 200 } },
  }, async (emu, client) => {
    const log = memoryLogger();
    const rest = client({ invalidRequestLimit: 10, invalidRequestWindowMs: 3_000, log });
    const g = emu.state.guild(GUILD);
    const targets = humans(emu, 30);
    const results = await Promise.all(
      targets.map((id) =>
        caught(api.addMemberRole(rest, GUILD, id, g.aboveBotRole!, "nope", { maxPauseWaitMs: 0 }))
      ),
    );
    const forbidden = results.filter((e) =>
      hasDiscordCode(e, RESTJSONErrorCodes.MissingPermissions)
    ).length;
    const paused = results.filter((e) => e instanceof RestPausedError).length;
    assert.deepStrictEqual(forbidden + paused, 30);
    assert.ok(forbidden >= 10 && forbidden <= 10 + 3, `403s: ${forbidden}`);
    assert.deepStrictEqual(emu.stats.invalidRequests, forbidden);
    const s = rest.stats();
    assert.ok(s.invalidRequests.pausedUntil !== null);
    assert.deepStrictEqual(
      log.lines.filter((l) => String(l.msg).startsWith("invalid-request guard")).length,
      1,
    );
    // A patient request waits for the window to slide, then goes through.
    const me = await api.getCurrentUser(rest);
    assert.deepStrictEqual(me.id, emu.botUserId);
    assert.ok(Date.now() >= s.invalidRequests.pausedUntil!);
    assert.deepStrictEqual(emu.stats.bannedRequests, 0);
  });
});

Deno.test("emulator: typed errors for unknown member, unknown role, missing permissions", async () => {
  await withEmu({ guilds: [{ members: 10 }] }, async (emu, client) => {
    const rest = client();
    const g = emu.state.guild(GUILD);
    const [a] = humans(emu, 1);
    const unknownMember = await caught(api.getMember(rest, GUILD, "399999999999999999"));
    assert.ok(isUnknownMember(unknownMember), String(unknownMember));
    assert.deepStrictEqual(unknownMember.status, 404);
    const unknownRole = await caught(
      api.addMemberRole(rest, GUILD, a, "399999999999999998", "test"),
    );
    assert.ok(hasDiscordCode(unknownRole, RESTJSONErrorCodes.UnknownRole), String(unknownRole));
    const forbidden = await caught(api.addMemberRole(rest, GUILD, a, g.aboveBotRole!, "test"));
    assert.ok(
      hasDiscordCode(forbidden, RESTJSONErrorCodes.MissingPermissions),
      String(forbidden),
    );
    assert.deepStrictEqual(forbidden.status, 403);
    const noGuild = await caught(api.getGuild(rest, "299999999999999999"));
    assert.ok(hasDiscordCode(noGuild, RESTJSONErrorCodes.UnknownGuild), String(noGuild));
    assert.ok(!String(forbidden.message).includes(emu.token));
  });
});

/** Two clients, one bucket: `withKv` decides whether they share state. Returns the 429 count. */
async function twoClients(withKv: boolean): Promise<{ limited: number; writes: number }> {
  let result = { limited: -1, writes: -1 };
  const kv = await Deno.openKv(":memory:");
  try {
    await withEmu({
      guilds: [{ members: 100 }],
      limits: { memberPatch: { limit: 10, windowMs: 500 }, global: 10_000 },
    }, async (emu, client) => {
      const a = client({ kv: withKv ? kv : undefined, maxRateLimitRetries: 50 });
      const b = client({ kv: withKv ? kv : undefined, maxRateLimitRetries: 50 });
      const roles = emu.state.guild(GUILD).ethosRoles!;
      const targets = humans(emu, 80);
      await Promise.all(
        targets.map((id, i) =>
          api.modifyMemberRoles(i % 2 ? a : b, GUILD, id, [roles.untrusted], "kv")
        ),
      );
      for (const id of targets) {
        assert.deepStrictEqual(emu.state.memberRoles(GUILD, id), [roles.untrusted]);
      }
      result = {
        limited: emu.stats.rateLimited.user,
        writes: emu.stats.writesTo(MEMBER_PATCH).length,
      };
      if (withKv) {
        assert.ok(a.stats().shared!.ops > 0 && b.stats().shared!.ops > 0);
        assert.deepStrictEqual(a.stats().shared!.errors, 0);
      }
    });
  } finally {
    kv.close();
  }
  return result;
}

Deno.test("emulator: two clients sharing bucket state through KV do not overrun the bucket", async () => {
  const shared = await twoClients(true);
  assert.deepStrictEqual(shared.writes, 80);
  assert.deepStrictEqual(shared.limited, 0);
  // Control: the same load without KV does overrun it (each client believes it owns the bucket).
  const alone = await twoClients(false);
  assert.deepStrictEqual(alone.writes, 80);
  assert.ok(alone.limited > 0, "without shared state the two clients collide");
});

Deno.test("emulator: KV failure is not fatal (falls back to memory)", async () => {
  const kv = await Deno.openKv(":memory:");
  kv.close(); // every KV call now throws
  await withEmu({
    guilds: [{ members: 30 }],
    limits: { memberPatch: { limit: 10, windowMs: 500 } },
  }, async (emu, client) => {
    const log = memoryLogger();
    const rest = client({ kv, log });
    const roles = emu.state.guild(GUILD).ethosRoles!;
    await Promise.all(
      humans(emu, 20).map((id) =>
        api.modifyMemberRoles(rest, GUILD, id, [roles.neutral], "kv down")
      ),
    );
    assert.deepStrictEqual(emu.stats.writesTo(MEMBER_PATCH).length, 20);
    assert.ok(rest.stats().shared!.errors >= 1);
    assert.deepStrictEqual(
      log.lines.filter((l) => String(l.msg).includes("shared rate-limit state")).length,
      1,
    );
    assert.ok(rest instanceof RestClient);
  });
});

Deno.test("emulator: a new client over the same KV knows the limits an earlier one learned", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    await withEmu({
      guilds: [{ members: 20 }],
      limits: { memberPatch: { limit: 7, windowMs: 700 }, memberRole: { limit: 3, windowMs: 900 } },
    }, async (emu, client) => {
      const roles = emu.state.guild(GUILD).ethosRoles!;
      const [id] = humans(emu, 1);
      const patch = ["PATCH", `/guilds/${GUILD}/members/${id}`] as const;
      const role = ["PUT", `/guilds/${GUILD}/members/${id}/roles/${roles.neutral}`] as const;
      const first = client({ kv });
      assert.deepStrictEqual(await first.learnedLimits(...patch), null);
      await api.modifyMemberRoles(first, GUILD, id, [roles.untrusted], "learn");
      await api.removeMemberRole(first, GUILD, id, roles.untrusted, "learn");
      await first.close();
      // A new client (a new isolate, the next chunk) before its first request on the routes.
      const next = client({ kv });
      assert.deepStrictEqual(next.bucketInfo(...patch), null);
      assert.deepStrictEqual(await next.learnedLimits(...patch), { limit: 7, windowMs: 700 });
      assert.deepStrictEqual(await next.learnedLimits(...role), { limit: 3, windowMs: 900 });
      // Without KV nothing outlives the client.
      assert.deepStrictEqual(await client().learnedLimits(...patch), null);
    });
  } finally {
    kv.close();
  }
});
