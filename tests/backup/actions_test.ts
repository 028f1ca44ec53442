/**
 * The operator's actions on stored backups (lib/backup/actions.ts) over an in-memory KV: each
 * changes what it should and appends its one audit entry, named for the actor; an action that
 * throws appends nothing.
 */
import assert from "node:assert/strict";
import { sampleSnapshot } from "./_sample.ts";
import { memoryDeps } from "../_deps.ts";
import { G, newBackup } from "./_new_backup.ts";
import { withKv } from "../kv/_kv.ts";
import { createHmac } from "../../lib/hmac.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import {
  BackupNotFoundError,
  BackupPinnedError,
  getBackup,
  saveBackup,
} from "../../lib/backup/store.ts";
import {
  checkBackup,
  downloadBackup,
  exportLink,
  noteBackup,
  pinBackup,
  removeBackup,
  stopBackupJob,
} from "../../lib/backup/actions.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import type { AppDeps } from "../../lib/deps.ts";

const ID = "aaaaaaaa";
const ADA = { id: "310000000000000001", name: "ada" };

async function withBackup(fn: (deps: AppDeps) => Promise<void>) {
  await withKv(async (kv) => {
    const deps = memoryDeps(kv);
    await saveBackup(
      kv,
      newBackup(ID, deps.clock.now()),
      canonicalBytes(sampleSnapshot()),
      { maxPerGuild: 10, cooldownS: 0, retentionDays: 0 },
      deps.clock.now(),
    );
    await fn(deps);
  });
}

/** The guild's audit entries, oldest first, as [action, actor id, detail]. */
async function audited(deps: AppDeps) {
  const page = await readAudit(deps.kv, G, { limit: 50 });
  return page.entries.reverse().map((e) => [e.action, e.actor.id, e.detail]);
}

Deno.test("actions: pin, unpin and note change the backup and are audited", async () => {
  await withBackup(async (deps) => {
    assert.equal((await pinBackup(deps, G, ID, true, ADA)).pinned, true);
    assert.equal((await getBackup(deps.kv, G, ID))?.pinned, true);
    await pinBackup(deps, G, ID, false, ADA);
    assert.equal((await noteBackup(deps, G, ID, "  keep  ", ADA)).note, "keep");
    assert.equal((await noteBackup(deps, G, ID, "", { id: "operator" })).note, null);
    assert.deepEqual(await audited(deps), [
      ["backup.pin", ADA.id, { backupId: ID }],
      ["backup.unpin", ADA.id, { backupId: ID }],
      ["backup.note", ADA.id, { backupId: ID, note: "keep" }],
      ["backup.note", "operator", { backupId: ID, note: null }],
    ]);
  });
});

Deno.test("actions: a refused action is not audited", async () => {
  await withBackup(async (deps) => {
    await assert.rejects(pinBackup(deps, G, "zzzzzzzz", true, ADA), BackupNotFoundError);
    await assert.rejects(noteBackup(deps, G, ID, "x".repeat(501), ADA), RangeError);
    await pinBackup(deps, G, ID, true, ADA);
    await assert.rejects(removeBackup(deps, G, ID, ADA), BackupPinnedError);
    await assert.rejects(checkBackup(deps, G, "zzzzzzzz", ADA), BackupNotFoundError);
    await assert.rejects(downloadBackup(deps, G, "zzzzzzzz", ADA), BackupNotFoundError);
    assert.deepEqual((await audited(deps)).map((e) => e[0]), ["backup.pin"]);
  });
});

Deno.test("actions: verify, export, a link, stop and delete are audited with their result", async () => {
  await withBackup(async (deps) => {
    const v = await checkBackup(deps, G, ID, ADA);
    assert.equal(v.ok, true);
    const file = await downloadBackup(deps, G, ID, { id: "link", name: "signed link" });
    assert.match(file.filename, /\.json$/);
    const signer = createHmac(new Uint8Array(32).fill(7));
    const { meta, link } = await exportLink(deps, signer, G, ID, ADA);
    assert.equal(meta.id, ID);
    assert.ok(link.url.includes(`/backups/download/${G}/${ID}?exp=`), link.url);
    const stop = await stopBackupJob(deps, G, "capture", ADA, `user:${ADA.id}`);
    assert.equal(stop.status, "noop");
    assert.equal((await removeBackup(deps, G, ID, ADA)).label, `label ${ID}`);
    assert.equal(await getBackup(deps.kv, G, ID), null);
    assert.deepEqual(await audited(deps), [
      ["backup.verify", ADA.id, { backupId: ID, ok: true, detail: v.detail }],
      ["backup.export", "link", { backupId: ID, bytes: file.bytes.length }],
      ["backup.export.link", ADA.id, { backupId: ID, expiresAt: link.expiresAt }],
      ["backup.capture.stop", ADA.id, { result: "noop" }],
      ["backup.delete", ADA.id, { backupId: ID, label: `label ${ID}` }],
    ]);
  });
});
