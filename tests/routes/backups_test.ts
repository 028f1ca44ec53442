/**
 * The backup HTTP API's actions on a stored backup (pin, note, verify, stop, export, delete):
 * each answers as before and leaves the same audit entry as the /backup command, under the
 * "operator" actor (both go through lib/backup/actions.ts).
 */
import assert from "node:assert/strict";
import { GUILD, startFixture } from "../backup/_fixture.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { saveBackup } from "../../lib/backup/store.ts";
import { readAudit } from "../../lib/audit/mod.ts";
import { sampleSnapshot } from "../backup/_sample.ts";
import { newBackup } from "../backup/_new_backup.ts";

Deno.test("routes: pin, note, verify, stop, export and delete are audited as the operator", async () => {
  const fx = await startFixture({ guilds: [{ members: 5 }] });
  try {
    const { bot } = fx;
    const id = "aaaaaaaa";
    await saveBackup(
      bot.kv,
      newBackup(id, Date.now()),
      canonicalBytes(sampleSnapshot()),
      { maxPerGuild: 10, cooldownS: 0, retentionDays: 0 },
      Date.now(),
    );
    const pin = await bot.json<{ backup: { pinned: boolean } }>("POST", `/backups/${id}/pin`, {
      pinned: true,
    });
    assert.equal(pin.status, 200);
    assert.equal(pin.body.backup.pinned, true);
    assert.equal((await bot.json("DELETE", `/backups/${id}`)).status, 409, "pinned");
    await bot.json("POST", `/backups/${id}/pin`, { pinned: false });
    const note = await bot.json<{ backup: { note: string } }>("POST", `/backups/${id}/note`, {
      note: "keep",
    });
    assert.equal(note.body.backup.note, "keep");
    assert.equal((await bot.json("POST", `/backups/${id}/note`, { note: 1 })).status, 400);
    assert.equal((await bot.json("GET", `/backups/${id}/verify`)).body.ok, true);
    assert.equal((await bot.json("POST", "/backups/jobs/restore/stop")).body.status, "noop");
    const file = await bot.request("GET", `/backups/${id}/export?guild=${GUILD}`);
    assert.equal(file.status, 200);
    const size = (await file.arrayBuffer()).byteLength;
    assert.equal((await bot.json("DELETE", `/backups/${id}`)).body.deleted, true);

    const entries = (await readAudit(bot.kv, GUILD, { limit: 50 })).entries.reverse();
    assert.deepEqual(entries.map((e) => [e.action, e.actor.id, e.detail]), [
      ["backup.pin", "operator", { backupId: id }],
      ["backup.unpin", "operator", { backupId: id }],
      ["backup.note", "operator", { backupId: id, note: "keep" }],
      ["backup.verify", "operator", { backupId: id, ok: true, detail: entries[3].detail.detail }],
      ["backup.restore.stop", "operator", { result: "noop" }],
      ["backup.export", "operator", { backupId: id, bytes: size }],
      ["backup.delete", "operator", { backupId: id, label: `label ${id}` }],
    ]);
  } finally {
    await fx.close();
  }
});
