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
import { GUILD, offsetClock, startBot } from "./_fixture.ts";
import { startEmulator } from "../emulator/server.ts";
import { backupWatchdog, startCapture, startRestore } from "../../lib/backup/service.ts";
import { getBackup, listBackups, verifyBackup } from "../../lib/backup/store.ts";
import { CAPTURE_KIND } from "../../lib/backup/capture_job.ts";
import { RESTORE_KIND } from "../../lib/backup/restore_job.ts";
import { keys } from "../../lib/kv/keys.ts";

/** A KV whose handle closes when a commit matching `when` is attempted (that commit is lost). */
function killable(kv: Deno.Kv, when: (sets: [Deno.KvKey, unknown][]) => boolean) {
  const state = { killed: false };
  const wrapAtomic = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const sets: [Deno.KvKey, unknown][] = [];
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, prop) {
        if (prop === "commit") {
          return () => {
            if (!state.killed && when(sets)) {
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

Deno.test("capture: 20,000 members in chunks, killed mid-run and resumed elsewhere, same checksum", async () => {
  const emu = await startEmulator({ uniformRate: 2000, guilds: [{ members: 20_000 }] });
  const dir = await Deno.makeTempDir({ prefix: "backup-resume-" });
  const path = `${dir}/kv.sqlite`;
  const env = { BACKUP_COOLDOWN: "0" };
  const runKey = keys.jobRun(CAPTURE_KIND, GUILD);
  try {
    // Instance A: killed when it tries to checkpoint past page 9 (pages 0..8 stored).
    const fileA = await Deno.openKv(path);
    const { kv: kvA, state } = killable(
      fileA,
      (sets) =>
        sets.some(([k, v]) =>
          k.join("/") === runKey.join("/") &&
          (v as { checkpoint?: { pages?: number } }).checkpoint?.pages === 9
        ),
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
    for (let i = 0; i < 1500 && !state.killed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(state.killed, "A was not killed");
    await a.settle();
    await a.close().catch(() => {});

    // Instance B: same KV file, 90 s later; the watchdog resumes the dead run.
    const kvB = await Deno.openKv(path);
    const b = await startBot(emu, { kv: kvB, clock: offsetClock(90_000), env });
    try {
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
    } finally {
      await b.close();
      kvB.close();
    }
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("restore: killed right after creating a role, resumed elsewhere, creates nothing twice", async () => {
  const emu = await startEmulator({ uniformRate: 2000, guilds: [{ members: 300, roles: 4 }] });
  const dir = await Deno.makeTempDir({ prefix: "restore-resume-" });
  const path = `${dir}/kv.sqlite`;
  const runKey = keys.jobRun(RESTORE_KIND, GUILD);
  try {
    const g = emu.state.guild(GUILD);
    const fileA = await Deno.openKv(path);
    // Killed when it commits the checkpoint that records its first created role: the role
    // exists on Discord, the run record does not know.
    const { kv: kvA, state } = killable(
      fileA,
      (sets) =>
        sets.some(([k, v]) =>
          k.join("/") === runKey.join("/") &&
          (v as { counters?: Record<string, number> }).counters?.["created.roles"] === 1
        ),
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
    for (let i = 0; i < 1500 && !state.killed; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(state.killed, "A was not killed");
    await a.settle();
    await a.close().catch(() => {});
    assert.deepStrictEqual(emu.stats.writesTo("POST /guilds/:guild/roles").length, 1);

    const kvB = await Deno.openKv(path);
    const b = await startBot(emu, { kv: kvB, clock: offsetClock(90_000) });
    try {
      assert.deepStrictEqual(await backupWatchdog(b.deps), [GUILD]);
      const done = await b.waitJob("restore");
      assert.deepStrictEqual(done.progress.state, "completed", JSON.stringify(done.progress));
      // One more role created (the second), none twice; the channel once; members back.
      assert.deepStrictEqual(emu.stats.writesTo("POST /guilds/:guild/roles").length, 2);
      assert.deepStrictEqual(emu.stats.writesTo("POST /guilds/:guild/channels").length, 1);
      assert.deepStrictEqual([...g.roles.values()].map((r) => r.name).sort(), names);
      const back = [...g.roles.values()].find((r) => r.name === "Role 1")!;
      for (const h of holders) assert.ok(emu.state.memberRoles(GUILD, h)!.includes(back.id));
    } finally {
      await b.close();
      kvB.close();
    }
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
});
