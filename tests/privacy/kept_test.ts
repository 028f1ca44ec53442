/**
 * lib/privacy/kept.ts: the sources a member cannot delete, each saying what names them and why
 * it stays: audit entries (by actor or in the detail) and their roles inside backups.
 */
import assert from "node:assert/strict";
import { auditSource, backupSource } from "../../lib/privacy/kept.ts";
import { appendAudit } from "../../lib/audit/mod.ts";
import { saveBackup } from "../../lib/backup/store.ts";
import { canonicalBytes } from "../../lib/backup/model.ts";
import { sampleSnapshot } from "../backup/_sample.ts";
import { newBackup } from "../backup/_new_backup.ts";
import { memoryDeps } from "../_deps.ts";
import { withKv } from "../kv/_kv.ts";

const G = "200000000000000001";
const U = "300000000000000009";
const DAY = 86_400_000;

Deno.test("auditSource: entries that name the member as actor or in the detail, a few shown", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv);
    const start = deps.clock.now();
    const day = (n: number) => new Date(start + n * DAY).toISOString().slice(0, 10);
    const add = async (actor: string, action: string, detail = {}) => {
      await appendAudit(deps, { guildId: G, actor, action, detail });
      deps.clock.advance(DAY);
    };
    await add(U, "config.feature");
    await add("1", "backup.create");
    await add("1", "config.allow_list", { roles: [], user: U });
    await add(U, "setup.map");
    await add(U, "setup.log");
    await appendAudit(deps, { guildId: "200000000000000002", actor: U, action: "elsewhere" });
    const report = await auditSource.view(deps, G, U);
    assert.deepEqual(report.items, [
      `4 entries name you, e.g. setup.log (${day(4)}), setup.map (${day(3)}), config.allow_list (${
        day(2)
      })`,
    ]);
    assert.equal(report.retention, "until an admin sets AUDIT_RETENTION_DAYS");
    assert.match(report.keptBecause!, /would break its hash chain/);
    assert.equal(auditSource.delete, undefined, "never deleted by a member");
  }));

Deno.test("auditSource: outside a guild nothing is looked up; retention follows the config", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: { AUDIT_RETENTION_DAYS: "90" } });
    await appendAudit(deps, { guildId: G, actor: U, action: "x" });
    const report = await auditSource.view(deps, undefined, U);
    assert.deepEqual(report.items, []);
    assert.equal(report.retention, "90 days (AUDIT_RETENTION_DAYS)");
  }));

Deno.test("backupSource: the member's roles in each backup that holds them", () =>
  withKv(async (kv) => {
    const deps = memoryDeps(kv, { env: { BACKUP_RETENTION_DAYS: "30" } });
    const save = async (id: string, label: string, withMember: boolean) => {
      const snapshot = sampleSnapshot();
      if (withMember) snapshot.members.push({ id: U, roles: ["210000000000000001"] });
      await saveBackup(
        kv,
        { ...newBackup(id, deps.clock.now()), guildId: G, label },
        canonicalBytes(snapshot),
        { maxPerGuild: 25, cooldownS: 0, retentionDays: 0 },
        deps.clock.now(),
      );
      deps.clock.advance(DAY);
    };
    await save("bk0001", "nightly", true);
    await save("bk0002", "", true);
    await save("bk0003", "without", false);
    const day = (n: number) =>
      new Date(deps.clock.now() - (3 - n) * DAY).toISOString().slice(0, 10);
    const report = await backupSource.view(deps, G, U);
    assert.deepEqual(report.items, [
      `your 1 roles in backup bk0002 (${day(1)})`,
      `your 1 roles in backup nightly (${day(0)})`,
    ]);
    assert.equal(report.retention, "30 days (BACKUP_RETENTION_DAYS; pinned backups longer)");
    assert.match(report.keptBecause!, /a restore puts members' roles back/);
    assert.equal(backupSource.delete, undefined);
    assert.deepEqual((await backupSource.view(deps, undefined, U)).items, []);
    assert.deepEqual(
      (await backupSource.view(memoryDeps(kv), G, U)).retention,
      "until the backup is deleted",
    );
  }));
