/**
 * Hard kills. A 20,000-member capture over several chunks, killed in the middle and resumed by another
 * instance, stores the same snapshot (same checksum) as an uninterrupted capture.
 *
 * The kill is the hard kind: instance A's KV handle is closed at the moment it commits the
 * checkpoint that would move past member page 9, whose entries it has just stored. Nothing of A
 * runs after that (no final checkpoint, the lease is left behind, the run stays "running"), as
 * after a SIGKILL. Instance B opens the same KV file with its clock 90 s ahead (A's lease has
 * lapsed), its watchdog finds the dead run and continues it.
 */
import assert from "node:assert/strict";
import { GUILD, offsetClock, startBot, type TestBot } from "../backup/_fixture.ts";
import type { Emulator } from "../emulator/server.ts";
import { withEmulator } from "../emulator/test_helpers.ts";
import type { SeedGuildOptions } from "../emulator/seed.ts";
import { backupWatchdog, startCapture, startRestore } from "../../lib/backup/service.ts";
import { getBackup, listBackups, verifyBackup } from "../../lib/backup/store.ts";
import { CAPTURE_KIND } from "../../lib/backup/capture_job.ts";
import { RESTORE_KIND } from "../../lib/backup/restore_job.ts";
import { keys } from "../../lib/kv/keys.ts";

/**
 * A KV whose handle closes when a commit sets `runKey` to a value matching `when` (that commit is
 * lost), as a SIGKILL would leave it.
 */
function killable(kv: Deno.Kv, runKey: Deno.KvKey, when: (run: unknown) => boolean) {
  const state = { killed: false };
  const dies = (sets: [Deno.KvKey, unknown][]) =>
    sets.some(([k, v]) => k.join("/") === runKey.join("/") && when(v));
  const wrapAtomic = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const sets: [Deno.KvKey, unknown][] = [];
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "commit") {
          return () => {
            if (!state.killed && dies(sets)) {
              state.killed = true;
              kv.close();
              return Promise.reject(new Error("killed"));
            }
            return target.commit();
          };
        }
        const value = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (prop === "set") sets.push([args[0] as Deno.KvKey, args[1]]);
          (value as (...a: unknown[]) => unknown).apply(target, args);
          return proxy;
        };
      },
    });
    return proxy;
  };
  const proxied = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => wrapAtomic(target.atomic());
      if (prop === "close") return () => state.killed || target.close();
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: proxied, state };
}

/** Runs `fn` with an emulator seeded with `guild` and a KV file path in a fresh temporary folder. */
async function withEmulatorAndFile(
  guild: Omit<SeedGuildOptions, "id">,
  prefix: string,
  fn: (emu: Emulator, path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await withEmulator(
      { uniformRate: 2000, guilds: [guild] },
      (emu) => fn(emu, `${dir}/kv.sqlite`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Waits until instance A is killed (polling every `pollMs`, 1,500 times at most), then drops it. */
async function untilKilled(a: TestBot, state: { killed: boolean }, pollMs: number): Promise<void> {
  for (let i = 0; i < 1500 && !state.killed; i++) await new Promise((r) => setTimeout(r, pollMs));
  assert.ok(state.killed, "A was not killed");
  await a.settle();
  await a.close().catch(() => {});
}

/** Instance B: the same KV file, its clock 90 s ahead (A's lease has lapsed), closed after `fn`. */
async function resumeElsewhere(
  emu: Emulator,
  path: string,
  env: Record<string, string>,
  fn: (b: TestBot) => Promise<void>,
): Promise<void> {
  const kvB = await Deno.openKv(path);
  const b = await startBot(emu, { kv: kvB, clock: offsetClock(90_000), env });
  try {
    await fn(b);
  } finally {
    await b.close();
    kvB.close();
  }
}

Deno.test("capture: 20,000 members in chunks, killed mid-run and resumed elsewhere, same checksum", () =>
  withEmulatorAndFile({ members: 20_000 }, "backup-resume-", async (emu, path) => {
    const env = { BACKUP_COOLDOWN: "0" };
    const runKey = keys.jobRun(CAPTURE_KIND, GUILD);
    // Instance A: killed when it tries to checkpoint past page 9 (pages 0..8 stored).
    const { kv: kvA, state } = killable(
      await Deno.openKv(path),
      runKey,
      (run) => (run as { checkpoint?: { pages?: number } }).checkpoint?.pages === 9,
    );
    const a = await startBot(emu, { kv: kvA, env });
    const started = await startCapture(a.deps, GUILD, {
      authorId: "1",
      authorName: "a",
      source: "test",
      chunkSize: 5_000,
      label: "resumed",
    });
    assert.deepStrictEqual(started.status, "started");
    const backupId = started.status === "started" ? started.backupId! : "";
    // Chunk 1 ends after 5 pages; chunk 2 continues in-process and is killed on its way.
    await untilKilled(a, state, 20);

    // Instance B: the watchdog resumes the dead run.
    await resumeElsewhere(emu, path, env, async (b) => {
      const before = await b.kv.get<{ state: string; checkpoint: { pages: number } }>(runKey);
      assert.deepStrictEqual(before.value?.state, "running", "A died with the run marked running");
      assert.deepStrictEqual(before.value?.checkpoint.pages, 8);
      const acted = await backupWatchdog(b.deps);
      assert.deepStrictEqual(acted, [GUILD]);
      const resumed = await b.waitJob("capture", 60_000);
      assert.deepStrictEqual(resumed.progress.state, "completed", JSON.stringify(resumed.progress));
      assert.deepStrictEqual(resumed.backupId, backupId);
      assert.ok(resumed.progress.chunk >= 3, `chunks: ${resumed.progress.chunk}`);
      const meta = (await getBackup(b.kv, GUILD, backupId))!;
      const humans = [...emu.state.guild(GUILD).members.values()].filter((m) => !m.bot).length;
      assert.deepStrictEqual(meta.memberCount, humans);
      assert.deepStrictEqual((await verifyBackup(b.kv, GUILD, backupId)).ok, true);

      // An uninterrupted capture of the same guild.
      const clean = await startCapture(b.deps, GUILD, {
        authorId: "1",
        authorName: "b",
        source: "test",
        chunkSize: 5_000,
      });
      assert.deepStrictEqual(clean.status, "started");
      const done = await b.waitJob("capture", 60_000);
      assert.deepStrictEqual(done.progress.state, "completed");
      assert.ok(done.progress.chunk >= 4, `chunks: ${done.progress.chunk}`);
      const meta2 = (await getBackup(b.kv, GUILD, done.backupId!))!;
      assert.deepStrictEqual(meta2.checksum, meta.checksum);
      assert.deepStrictEqual((await listBackups(b.kv, GUILD)).length, 2);
      // No work data is left behind.
      const leftovers = [];
      for await (const e of b.kv.list({ prefix: keys.blob("head", "backup", "work") })) {
        leftovers.push(e.key);
      }
      assert.deepStrictEqual(leftovers, []);
    });
  }));

Deno.test("restore: killed right after creating a role, resumed elsewhere, creates nothing twice", () =>
  withEmulatorAndFile({ members: 300, roles: 4 }, "restore-resume-", async (emu, path) => {
    const runKey = keys.jobRun(RESTORE_KIND, GUILD);
    const g = emu.state.guild(GUILD);
    // Killed when it commits the checkpoint that records its first created role: the role
    // exists on Discord, the run record does not know.
    const { kv: kvA, state } = killable(
      await Deno.openKv(path),
      runKey,
      (run) => (run as { counters?: Record<string, number> }).counters?.["created.roles"] === 1,
    );
    const a = await startBot(emu, { kv: kvA });
    await startCapture(a.deps, GUILD, { authorId: "1", authorName: "a", source: "test" });
    const backupId = (await a.waitJob("capture")).backupId!;
    const names = [...g.roles.values()].map((r) => r.name).sort();
    const [r1, r2] = g.extraRoles;
    const holders = [...g.members.values()].filter((m) => m.roles.includes(r1)).map((m) => m.id);
    emu.state.deleteRole(GUILD, r1);
    emu.state.deleteRole(GUILD, r2);
    const general = [...g.channels.values()].find((c) => c.name === "general")!;
    emu.state.deleteChannel(general.id);

    const r = await startRestore(a.deps, GUILD, {
      backupId,
      actorId: "1",
      actorName: "a",
      source: "test",
    });
    // The killed chunk's promise rejects (its KV is gone); nobody else waits for it.
    if (r.status === "started") a.deps.waitUntil(r.start.done);
    await untilKilled(a, state, 10);
    assert.deepStrictEqual(emu.stats.writesTo("POST /guilds/:guild/roles").length, 1);

    await resumeElsewhere(emu, path, {}, async (b) => {
      assert.deepStrictEqual(await backupWatchdog(b.deps), [GUILD]);
      const done = await b.waitJob("restore");
      assert.deepStrictEqual(done.progress.state, "completed", JSON.stringify(done.progress));
      // One more role created (the second), none twice; the channel once; members back.
      assert.deepStrictEqual(emu.stats.writesTo("POST /guilds/:guild/roles").length, 2);
      assert.deepStrictEqual(emu.stats.writesTo("POST /guilds/:guild/channels").length, 1);
      assert.deepStrictEqual([...g.roles.values()].map((r) => r.name).sort(), names);
      const back = [...g.roles.values()].find((r) => r.name === "Role 1")!;
      for (const h of holders) assert.ok(emu.state.memberRoles(GUILD, h)!.includes(back.id));
    });
  }));
