/**
 * lib/commands/backup/mod.ts: /backup's subcommands and buttons through the dispatch, on a stored
 * backup and a fake Discord: administrators only, ids checked before anything is read, the
 * backup layer's refusals worded for the member, confirmation before a delete, exports for the
 * bot owner only, and each action audited under the member who acted.
 * (tests/e2e/backup_commands_test.ts runs the same command against the emulator end to end.)
 */
import assert from "node:assert/strict";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { GUILD_ID, USER_ID } from "../../_harness.ts";
import { backupCommand, buttons, edited, press, withApp } from "./_app.ts";
import { newBackup } from "../../backup/_new_backup.ts";
import { sampleSnapshot } from "../../backup/_sample.ts";
import { canonicalBytes } from "../../../lib/backup/model.ts";
import { getBackup, listBackups, saveBackup, setPinned } from "../../../lib/backup/store.ts";
import { setFlag } from "../../../lib/ops/flags.ts";
import { readAudit } from "../../../lib/audit/mod.ts";
import { t } from "../../../lib/i18n/mod.ts";
import { backup } from "../../../lib/commands/backup/mod.ts";
import type { TestApp } from "../../_harness.ts";

const ID = "bk000001";
const LIMITS = { maxPerGuild: 50, cooldownS: 0, retentionDays: 0 };

async function stored(app: TestApp, id = ID) {
  return await saveBackup(
    app.deps.kv,
    newBackup(id, app.clock.now() - 60_000),
    canonicalBytes(sampleSnapshot()),
    LIMITS,
    app.clock.now(),
  );
}

const lastAudit = async (app: TestApp) =>
  (await readAudit(app.deps.kv, GUILD_ID, { limit: 1 })).entries[0];

Deno.test("/backup: the command is for administrators, in guilds", () => {
  assert.equal(backup.name, "backup");
  assert.equal(backup.permissions, PermissionFlagsBits.Administrator);
});

Deno.test("/backup: without Administrator nothing runs", () =>
  withApp(async (app) => {
    const r = await backupCommand(app, "list", {}, {
      permissions: PermissionFlagsBits.ManageGuild,
    });
    assert.match(r.data.content!, /Administrator/);
    assert.equal(r.data.embeds, undefined);
  }));

Deno.test("/backup list: none yet, then the stored backups", () =>
  withApp(async (app) => {
    assert.equal((await backupCommand(app, "list")).data.content, t("en", "backup.list_empty"));
    await stored(app);
    const r = await backupCommand(app, "list");
    assert.match(r.data.embeds![0].description!, /`bk000001`/);
    assert.equal(r.data.flags! & 64, 64);
  }));

Deno.test("/backup view|pin|note|delete|export: an id that is no backup id is refused first", () =>
  withApp(async (app) => {
    for (const sub of ["view", "pin", "delete", "export", "restore"]) {
      const r = await backupCommand(app, sub, { id: "NOPE!" });
      assert.equal(r.data.content, t("en", "backup.bad_id", { id: "NOPE!" }), sub);
    }
    const note = await backupCommand(app, "note", { id: "NOPE!", text: "x" });
    assert.equal(note.data.content, t("en", "backup.bad_id", { id: "NOPE!" }));
  }, { BOT_OWNER_ID: USER_ID }));

Deno.test("/backup view: an unknown backup is the store's refusal; a stored one its embed", () =>
  withApp(async (app) => {
    const none = await backupCommand(app, "view", { id: "zzzzzzzz" });
    assert.match(none.data.content!, /^No backup with id zzzzzzzz in this server\.$/);
    await stored(app);
    const r = await backupCommand(app, "view", { id: ID });
    assert.equal(r.data.embeds![0].title, t("en", "backup.view_title", { label: `label ${ID}` }));
  }));

Deno.test("/backup pin and note: saved, said and audited under the member", () =>
  withApp(async (app) => {
    await stored(app);
    const pinned = await backupCommand(app, "pin", { id: ID });
    assert.equal(pinned.data.content, t("en", "backup.pinned", { id: ID, label: `label ${ID}` }));
    assert.equal((await getBackup(app.deps.kv, GUILD_ID, ID))?.pinned, true);
    const audit = await lastAudit(app);
    assert.deepStrictEqual([audit.action, audit.actor.id], ["backup.pin", USER_ID]);
    const unpinned = await backupCommand(app, "pin", { id: ID, pinned: false });
    assert.equal(
      unpinned.data.content,
      t("en", "backup.unpinned", { id: ID, label: `label ${ID}` }),
    );
    const note = await backupCommand(app, "note", { id: ID, text: "before the reorg" });
    assert.equal(note.data.content, t("en", "backup.note_saved", { id: ID }));
    assert.equal((await getBackup(app.deps.kv, GUILD_ID, ID))?.note, "before the reorg");
    assert.equal((await lastAudit(app)).action, "backup.note");
  }));

Deno.test("/backup delete: a pinned backup is refused; else asked, then deleted or cancelled", () =>
  withApp(async (app) => {
    await stored(app);
    await setPinned(app.deps.kv, GUILD_ID, ID, true);
    const refused = await backupCommand(app, "delete", { id: ID });
    assert.match(refused.data.content!, /is pinned: unpin it first\.$/);
    await setPinned(app.deps.kv, GUILD_ID, ID, false);

    const ask = await backupCommand(app, "delete", { id: ID });
    assert.match(ask.data.content!, /^Delete backup `bk000001`/);
    const [del, cancel] = buttons(ask);
    assert.deepStrictEqual([del.label, del.style, cancel.label], [
      t("en", "backup.delete_button"),
      4,
      t("en", "common.cancel"),
    ]);
    const cancelled = await press(app, cancel.custom_id!);
    assert.equal(cancelled.data.content, t("en", "backup.cancelled"));
    assert.equal((await listBackups(app.deps.kv, GUILD_ID)).length, 1);

    const gone = await press(app, del.custom_id!);
    assert.equal(gone.data.content, t("en", "backup.deleted", { id: ID, label: `label ${ID}` }));
    assert.deepStrictEqual(gone.data.components, []);
    assert.deepStrictEqual(await listBackups(app.deps.kv, GUILD_ID), []);
    assert.equal((await lastAudit(app)).action, "backup.delete");
    // Pressed again: the backup is gone, and the button says so.
    assert.match((await press(app, del.custom_id!)).data.content!, /^No backup with id/);
  }));

Deno.test("/backup export: the bot owner only, as an expiring link", () =>
  withApp(async (app) => {
    await stored(app);
    const r = await backupCommand(app, "export", { id: ID });
    assert.match(r.data.content!, /^Download backup `bk000001`/);
    const [link] = buttons(r);
    assert.match(link.url!, /\/backups\/download\/\d+\/bk000001\?exp=\d+&sig=/);
    assert.equal((await lastAudit(app)).action, "backup.export.link");
  }, { BOT_OWNER_ID: USER_ID }));

Deno.test("/backup export: anyone but the owner is refused, and everyone when none is set", async () => {
  for (const env of [{ BOT_OWNER_ID: "399999999999999999" }, {}] as Record<string, string>[]) {
    await withApp(async (app) => {
      await stored(app);
      const r = await backupCommand(app, "export", { id: ID });
      assert.equal(r.data.content, t("en", "backup.owner_only"), JSON.stringify(env));
      assert.equal(buttons(r).length, 0);
    }, env);
  }
});

Deno.test("/backup create and restore: backups turned off are said at once", () =>
  withApp(async (app) => {
    await stored(app);
    await setFlag(app.deps.kv, GUILD_ID, "backups", false);
    for (const [sub, values] of [["create", {}], ["restore", { id: ID }]] as const) {
      const r = await backupCommand(app, sub, values);
      assert.equal(r.data.content, t("en", "backup.disabled"), sub);
    }
    assert.equal((await listBackups(app.deps.kv, GUILD_ID)).length, 1);
  }));

Deno.test("/backup restore: the wizard's menu for a stored backup; a refusal for an unknown one", () =>
  withApp(async (app) => {
    await stored(app);
    const menu = await backupCommand(app, "restore", { id: ID });
    assert.equal(
      menu.data.embeds![0].title,
      t("en", "backup.restore_title", { label: `label ${ID}` }),
    );
    assert.equal(buttons(menu).length, 8);
    const none = await backupCommand(app, "restore", { id: "zzzzzzzz" });
    assert.match(none.data.content!, /^No backup with id zzzzzzzz/);
  }));

Deno.test("/backup verify: deferred, then the stored backup found intact", () =>
  withApp(async (app) => {
    const meta = await stored(app);
    const r = await backupCommand(app, "verify", { id: ID });
    assert.equal(r.type, 5, "deferred");
    await app.settle();
    assert.equal(edited(app), t("en", "backup.intact", { id: ID, hash: meta.checksum }));
    assert.equal((await lastAudit(app)).action, "backup.verify");
  }));

Deno.test("/backup status and its buttons: both jobs; nothing to stop says why", () =>
  withApp(async (app) => {
    const r = await backupCommand(app, "status");
    assert.equal(r.data.embeds![0].title, t("en", "backup.jobs_title"));
    const [refresh, stopRestore] = buttons(r);
    assert.equal(stopRestore.disabled, true);
    const again = await press(app, refresh.custom_id!);
    assert.equal(again.type, 7, "the message is updated");
    const noop = await press(app, stopRestore.custom_id!);
    assert.match(noop.data.embeds![0].description!, /^Nothing to stop \(/);
  }));
