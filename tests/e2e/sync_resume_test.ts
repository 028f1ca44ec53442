/**
 * Crash-proofing, with the bot as a real process: SIGKILL in the middle of a chunk (the isolate
 * vanishes) and SIGINT (Deploy's eviction notice), then resume. Final roles must be right and no
 * write that landed may be repeated (a repeat would show as a write that changed nothing).
 */
import assert from "node:assert/strict";
import { startEmulator } from "../emulator/server.ts";
import { keys } from "../../lib/kv/keys.ts";
import { leaseName, readSnapshot } from "../../lib/jobs/store.ts";
import { spawnBot } from "./sync_process.ts";
import { membersNeedingChange, outOfSync, startBot, writesByMember } from "./sync_helpers.ts";

const GUILD = "200000000000000001";
/** Slow enough buckets that a chunk of a few hundred members takes seconds. */
const SLOW = {
  global: 200,
  memberPatch: { limit: 4, windowMs: 200 },
  memberRole: { limit: 4, windowMs: 200 },
  memberList: { limit: 10, windowMs: 1000 },
  memberGet: { limit: 50, windowMs: 1000 },
};

async function tempKv(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sync-e2e-" });
  return `${dir}/kv.sqlite`;
}

async function waitProcessed(
  call: (m: string, p: string) => Promise<{ body: Record<string, unknown> }>,
  atLeast: number,
) {
  for (let i = 0; i < 400; i++) {
    const s = (await call("GET", "/sync-status")).body;
    if (
      (s.processed as number) >= atLeast ||
      ((s.counters as Record<string, number>)["calls.patch"] ?? 0) >= atLeast
    ) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no progress");
}

Deno.test("sync e2e: killed mid-chunk (SIGKILL), resumed: right roles, no write repeated", async () => {
  const emu = await startEmulator({ guilds: [{ members: 300 }], limits: SLOW });
  const kvPath = await tempKv();
  try {
    const needed = membersNeedingChange(emu);
    const first = await spawnBot(emu, kvPath, { SYNC_CHUNK_SIZE: "1000" });
    await first.waitHealthy();
    const started = await first.call("POST", "/trigger-sync", {});
    assert.deepStrictEqual(started.status, 202);
    // Some writes have landed, the chunk is far from done.
    await waitProcessed(first.call, 8);
    await first.kill("SIGKILL");
    const writesBefore = emu.stats.writes.length;
    assert.ok(writesBefore > 0 && writesBefore < needed, `${writesBefore} of ${needed}`);

    // A second bot on the same KV. The dead chunk still "holds" its lease until it lapses; age it
    // (as 30 s passing would), then the watchdog-style trigger continues the run.
    const kv = await Deno.openKv(kvPath);
    try {
      const snap = await readSnapshot(kv, "sync", GUILD);
      assert.deepStrictEqual(snap.run?.value.state, "running");
      const refused = await startBot(emu, { kv, env: { SYNC_CHUNK_SIZE: "1000" } });
      try {
        const conflict = await refused.trigger({});
        assert.deepStrictEqual(conflict.status, 409); // lease still live: no second chunk
        await kv.set(keys.lease(leaseName("sync", GUILD)), {
          owner: "dead",
          expiresAt: Date.now() - 1,
          takenAt: 0,
        });
        const status = await refused.status();
        assert.deepStrictEqual(status.state, "running");
        assert.deepStrictEqual(status.lease?.live, false);
        const resumed = await refused.trigger({});
        assert.deepStrictEqual(resumed.status, 202);
        assert.deepStrictEqual(resumed.body.runId, started.body.runId);
        await refused.waitFor();
        await refused.settle();
      } finally {
        await refused.close();
      }
    } finally {
      kv.close();
    }
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(emu.stats.noopRoleWrites(), [], "a landed write was repeated");
    const perMember = writesByMember(emu);
    assert.deepStrictEqual(perMember.size, needed);
  } finally {
    await emu.close();
  }
});

Deno.test("sync e2e: SIGINT checkpoints and releases the lease within 5 s; resume completes", async () => {
  const emu = await startEmulator({ guilds: [{ members: 300 }], limits: SLOW });
  const kvPath = await tempKv();
  try {
    const bot = await spawnBot(emu, kvPath, { SYNC_CHUNK_SIZE: "1000" });
    await bot.waitHealthy();
    const started = await bot.call("POST", "/trigger-sync", {});
    assert.deepStrictEqual(started.status, 202);
    await waitProcessed(bot.call, 8);
    const ms = await bot.kill("SIGINT");
    assert.ok(ms < 5000, `exit took ${ms} ms`);
    const kv = await Deno.openKv(kvPath);
    try {
      const snap = await readSnapshot(kv, "sync", GUILD);
      assert.deepStrictEqual(snap.lease, null, "lease released");
      assert.deepStrictEqual(snap.run?.value.state, "waiting");
      assert.ok((snap.run?.value.processed ?? 0) > 0);
      const again = await startBot(emu, { kv, env: { SYNC_CHUNK_SIZE: "1000" } });
      try {
        const r = await again.trigger({});
        assert.deepStrictEqual(r.status, 202);
        assert.deepStrictEqual(r.body.runId, started.body.runId);
        await again.waitFor();
        await again.settle();
      } finally {
        await again.close();
      }
    } finally {
      kv.close();
    }
    assert.deepStrictEqual(outOfSync(emu), []);
    assert.deepStrictEqual(emu.stats.noopRoleWrites(), []);
  } finally {
    await emu.close();
  }
});
