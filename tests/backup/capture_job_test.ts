/**
 * lib/backup/capture_job.ts: the capture as a job, chunk by chunk against the emulator. A run
 * starts only from its params, reads the guild once, then member pages after its cursor; however
 * it is cut into chunks it stores the same snapshot, and it leaves no work data behind.
 */
import assert from "node:assert/strict";
import { captureNow, GUILD, handChunk, WHO, withGuild } from "./_jobs.ts";
import { keys } from "../../lib/kv/keys.ts";
import { getBlobHead } from "../../lib/kv/blob.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { BackupDisabledError } from "../../lib/backup/preflight.ts";
import { BackupLimitError, getBackup, verifyBackup } from "../../lib/backup/store.ts";
import {
  CAPTURE_CONTINUE_PATH,
  CAPTURE_KIND,
  type CaptureCheckpoint,
  captureJob,
  limitsOf,
  sweepCaptureWork,
} from "../../lib/backup/capture_job.ts";

const baseKey = (runId: string) => keys.backupWork(GUILD, runId, "base");

/** Every work blob left in KV, by run id. */
async function workRuns(kv: Deno.Kv): Promise<string[]> {
  const runs = new Set<string>();
  for await (const e of kv.list({ prefix: keys.blob("head", "backup", "work", GUILD) })) {
    runs.add(String(e.key[5]));
  }
  return [...runs].sort();
}

Deno.test("captureJob: kind, route, limits from the config; a run starts only from its params", () =>
  withGuild({ members: 5 }, async ({ deps }) => {
    const bare = captureJob(deps);
    assert.equal(bare.kind, CAPTURE_KIND);
    assert.equal(bare.continuePath, CAPTURE_CONTINUE_PATH);
    await assert.rejects(
      async () => await bare.newRun({ key: GUILD, source: "test" }, 0),
      /starts from startCapture\(\)/,
    );
    const { mode, checkpoint } = await captureJob(deps, WHO).newRun({ key: GUILD, source: "t" }, 0);
    assert.equal(mode, "capture");
    assert.deepStrictEqual(checkpoint, {
      backupId: WHO.backupId,
      label: WHO.label,
      authorId: WHO.authorId,
      authorName: WHO.authorName,
      source: WHO.source,
      createdAt: deps.clock.now(),
      phase: "base",
      cursor: "0",
      pages: 0,
      members: 0,
    });
  }, {
    env: { BACKUP_MAX_PER_GUILD: "3", BACKUP_COOLDOWN: "60", BACKUP_RETENTION_DAYS: "9" },
  }));

Deno.test("limitsOf: the backup limits of the config", () =>
  withGuild({ members: 1 }, ({ deps }) => {
    assert.deepStrictEqual(limitsOf(deps), { maxPerGuild: 3, cooldownS: 60, retentionDays: 9 });
    return Promise.resolve();
  }, {
    env: { BACKUP_MAX_PER_GUILD: "3", BACKUP_COOLDOWN: "60", BACKUP_RETENTION_DAYS: "9" },
  }));

Deno.test("captureJob: a manual start respects the cooldown, a scheduled one does not", () =>
  withGuild({ members: 5 }, async ({ deps }) => {
    await captureNow(deps);
    const req = { key: GUILD, source: "test" };
    await assert.rejects(
      async () => await captureJob(deps, { ...WHO, respectCooldown: true }).newRun(req, 0),
      BackupLimitError,
    );
    const scheduled = await captureJob(deps, { ...WHO, backupId: "bk000002" }).newRun(req, 0);
    assert.equal((scheduled.checkpoint as CaptureCheckpoint).backupId, "bk000002");
  }, { env: { BACKUP_COOLDOWN: "300" } }));

Deno.test("captureJob: every chunk passes the backups flag", () =>
  withGuild({ members: 1 }, async ({ deps, kv }) => {
    const job = captureJob(deps);
    assert.equal(await job.preflight!(GUILD), true);
    await setFlag(kv, GUILD, "backups", false);
    await assert.rejects(() => job.preflight!(GUILD), BackupDisabledError);
  }));

Deno.test("capture: chunks of one page each store the same snapshot as a single chunk", () =>
  withGuild({ members: 2_300 }, async ({ emu, deps, kv }) => {
    const paged = await captureNow(deps, {}, { runId: "run-paged", limit: 1_000 });
    assert.equal(paged.chunks, 3);
    const whole = await captureNow(deps, { backupId: "bk000002" }, { runId: "run-whole" });
    assert.equal(whole.chunks, 1);
    assert.equal(whole.checksum, paged.checksum);

    const humans = [...emu.state.guild(GUILD).members.values()].filter((m) => !m.bot).length;
    assert.equal(paged.memberCount, humans);
    const meta = (await getBackup(kv, GUILD, WHO.backupId))!;
    assert.deepStrictEqual(
      [meta.label, meta.authorId, meta.source, meta.runId, meta.checksum],
      [WHO.label, WHO.authorId, WHO.source, "run-paged", paged.checksum],
    );
    assert.equal((await verifyBackup(kv, GUILD, WHO.backupId)).ok, true);
    assert.deepStrictEqual(await workRuns(kv), [], "no work data left behind");
    const audit = (await readAudit(kv, GUILD, { limit: 10 })).entries;
    assert.deepStrictEqual(audit.map((e) => [e.action, e.detail.backupId]), [
      ["backup.create", "bk000002"],
      ["backup.create", WHO.backupId],
    ]);
  }));

Deno.test("capture: the base is read once, then each page is checkpointed past its cursor", () =>
  withGuild({ members: 1_500 }, async ({ deps }) => {
    const job = captureJob(deps, WHO);
    const { checkpoint } = await job.newRun({ key: GUILD, source: "test" }, 0);
    const chunk = handChunk(checkpoint, { limit: 1 });
    assert.deepStrictEqual(await job.runChunk(chunk.ctx), { finished: false });
    const [base, page] = chunk.updates;
    assert.equal(chunk.updates.length, 2);
    assert.equal((base.checkpoint as CaptureCheckpoint).phase, "members");
    assert.deepStrictEqual(base.counters, { "calls.base": 2 });
    assert.equal(typeof base.total, "number");
    const cp = page.checkpoint as CaptureCheckpoint;
    assert.deepStrictEqual([cp.phase, cp.pages, page.processed], ["members", 1, 1_000]);
    assert.equal(page.cursor, cp.cursor);
    assert.ok(BigInt(cp.cursor) > 0n);
    assert.deepStrictEqual(page.counters, { "calls.members": 1 });

    // The next chunk reads no base again: it starts at the cursor and finishes.
    const next = handChunk(chunk.checkpoint());
    const done = await job.runChunk(next.ctx);
    assert.equal(done.finished, true);
    assert.ok(!next.updates.some((u) => u.counters?.["calls.base"]));
    const last = next.checkpoint() as CaptureCheckpoint;
    assert.deepStrictEqual([last.phase, last.pages], ["assemble", 2]);
  }));

Deno.test("capture: a chunk stopped at once still saves the guild data; runs' leftovers are swept", () =>
  withGuild({ members: 10 }, async ({ deps, kv }) => {
    const job = captureJob(deps, WHO);
    const { checkpoint } = await job.newRun({ key: GUILD, source: "test" }, 0);
    for (const runId of ["run-a", "run-b"]) {
      const chunk = handChunk(checkpoint, { runId, signal: AbortSignal.abort() });
      assert.deepStrictEqual(await job.runChunk(chunk.ctx), { finished: false });
      assert.equal(chunk.updates.length, 1);
      assert.ok(await getBlobHead(kv, baseKey(runId)));
    }
    assert.deepStrictEqual(await workRuns(kv), ["run-a", "run-b"]);
    assert.deepStrictEqual(await sweepCaptureWork(kv, GUILD, "run-b"), ["run-a"]);
    assert.deepStrictEqual(await workRuns(kv), ["run-b"]);
    assert.deepStrictEqual(await sweepCaptureWork(kv, GUILD, null), ["run-b"]);
    assert.deepStrictEqual(await workRuns(kv), []);
    assert.deepStrictEqual(await sweepCaptureWork(kv, GUILD, null), []);
  }));

Deno.test("capture: missing work data fails the chunk, naming what to do", () =>
  withGuild({ members: 10 }, async ({ deps }) => {
    const job = captureJob(deps, WHO);
    const { checkpoint } = await job.newRun({ key: GUILD, source: "test" }, 0);
    const noBase = handChunk({ ...(checkpoint as CaptureCheckpoint), phase: "members" });
    await assert.rejects(
      () => job.runChunk(noBase.ctx),
      /saved guild data is missing; start a new backup/,
    );
    const first = handChunk(checkpoint, { signal: AbortSignal.abort() });
    await job.runChunk(first.ctx);
    const cp = first.checkpoint() as CaptureCheckpoint;
    const noPage = handChunk({ ...cp, phase: "assemble", pages: 1 });
    await assert.rejects(() => job.runChunk(noPage.ctx), /member page 0 is missing/);
  }));
