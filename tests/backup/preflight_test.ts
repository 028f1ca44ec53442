/**
 * The backups preflight (lib/backup/preflight.ts) runs once per chunk of a capture or a restore,
 * on every entry point: a start (command, HTTP route) runs it and its chunk reuses the result, the
 * schedule reads the flags once for its own check and the chunk's, and a chunk nobody checked (a
 * continuation, the watchdog's) runs it itself and fails when backups were turned off meanwhile.
 * The /backup command's own check is that preflight, passed on to its start. Counted as reads of
 * the guild's feature flags.
 */
import assert from "node:assert/strict";
import { withKv } from "../kv/_kv.ts";
import { countingReads } from "../kv/_reads.ts";
import { memoryDeps } from "../_deps.ts";
import { G, newBackup } from "./_new_backup.ts";
import { sampleSnapshot } from "./_sample.ts";
import { keys } from "../../lib/kv/keys.ts";
import { setFlag } from "../../lib/ops/flags.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { saveBackup } from "../../lib/backup/store.ts";
import { setSchedule } from "../../lib/backup/schedule.ts";
import {
  BackupDisabledError,
  continueJob,
  type JobKind,
  runScheduledBackups,
  startCapture,
  type Started,
  startRestore,
} from "../../lib/backup/service.ts";
import type { AppDeps } from "../../lib/deps.ts";
import { PermissionFlagsBits } from "discord-api-types/v10";
import {
  commandInteraction,
  componentInteraction,
  createTestApp,
  subcommand,
} from "../_harness.ts";
import { t } from "../../lib/i18n/mod.ts";
import { readSnapshot } from "../../lib/jobs/store.ts";
import { CAPTURE_KIND } from "../../lib/backup/capture_job.ts";
import { RESTORE_KIND } from "../../lib/backup/restore_job.ts";

const BACKUP = "aaaaaaaa";
const who = { authorId: "1", authorName: "t", source: "command" };
const restoreReq = { backupId: BACKUP, actorId: "1", actorName: "t", source: "http" };

/** Discord answering 404 to everything: a chunk fails at its first read of the guild. */
const notFound: typeof fetch = () =>
  Promise.resolve(
    new Response(JSON.stringify({ message: "404: Not Found", code: 0 }), {
      status: 404,
      headers: { "content-type": "application/json" },
    }),
  );

/** Deps over a KV counting reads of guild G's flags, with one backup of G stored. */
async function setup(raw: Deno.Kv) {
  const { kv, reads } = countingReads(raw, { flags: keys.flags(G) });
  const deps = memoryDeps(kv, { fetch: notFound });
  const limits = { maxPerGuild: 10, cooldownS: 0, retentionDays: 0 };
  // Made a day ago: past the cooldown of a manual capture.
  const then = deps.clock.now() - 86_400_000;
  await saveBackup(raw, newBackup(BACKUP, then), canonicalBytes(sampleSnapshot()), limits, then);
  return { deps, reads };
}

/** Waits for a started chunk and returns how it ended. */
async function ended(s: Started) {
  assert.ok(s.status === "started", JSON.stringify(s));
  return await s.start.done;
}

/** The chunk after `last` (as the self-chain and the watchdog start one), waited for. */
async function continued(deps: AppDeps, kind: JobKind, last: { runId: string; chunk: number }) {
  const r = await continueJob(deps, kind, { runId: last.runId, chunk: last.chunk + 1 });
  assert.ok(r?.status === "started", JSON.stringify(r));
  return await r.done;
}

const starts: [JobKind, (deps: AppDeps) => Promise<Started>][] = [
  ["capture", (deps) => startCapture(deps, G, who)],
  ["restore", (deps) => startRestore(deps, G, restoreReq)],
];

for (const [kind, start] of starts) {
  Deno.test(`backup preflight: a started ${kind} reads the flags once, not again inside`, async () => {
    await withKv(async (raw) => {
      const { deps, reads } = await setup(raw);
      const done = await ended(await start(deps));
      assert.equal(done.state, "failed"); // Discord answered 404: the chunk ended after its start
      assert.deepStrictEqual(reads, { flags: 1 });
    });
  });

  Deno.test(`backup preflight: a ${kind} chunk nobody checked checks the flag itself`, async () => {
    await withKv(async (raw) => {
      const { deps, reads } = await setup(raw);
      const first = await ended(await start(deps));
      // With the flag on, the continuation's chunk passes its own check and reaches Discord...
      let before = reads.flags;
      const again = await continued(deps, kind, first);
      assert.equal(again.state, "failed");
      assert.match(again.progress.lastError ?? "", /404/);
      assert.equal(reads.flags - before, 1);
      // ...with it off, a start is refused before any chunk, and a continuation fails on it.
      await setFlag(raw, G, "backups", false);
      await assert.rejects(start(deps), BackupDisabledError);
      before = reads.flags;
      const off = await continued(deps, kind, again);
      assert.equal(off.state, "failed");
      assert.equal(off.progress.lastError, new BackupDisabledError(G).message);
      assert.equal(reads.flags - before, 1);
    });
  });
}

Deno.test("backup preflight: a scheduled capture reads the flags once for the schedule and its chunk", async () => {
  await withKv(async (raw) => {
    const { deps, reads } = await setup(raw);
    await setSchedule(raw, G, { enabled: true, hours: 6 }, "1", deps.clock.now());
    deps.clock.advance(6 * 3_600_000 + 1);
    const out = await runScheduledBackups(deps);
    assert.ok(out[G]?.startsWith("started "), JSON.stringify(out));
    assert.deepStrictEqual(reads, { flags: 1 });
    // Turned off: skipped before anything is claimed, on the same one read.
    deps.clock.advance(6 * 3_600_000 + 1);
    await setFlag(raw, G, "backups", false);
    assert.deepStrictEqual(await runScheduledBackups(deps), { [G]: "skipped: feature off" });
    assert.deepStrictEqual(reads, { flags: 2 });
  });
});

/** The bot app over a KV counting reads of guild G's flags; Discord answers 404 to everything. */
async function commandSetup(raw: Deno.Kv) {
  const { kv, reads } = countingReads(raw, { flags: keys.flags(G) });
  const app = await createTestApp({ kv });
  return { app, reads };
}

const admin = { permissions: PermissionFlagsBits.Administrator };
const EPHEMERAL = 64;

Deno.test("backup preflight: /backup create reads the flags once, for its check and its chunk", async () => {
  await withKv(async (raw) => {
    const { app, reads } = await commandSetup(raw);
    try {
      const res = await app.post(commandInteraction("backup", subcommand("create"), admin));
      assert.equal(res.status, 200);
      await app.settle();
      // The capture started and its first chunk ran (and failed on Discord's 404).
      const run = (await readSnapshot(raw, CAPTURE_KIND, G)).run?.value;
      assert.equal(run?.state, "failed");
      assert.deepStrictEqual(reads, { flags: 1 });
      // Backups off: the command's message at once, on one read, and nothing started.
      await setFlag(raw, G, "backups", false);
      const off = await app.post(commandInteraction("backup", subcommand("create"), admin));
      const { data } = await off.json();
      assert.equal(data.content, t("en", "backup.disabled"));
      assert.equal(data.flags, EPHEMERAL);
      assert.deepStrictEqual(reads, { flags: 2 });
      assert.equal((await readSnapshot(raw, CAPTURE_KIND, G)).run?.value.runId, run?.runId);
    } finally {
      await app.close();
    }
  });
});

Deno.test("backup preflight: /backup restore and its confirmation read the flags once each", async () => {
  await withKv(async (raw) => {
    const { app, reads } = await commandSetup(raw);
    try {
      const then = app.clock.now() - 86_400_000;
      const limits = { maxPerGuild: 10, cooldownS: 0, retentionDays: 0 };
      const snap = canonicalBytes(sampleSnapshot());
      await saveBackup(raw, newBackup(BACKUP, then), snap, limits, then);
      const menu = await app.post(
        commandInteraction("backup", subcommand("restore", { id: BACKUP }), admin),
      );
      assert.equal(menu.status, 200);
      assert.ok((await menu.json()).data.embeds.length === 1);
      assert.deepStrictEqual(reads, { flags: 1 });
      // The second confirmation starts the restore: its check is the start's, run once.
      const rc = await app.app.customIds.sign("backup.rc", `${BACKUP}.31`, 60_000, app.clock.now());
      const confirm = await app.post(componentInteraction(rc, admin));
      assert.equal(confirm.status, 200);
      await app.settle();
      const run = (await readSnapshot(raw, RESTORE_KIND, G)).run?.value;
      assert.equal(run?.state, "failed");
      assert.deepStrictEqual(reads, { flags: 2 });
      // Backups off: the command's message at once, on one read.
      await setFlag(raw, G, "backups", false);
      const off = await app.post(
        commandInteraction("backup", subcommand("restore", { id: BACKUP }), admin),
      );
      const { data } = await off.json();
      assert.equal(data.content, t("en", "backup.disabled"));
      assert.equal(data.flags, EPHEMERAL);
      assert.deepStrictEqual(reads, { flags: 3 });
    } finally {
      await app.close();
    }
  });
});
