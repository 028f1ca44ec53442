/**
 * The sync engine's chunk (lib/sync/engine.ts) run directly against the Discord + Ethos emulator,
 * with a job context that records every checkpoint: what reaches Discord, what each checkpoint
 * says, and what a chunk that fails leaves for the next one.
 */
import assert from "node:assert/strict";
import { type Emulator, startEmulator } from "../emulator/server.ts";
import { botEnvFor } from "../emulator/bot_env.ts";
import { signingKeys } from "../_harness.ts";
import { memoryLogger } from "../_log.ts";
import { parseConfig } from "../../lib/config.ts";
import { systemClock } from "../../lib/clock.ts";
import { RestClient } from "../../lib/discord/rest.ts";
import { EthosClient } from "../../lib/ethos/client.ts";
import { ScoreCache } from "../../lib/sync/score_cache.ts";
import { loadGuildContext, rulesFor } from "../../lib/sync/context.ts";
import { SyncChunk } from "../../lib/sync/engine.ts";
import type { SyncCheckpoint } from "../../lib/sync/chunk_model.ts";
import type { CheckpointUpdate, ChunkContext } from "../../lib/jobs/runner.ts";
import type { RunRecord } from "../../lib/jobs/store.ts";
import { GUILD, outOfSync, writesByMember } from "../e2e/sync_helpers.ts";

/** Answers a member's writes itself (an error) instead of passing them on to the emulator. */
type Refusal = { status: number; code: number };

async function setup(emu: Emulator, refuse: Map<string, Refusal>) {
  const config = parseConfig(
    botEnvFor(emu, (await signingKeys()).publicKeyHex, GUILD, {
      DISCORD_GLOBAL_RATE_LIMIT: String(emu.limits.global),
    }),
  );
  const kv = await Deno.openKv(":memory:");
  const log = memoryLogger("warn");
  const fetch: typeof globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const member = /\/guilds\/\d+\/members\/(\d+)(\/roles\/\d+)?$/.exec(url.pathname);
    const method = init?.method ?? "GET";
    const r = member && method !== "GET" ? refuse.get(member[1]) : undefined;
    if (r) {
      return Promise.resolve(
        new Response(JSON.stringify({ message: "refused", code: r.code }), {
          status: r.status,
          headers: { "content-type": "application/json" },
        }),
      );
    }
    return globalThis.fetch(input, init);
  };
  const rest = new RestClient({
    token: config.discord.token,
    apiBase: config.discord.apiBase,
    fetch,
    clock: systemClock,
    log,
    globalLimit: config.discord.globalRateLimit,
    retryBaseMs: 5,
    retryMaxMs: 20,
  });
  const ethos = new EthosClient({
    apiBase: config.ethos.apiBase,
    client: config.ethos.client,
    clock: systemClock,
    log,
  });
  const cache = new ScoreCache(kv, systemClock, { ttlMs: 0, noScoreTtlMs: 0 });
  const deps = { config, kv, rest, ethos, cache, clock: systemClock, log };
  const rules = await rulesFor(deps, GUILD);
  const ctx = await loadGuildContext(deps, config, GUILD, rules);
  const checkpoints: (CheckpointUpdate & { outOfSyncUpTo: string[] })[] = [];
  /** One chunk from `cp`, every checkpoint recorded with the members up to its cursor still wrong. */
  const chunk = async (cp: SyncCheckpoint) => {
    const soft = new AbortController();
    const hard = new AbortController();
    const job: ChunkContext = {
      run: { runId: "run-1", key: GUILD, checkpoint: cp, dryRun: false } as unknown as RunRecord,
      preflight: undefined,
      signal: soft.signal,
      hard: hard.signal,
      deadline: Date.now() + 120_000,
      limit: 1_000_000,
      log,
      checkpoint: (u) => {
        const cursor = u.cursor ?? null;
        const wrong = cursor === null
          ? []
          : outOfSync(emu).map((b) => b.id).filter((id) => BigInt(id) <= BigInt(cursor));
        checkpoints.push({ ...structuredClone(u), outOfSyncUpTo: wrong });
        return Promise.resolve();
      },
      stopReason: () => null,
      pause: () => soft.abort(),
    };
    const sync = new SyncChunk(job, deps, {
      rules,
      ctx,
      guildId: GUILD,
      dryRun: false,
      reason: "engine test",
      checkpointItems: 5,
    }, cp);
    try {
      return { ...(await sync.run()), stats: sync.stats };
    } finally {
      soft.abort();
    }
  };
  const counters = () => {
    const out: Record<string, number> = {};
    for (const c of checkpoints) {
      for (const [k, v] of Object.entries(c.counters ?? {})) out[k] = (out[k] ?? 0) + v;
    }
    return out;
  };
  return { chunk, checkpoints, counters, close: () => kv.close() };
}

const start: SyncCheckpoint = { mode: "full", cursor: "0", skip: 0, ctx: null, inc: null };
const byId = (a: string, b: string) => BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;

Deno.test("engine: one chunk writes each out-of-sync member once; checkpoints only pass done members", async () => {
  const emu = await startEmulator({ uniformRate: 200, guilds: [{ members: 120 }] });
  const t = await setup(emu, new Map());
  try {
    const needed = outOfSync(emu).length;
    assert.ok(needed > 20, `the seed should leave members out of sync (${needed})`);
    const members = emu.state.guild(GUILD).members.size;
    const { finished, stats } = await t.chunk(start);
    assert.equal(finished, true);
    assert.deepStrictEqual(outOfSync(emu), []);
    // One write per PATCH member, one per changed role otherwise: never a member twice by PATCH.
    const writes = writesByMember(emu);
    assert.equal(writes.size, needed);
    assert.equal(stats.patches + stats.roleCalls, emu.stats.writes.length);
    assert.deepStrictEqual(emu.stats.noopRoleWrites(), []);
    const c = t.counters();
    assert.equal(c["changed"], needed);
    assert.equal(c["calls.patch"] ?? 0, stats.patches);
    assert.equal(c["calls.role"] ?? 0, stats.roleCalls);
    // Every member is counted once, and the cursors walk forward to the last member.
    const processed = t.checkpoints.reduce((n, u) => n + (u.processed ?? 0), 0);
    assert.equal(processed, members);
    const cursors = t.checkpoints.map((u) => u.cursor).filter((x): x is string => !!x);
    assert.ok(cursors.length > 3, `checkpoints: ${cursors.length}`);
    assert.deepStrictEqual(cursors, [...cursors].sort(byId));
    const last = [...emu.state.guild(GUILD).members.values()].map((m) => m.id).sort(byId).at(-1);
    assert.equal(cursors.at(-1), last);
    // At each checkpoint, every member up to its cursor already had the roles the rule wants.
    for (const u of t.checkpoints) assert.deepStrictEqual(u.outOfSyncUpTo, [], u.cursor ?? "");
  } finally {
    t.close();
    await emu.close();
  }
});

Deno.test("engine: a member refused or gone is counted and the chunk goes on", async () => {
  const emu = await startEmulator({ uniformRate: 200, guilds: [{ members: 120 }] });
  const wrong = outOfSync(emu).map((b) => b.id).sort(byId);
  const [denied, gone] = [wrong[2], wrong[5]];
  const t = await setup(
    emu,
    new Map([[denied, { status: 403, code: 50013 }], [gone, { status: 404, code: 10007 }]]),
  );
  try {
    const { finished } = await t.chunk(start);
    assert.equal(finished, true);
    assert.deepStrictEqual(outOfSync(emu).map((b) => b.id).sort(byId), [denied, gone]);
    const c = t.counters();
    assert.equal(c["errors.missing_permissions"], 1);
    assert.equal(c["skipped.left_guild"], 1);
    assert.equal(c["changed"], wrong.length - 2);
  } finally {
    t.close();
    await emu.close();
  }
});

Deno.test("engine: a write Discord keeps failing fails the chunk; the next resumes before it and repeats no write", async () => {
  const emu = await startEmulator({ uniformRate: 200, guilds: [{ members: 120 }] });
  const wrong = outOfSync(emu).map((b) => b.id).sort(byId);
  const failing = wrong[Math.floor(wrong.length / 2)];
  const refuse = new Map([[failing, { status: 500, code: 0 }]]);
  const t = await setup(emu, refuse);
  try {
    await assert.rejects(t.chunk(start));
    const saved = t.checkpoints.at(-1)!.checkpoint as SyncCheckpoint;
    // The checkpoint stops before the member whose write failed: the next chunk redoes it.
    assert.equal(byId(saved.cursor, failing), -1);
    assert.ok(outOfSync(emu).some((b) => b.id === failing));
    const before = writesByMember(emu);
    refuse.clear();
    const { finished } = await t.chunk(saved);
    assert.equal(finished, true);
    assert.deepStrictEqual(outOfSync(emu), []);
    // Writes that landed before the failure made their diffs empty: nobody is written twice.
    const after = writesByMember(emu);
    assert.equal(after.size, wrong.length);
    for (const [id, n] of before) assert.equal(after.get(id), n, id);
  } finally {
    t.close();
    await emu.close();
  }
});
