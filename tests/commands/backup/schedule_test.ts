/**
 * lib/commands/backup/schedule.ts: /backup schedule enable|disable|status. Enabling needs the
 * backups feature and says when the scheduled feature is off; the status names the next and the
 * last run and the retention; each change is audited.
 */
import assert from "node:assert/strict";
import { GUILD_ID } from "../../_harness.ts";
import { scheduleCommand, withApp } from "./_app.ts";
import { setFlag } from "../../../lib/ops/flags.ts";
import { getSchedule, recordResult } from "../../../lib/backup/schedule.ts";
import { readAudit } from "../../../lib/audit/mod.ts";
import { keys } from "../../../lib/kv/keys.ts";
import { t } from "../../../lib/i18n/mod.ts";
import { rel } from "../../../lib/commands/backup/common.ts";

const HOUR = 3_600_000;

Deno.test("/backup schedule enable: every N hours from now, audited", () =>
  withApp(async (app) => {
    const r = await scheduleCommand(app, "enable", { hours: 6 });
    const s = (await getSchedule(app.deps.kv, GUILD_ID))!;
    assert.deepStrictEqual([s.enabled, s.hours], [true, 6]);
    assert.equal(s.nextAt, app.clock.now() + 6 * HOUR);
    assert.equal(
      r.data.content,
      t("en", "backup.schedule_enabled", { hours: "6", when: rel(s.nextAt) }),
    );
    assert.equal(r.data.flags! & 64, 64, "ephemeral");
    const [entry] = (await readAudit(app.deps.kv, GUILD_ID, { limit: 1 })).entries;
    assert.deepStrictEqual([entry.action, entry.detail], ["backup.schedule.enable", { hours: 6 }]);
  }));

Deno.test("/backup schedule enable: refused with backups off; warned with scheduled backups off", () =>
  withApp(async (app) => {
    await setFlag(app.deps.kv, GUILD_ID, "scheduled_backups", false);
    const warned = await scheduleCommand(app, "enable", { hours: 24 });
    assert.ok(warned.data.content!.endsWith(`\n${t("en", "backup.schedule_feature_off")}`));
    await setFlag(app.deps.kv, GUILD_ID, "backups", false);
    await app.deps.kv.delete(keys.backupSchedule(GUILD_ID));
    const refused = await scheduleCommand(app, "enable", { hours: 24 });
    assert.equal(refused.data.content, t("en", "backup.disabled"));
    assert.equal(await getSchedule(app.deps.kv, GUILD_ID), null, "nothing stored");
  }));

Deno.test("/backup schedule status: off; then the next run, the last result and the retention", () =>
  withApp(async (app) => {
    const off = await scheduleCommand(app, "status");
    assert.equal(off.data.content, t("en", "backup.schedule_off"));
    await scheduleCommand(app, "enable", { hours: 12 });
    let s = (await getSchedule(app.deps.kv, GUILD_ID))!;
    const never = (await scheduleCommand(app, "status")).data.content!.split("\n");
    assert.deepStrictEqual(never, [
      t("en", "backup.schedule_status", { hours: "12", when: rel(s.nextAt) }),
      t("en", "backup.schedule_never"),
      t("en", "backup.retention", { retention: t("en", "backup.retention_days", { days: "9" }) }),
    ]);
    // A scheduled run happened (as the scheduler records it).
    await app.deps.kv.set(keys.backupSchedule(GUILD_ID), { ...s, lastRunAt: app.clock.now() });
    await recordResult(app.deps.kv, GUILD_ID, "created bk000001");
    s = (await getSchedule(app.deps.kv, GUILD_ID))!;
    const last = (await scheduleCommand(app, "status")).data.content!.split("\n");
    assert.equal(
      last[1],
      t("en", "backup.schedule_last", { when: rel(s.lastRunAt!), result: "created bk000001" }),
    );
  }, { BACKUP_RETENTION_DAYS: "9" }));

Deno.test("/backup schedule disable: off, audited; the status says so", () =>
  withApp(async (app) => {
    await scheduleCommand(app, "enable", { hours: 6 });
    const r = await scheduleCommand(app, "disable");
    assert.equal(r.data.content, t("en", "backup.schedule_disabled"));
    assert.equal((await getSchedule(app.deps.kv, GUILD_ID))?.enabled, false);
    const [entry] = (await readAudit(app.deps.kv, GUILD_ID, { limit: 1 })).entries;
    assert.equal(entry.action, "backup.schedule.disable");
    assert.equal(
      (await scheduleCommand(app, "status")).data.content,
      t("en", "backup.schedule_off"),
    );
  }));
