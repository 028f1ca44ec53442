/**
 * Role sync end to end on the emulator, through the bot's HTTP routes: membership changes
 * between chunks, stop and resume, concurrent triggers, Ethos down, a role above the bot, a
 * moderator's concurrent change, dry run, auth, incremental mode and Discord-like buckets.
 * Kept in one file past 400 lines: the scenarios share one emulator fixture.
 */
import assert from "node:assert/strict";
import {
  GUILD,
  managedSet,
  membersNeedingChange,
  outOfSync,
  ruleEnvOf,
  snapshotRoles,
  startBot,
  startFixture,
  writesByMember,
} from "./sync_helpers.ts";
import { syncLowerBound } from "../../lib/sync/scheduler.ts";

import type { Emulator } from "../emulator/server.ts";

const idsOf = (emu: Emulator) => [...emu.state.guild(GUILD).members.ids()];

Deno.test("sync e2e: members joining and leaving between chunks", async () => {
  const fx = await startFixture({ guilds: [{ members: 240 }] }, { env: { SYNC_CHUNK_SIZE: "60" } });
  try {
    const { emu, bot } = fx;
    const r1 = await bot.trigger({}, "?wait=true");
    assert.deepStrictEqual([r1.status, r1.body.state], [200, "waiting"]);
    const cursor = (r1.body.status as { cursor: string }).cursor;
    const g = emu.state.guild(GUILD);
    const ids = idsOf(emu).filter((id) => !g.members.get(id)!.bot && id !== g.ownerId);
    const roles = g.ethosRoles!;
    // Leave: one member not reached yet, and one already processed.
    const ahead = ids.filter((id) => BigInt(id) > BigInt(cursor));
    const gone = ahead[5];
    emu.state.removeMember(GUILD, gone);
    emu.state.removeMember(GUILD, ids.find((id) => BigInt(id) < BigInt(cursor))!);
    // Join: a verified member with a score, ahead of the cursor, holding a wrong tier.
    const joiner = String(BigInt(ahead[10]) + 1n);
    emu.state.addMember(GUILD, { id: joiner, roles: [roles.verified, roles.untrusted] });
    emu.state.setScore(joiner, 2300);
    // And one who joins behind the cursor: this run does not revisit it (the next run will).
    const behind = String(BigInt(ids[0]) + 1n);
    emu.state.addMember(GUILD, { id: behind, roles: [roles.verified] });
    emu.state.setScore(behind, 900);
    for (let i = 0; i < 10; i++) {
      const r = await bot.trigger({}, "?wait=true");
      assert.deepStrictEqual(r.status, 200);
      if (r.body.state === "completed") break;
    }
    const done = await bot.status();
    assert.deepStrictEqual(done.state, "completed", JSON.stringify(done.lastError));
    assert.deepStrictEqual(outOfSync(emu, GUILD, new Set([behind])), []);
    assert.deepStrictEqual(emu.state.memberRoles(GUILD, behind), [roles.verified]);
    assert.deepStrictEqual(
      emu.state.memberRoles(GUILD, joiner)!.sort(),
      [roles.verified, roles.exemplary, roles.profile].sort(),
    );
    assert.deepStrictEqual(emu.stats.noopRoleWrites(), []);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: stop and resume; a concurrent trigger is refused with the status", async () => {
  const fx = await startFixture({
    guilds: [{ members: 300 }],
    limits: { memberPatch: { limit: 3, windowMs: 200 }, memberRole: { limit: 3, windowMs: 200 } },
  }, { env: { SYNC_CHUNK_SIZE: "1000" } });
  try {
    const { emu, bot } = fx;
    const r = await bot.trigger({});
    assert.deepStrictEqual(r.status, 202);
    const again = await bot.trigger({});
    assert.deepStrictEqual(again.status, 409);
    assert.deepStrictEqual((again.body.status as { state: string }).state, "running");
    await bot.waitFor((p) => (p.counters["changed"] ?? 0) >= 5);
    const s = await bot.stop();
    assert.deepStrictEqual(s.status, 202);
    const stopped = await bot.waitFor((p) => p.state === "stopped");
    assert.ok(stopped.processed < 300, `processed ${stopped.processed}`);
    await bot.settle();
    const writesAtStop = emu.stats.writes.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.deepStrictEqual(emu.stats.writes.length, writesAtStop, "no writes after the stop");
    // Resume: same run, from the checkpoint.
    const resumed = await bot.trigger({});
    assert.deepStrictEqual(resumed.status, 202);
    assert.deepStrictEqual(resumed.body.runId, r.body.runId);
    await bot.waitFor(undefined, 60_000);
    await bot.settle();
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(emu.stats.noopRoleWrites(), []);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: Ethos down: the run pauses, nobody is stripped, and it completes once Ethos is back", async () => {
  const fx = await startFixture({ guilds: [{ members: 200 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  try {
    const { emu, bot } = fx;
    const env = ruleEnvOf(emu);
    const managed = managedSet(env);
    const before = snapshotRoles(emu);
    emu.state.ethos.failing = true;
    const writesBefore = emu.stats.writes.length;
    const r = await bot.trigger({}, "?wait=true");
    // The run pauses instead of walking on: waiting, nothing skipped or written, a warning says why.
    assert.deepStrictEqual(r.body.state, "waiting");
    const status = r.body.status as {
      counters: Record<string, number>;
      warnings: string[];
      processed: number;
    };
    assert.deepStrictEqual(status.processed, 0);
    assert.ok(!status.counters["skipped.score_unavailable"], JSON.stringify(status.counters));
    assert.ok(
      status.warnings.some((w) => w.includes("Ethos API failed")),
      JSON.stringify(status.warnings),
    );
    assert.deepStrictEqual(emu.stats.writes.length, writesBefore);
    // No verified member lost a managed role.
    for (const [id, roles] of before) {
      if (!roles.includes(env.verified)) continue;
      const now = emu.state.memberRoles(GUILD, id)!;
      for (const role of roles.filter((x) => managed.has(x))) {
        assert.ok(now.includes(role), `member ${id} lost ${role} while Ethos was down`);
      }
    }
    // Ethos back: continuing the paused run fixes everyone.
    emu.state.ethos.failing = false;
    const resumed = await bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(resumed.body.state, "completed");
    assert.deepStrictEqual(outOfSync(emu), []);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: a userkey missing from the bulk answer is confirmed before stripping", async () => {
  const fx = await startFixture({ guilds: [{ members: 100 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  try {
    const { emu, bot } = fx;
    const roles = emu.state.guild(GUILD).ethosRoles!;
    // A verified member with a score and the right roles, whom the bulk answer leaves out.
    const id = "990000000000000001";
    emu.state.addMember(GUILD, { id, roles: [roles.verified, roles.exemplary, roles.profile] });
    emu.state.setScore(id, 2500);
    emu.state.ethos.omitFromBulk.add(`service:discord:${id}`);
    await bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(
      emu.state.memberRoles(GUILD, id)!.sort(),
      [roles.verified, roles.exemplary, roles.profile].sort(),
    );
    assert.ok((emu.stats.ethosCalls["GET /score/userkey"] ?? 0) >= 1);
    assert.deepStrictEqual(outOfSync(emu), []);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: a tier role above the bot is reported and skipped, not retried forever", async () => {
  const fx = await startFixture({ guilds: [{ members: 200 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  await fx.bot.close();
  const { emu } = fx;
  const g = emu.state.guild(GUILD);
  const bot = await startBot(emu, {
    env: { SYNC_CHUNK_SIZE: "1000", ETHOS_ROLE_EXEMPLARY: g.aboveBotRole! },
  });
  try {
    const r = await bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed");
    const status = r.body.status as { counters: Record<string, number>; warnings: string[] };
    assert.ok(
      status.warnings.some((w) => w.includes("above the bot")),
      JSON.stringify(status.warnings),
    );
    assert.ok(
      (status.counters["blocked.role_above_bot"] ?? 0) > 0,
      JSON.stringify(status.counters),
    );
    // Never a write giving or taking that role, never a 403.
    const touched = emu.stats.writes.filter((w) =>
      w.rolesBefore?.includes(g.aboveBotRole!) !== w.rolesAfter?.includes(g.aboveBotRole!)
    );
    assert.deepStrictEqual(touched.length, 0);
    assert.deepStrictEqual(emu.stats.statuses[403] ?? 0, 0);
    // A second run finds nothing new to do for them: no write at all.
    const writes = emu.stats.writes.length;
    const r2 = await bot.trigger({ startIndex: 0 }, "?wait=true");
    assert.deepStrictEqual(r2.body.state, "completed");
    assert.deepStrictEqual(emu.stats.writes.length, writes);
  } finally {
    await bot.close();
    await emu.close();
  }
});

Deno.test("sync e2e: a moderator's concurrent role changes are never undone", async () => {
  const fx = await startFixture({
    guilds: [{ members: 160, inSyncShare: 0 }],
    limits: { memberPatch: { limit: 2, windowMs: 200 }, memberRole: { limit: 1, windowMs: 200 } },
  }, { env: { SYNC_CHUNK_SIZE: "1000", SYNC_FRESH_MS: "300" } });
  try {
    const { emu, bot } = fx;
    const g = emu.state.guild(GUILD);
    const [extraA, extraB] = g.extraRoles;
    const env = ruleEnvOf(emu);
    const needing = outOfSync(emu).map((m) => m.id);
    // The last members to be processed: the moderator edits them while the run is on its way.
    const late = needing.slice(-12);
    const r = await bot.trigger({});
    assert.deepStrictEqual(r.status, 202);
    await bot.waitFor((p) => (p.counters["changed"] ?? 0) >= 3);
    for (const id of late) {
      const roles = emu.state.memberRoles(GUILD, id)!;
      const next = roles.includes(extraA) ? roles.filter((x) => x !== extraA) : [...roles, extraA];
      emu.state.setMemberRoles(GUILD, id, [...next, extraB]);
    }
    const edited = new Map(late.map((id) => [id, emu.state.memberRoles(GUILD, id)!]));
    const done = await bot.waitFor(undefined, 60_000);
    await bot.settle();
    // PATCHes computed from a stale page read were re-read first.
    assert.ok((done.counters["calls.reread"] ?? 0) > 0, JSON.stringify(done.counters));
    for (const [id, afterMod] of edited) {
      const now = emu.state.memberRoles(GUILD, id)!;
      for (const role of [extraA, extraB]) {
        assert.deepStrictEqual(
          now.includes(role),
          afterMod.includes(role),
          `member ${id}: role ${role} undone`,
        );
      }
    }
    assert.deepStrictEqual(outOfSync(emu), []);
    void env;
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: dry run reports what would change and writes nothing", async () => {
  const fx = await startFixture({ guilds: [{ members: 150 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  try {
    const { emu, bot } = fx;
    const needed = membersNeedingChange(emu);
    const r = await bot.trigger({ dryRun: true }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed");
    const planned = r.body.planned as { userId: string; add: string[]; remove: string[] }[];
    assert.deepStrictEqual(planned.length, needed);
    assert.deepStrictEqual(emu.stats.writes.length, 0);
    const status = r.body.status as {
      dryRun: boolean;
      counters: Record<string, number>;
      sample: unknown[];
    };
    assert.deepStrictEqual(status.dryRun, true);
    assert.deepStrictEqual(status.counters["changed"], needed);
    assert.ok(status.sample.length > 0);
    const names = new Set(Object.values(emu.state.guild(GUILD).roles).map(() => ""));
    void names;
    assert.ok(planned.every((p) => p.add.length + p.remove.length > 0));
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: the routes need the bearer token, and refuse everything without one", async () => {
  const fx = await startFixture({ guilds: [{ members: 20 }] });
  try {
    const { bot, emu } = fx;
    for (
      const [method, path] of [["POST", "/trigger-sync"], ["GET", "/sync-status"], [
        "POST",
        "/stop-sync",
      ]]
    ) {
      const none = await bot.request(method, path, method === "POST" ? {} : undefined, null);
      assert.deepStrictEqual(none.status, 401, `${method} ${path}`);
      await none.body?.cancel();
      const wrong = await bot.request(
        method,
        path,
        method === "POST" ? {} : undefined,
        "wrong-token-0123456789",
      );
      assert.deepStrictEqual(wrong.status, 401);
      await wrong.body?.cancel();
    }
    assert.deepStrictEqual(emu.stats.writes.length, 0);
    await bot.close();
    const open = await startBot(emu, { env: { SYNC_AUTH_TOKEN: "" } });
    try {
      const res = await open.request("GET", "/sync-status", undefined, "anything-at-all-0123");
      assert.deepStrictEqual(res.status, 401);
      assert.match((await res.json()).error, /SYNC_AUTH_TOKEN is not set/);
      const bad = await open.request("POST", "/trigger-sync", { startIndex: -1 }, null);
      assert.deepStrictEqual(bad.status, 401);
      await bad.body?.cancel();
    } finally {
      await open.close();
    }
  } finally {
    await fx.emu.close();
  }
});

Deno.test("sync e2e: bad bodies are refused with 400", async () => {
  const fx = await startFixture({ guilds: [{ members: 20 }] });
  try {
    for (const body of [{ startIndex: -1 }, { chunkSize: 0 }, { dryRun: "yes" }, { unknown: 1 }]) {
      const res = await fx.bot.request("POST", "/trigger-sync", body);
      assert.deepStrictEqual(res.status, 400, JSON.stringify(body));
      await res.body?.cancel();
    }
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: incremental mode syncs only members whose Ethos score changed", async () => {
  const fx = await startFixture({ guilds: [{ members: 200 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  try {
    const { emu, bot } = fx;
    await bot.trigger({}, "?wait=true");
    assert.deepStrictEqual(outOfSync(emu), []);
    const roles = emu.state.guild(GUILD).ethosRoles!;
    // Three verified members change score; one Ethos user outside the guild changes too.
    const verified = [...emu.state.guild(GUILD).members.values()]
      .filter((m) =>
        !m.bot && m.roles.includes(roles.verified) && emu.state.score(m.id) !== undefined
      )
      .slice(0, 3);
    const now = Date.now();
    emu.state.setScore(verified[0].id, 2700, now);
    emu.state.setScore(verified[1].id, 100, now);
    emu.state.setScore(verified[2].id, null, now);
    emu.state.setScore("880000000000000001", 1500, now);
    emu.stats.reset();
    const r = await bot.trigger({ mode: "incremental", startIndex: 0 }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed");
    const st = r.body.status as {
      mode: string;
      processed: number;
      counters: Record<string, number>;
    };
    assert.deepStrictEqual(st.mode, "incremental");
    assert.ok(st.processed >= 4 && st.processed < 50, `processed ${st.processed}`);
    assert.deepStrictEqual(st.counters["changed"], 3);
    assert.ok((emu.stats.ethosCalls["GET /score/updates"] ?? 0) >= 1);
    assert.deepStrictEqual(
      emu.stats.requests["GET /guilds/:guild/members"] ?? 0,
      0,
      "no full member walk",
    );
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(
      emu.state.memberRoles(GUILD, verified[0].id)!.includes(roles.exemplary),
      true,
    );
    assert.deepStrictEqual(
      emu.state.memberRoles(GUILD, verified[2].id)!.includes(roles.profile),
      false,
    );
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: Discord-like buckets (scaled 20x): both write routes busy, no 429, near the bound", async () => {
  const s = 20;
  const limits = {
    global: 50 * s,
    memberPatch: { limit: 10, windowMs: 10_000 / s },
    memberRole: { limit: 10, windowMs: 10_000 / s },
    memberList: { limit: 10, windowMs: 10_000 / s },
    memberGet: { limit: 5, windowMs: 1_000 / s },
  };
  const fx = await startFixture({ guilds: [{ members: 250 }], limits }, {
    env: { SYNC_CHUNK_SIZE: "1000", SYNC_FRESH_MS: "250" },
  });
  try {
    const { emu, bot } = fx;
    const changes = outOfSync(emu).map((m) => {
      const want = new Set(m.want);
      const has = new Set(m.has);
      return [...want].filter((r) => !has.has(r)).length +
        [...has].filter((r) => !want.has(r)).length;
    });
    const bound = syncLowerBound(changes, emu.state.guild(GUILD).members.size, {
      patch: limits.memberPatch,
      role: limits.memberRole,
      list: limits.memberList,
      global: limits.global,
    }, 4);
    const t0 = Date.now();
    const r = await bot.trigger({}, "?wait=true");
    const ms = Date.now() - t0;
    assert.deepStrictEqual(r.body.state, "completed");
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(emu.stats.rateLimited, { user: 0, global: 0, shared: 0 });
    const patches = emu.stats.writesTo("PATCH /guilds/:guild/members/:user").length;
    const roleCalls = emu.stats.writes.length - patches;
    assert.ok(patches > 0 && roleCalls > 0, `patches ${patches}, role calls ${roleCalls}`);
    assert.ok(
      emu.stats.writes.length <= bound.patchCalls + bound.roleCalls + 3,
      `${emu.stats.writes.length} writes vs ${bound.patchCalls + bound.roleCalls}`,
    );
    assert.ok(ms < bound.ms * 1.3 + 1500, `took ${ms} ms, bound ${bound.ms} ms`);
    assert.deepStrictEqual(writesByMember(emu).size, changes.length);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: the watchdog cron resumes a run whose chunk died, over HTTP", async () => {
  const fx = await startFixture({ guilds: [{ members: 200 }] }, {
    env: { SYNC_CHUNK_SIZE: "50", AUTO_CONTINUE_CHUNKS: "true" },
  });
  try {
    const { bot, emu } = fx;
    const { syncWatchdog } = await import("../../lib/sync/service.ts");
    const { keys } = await import("../../lib/kv/keys.ts");
    const { leaseName } = await import("../../lib/jobs/store.ts");
    // One chunk, then pretend it died right after its checkpoint (running, lease lapsed).
    const r = await bot.trigger({ chunkSize: 50, startIndex: 0 }, "?wait=true");
    await bot.stop(); // keep the self-chain from racing the test
    await bot.settle();
    const entry = await bot.kv.get<Record<string, unknown>>(keys.jobRun("sync", GUILD));
    await bot.kv.set(keys.jobRun("sync", GUILD), { ...entry.value, state: "running" });
    await bot.kv.delete(keys.jobStop("sync", GUILD));
    await bot.kv.set(keys.lease(leaseName("sync", GUILD)), {
      owner: "dead",
      expiresAt: Date.now() - 1,
      takenAt: 0,
    });
    assert.deepStrictEqual(await syncWatchdog(bot.deps), [GUILD]);
    const done = await bot.waitFor(undefined, 30_000);
    await bot.settle();
    assert.deepStrictEqual(done.runId, r.body.runId);
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(await syncWatchdog(bot.deps), []);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: a startIndex that matches no checkpoint walks past that many members", async () => {
  const fx = await startFixture({ guilds: [{ members: 200 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000" },
  });
  try {
    const { emu, bot } = fx;
    const ids = idsOf(emu);
    const before = snapshotRoles(emu);
    const r = await bot.trigger({ startIndex: 120 }, "?wait=true");
    assert.deepStrictEqual(r.body.state, "completed");
    const st = r.body.status as { processed: number; total: number };
    assert.deepStrictEqual(st.processed, ids.length);
    // The first 120 members were passed over: untouched.
    for (const id of ids.slice(0, 120)) {
      assert.deepStrictEqual(emu.state.memberRoles(GUILD, id)!.sort(), before.get(id));
    }
    const rest = new Set(ids.slice(120));
    assert.deepStrictEqual(outOfSync(emu).filter((m) => rest.has(m.id)), []);
  } finally {
    await fx.close();
  }
});

Deno.test("sync e2e: the write buckets' real limits are learned from Discord's headers", async () => {
  // Configured for Discord's reported 10 per 10 s; the emulator allows 200/s.
  const fx = await startFixture({ guilds: [{ members: 200 }] }, {
    env: { SYNC_CHUNK_SIZE: "1000", SYNC_PATCH_LIMIT: "10/10s", SYNC_ROLE_LIMIT: "10/10s" },
  });
  try {
    const { emu, bot } = fx;
    const needed = membersNeedingChange(emu);
    assert.ok(needed > 40);
    const t0 = Date.now();
    const r = await bot.trigger({}, "?wait=true");
    const ms = Date.now() - t0;
    assert.deepStrictEqual(r.body.state, "completed");
    // At the configured pace this would take about needed / 2 seconds.
    assert.ok(ms < 8_000, `took ${ms} ms for ${needed} members`);
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.ok(
      bot.log.lines.some((l) => l.msg === "sync: adopting the bucket limit Discord reported"),
    );
  } finally {
    await fx.close();
  }
});
