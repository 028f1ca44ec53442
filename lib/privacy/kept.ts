/**
 * The privacy sources a member cannot delete, with the reason: audit entries (the guild's
 * tamper-evident record of admin actions) and the member's roles inside backups (a restore needs
 * them). Both are shown by /privacy view.
 */
import type { PrivacySource } from "./inventory.ts";
import { readAudit } from "../audit/mod.ts";
import { listBackups, loadSnapshot } from "../backup/store.ts";

const AUDIT_SCAN = 1_000;

export const auditSource: PrivacySource = {
  name: "Audit log entries",
  async view(deps, guildId, userId) {
    const items: string[] = [];
    if (guildId) {
      const { entries } = await readAudit(deps.kv, guildId, { limit: AUDIT_SCAN });
      const mine = entries.filter((e) =>
        e.actor.id === userId || JSON.stringify(e.detail).includes(userId)
      );
      if (mine.length) {
        items.push(
          `${mine.length} entries name you, e.g. ${
            mine.slice(0, 3).map((e) =>
              `${e.action} (${new Date(e.at).toISOString().slice(0, 10)})`
            )
              .join(", ")
          }`,
        );
      }
    }
    const days = deps.config.ops.auditRetentionDays;
    return {
      name: this.name,
      items,
      retention: days
        ? `${days} days (AUDIT_RETENTION_DAYS)`
        : "until an admin sets AUDIT_RETENTION_DAYS",
      keptBecause:
        "the audit log is the server's tamper-evident record of admin actions; removing an entry would break its hash chain",
    };
  },
};

export const backupSource: PrivacySource = {
  name: "Server backups",
  async view(deps, guildId, userId) {
    const items: string[] = [];
    if (guildId) {
      // One snapshot at a time: a large guild's backups are big and memory is limited.
      for (const meta of await listBackups(deps.kv, guildId)) {
        const { snapshot } = await loadSnapshot(deps.kv, guildId, meta.id);
        const member = snapshot.members.find((m) => m.id === userId);
        if (member) {
          items.push(
            `your ${member.roles.length} roles in backup ${meta.label || meta.id} (${
              new Date(meta.createdAt).toISOString().slice(0, 10)
            })`,
          );
        }
      }
    }
    const days = deps.config.backup.retentionDays;
    return {
      name: this.name,
      items,
      retention: days
        ? `${days} days (BACKUP_RETENTION_DAYS; pinned backups longer)`
        : "until the backup is deleted",
      keptBecause: "a restore puts members' roles back from them; they go with the backup",
    };
  },
};
