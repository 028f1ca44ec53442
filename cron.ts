/** Every Deno.cron of the bot, each a one-line call into lib/. */
import type { App } from "./lib/app.ts";
import { checkJobs } from "./lib/status/job_alerts.ts";
import { commandsDriftCheck } from "./lib/manifest/mod.ts";
import { dailySync, incrementalSync, syncWatchdog } from "./lib/sync/service.ts";
import { freshnessPass } from "./lib/sync/fresh_pass.ts";
import { refreshExpiring } from "./lib/linked_roles/keeper.ts";
import { linkedRolesStage } from "./lib/linked_roles/fresh.ts";
import { backupRetention, backupWatchdog, runScheduledBackups } from "./lib/backup/service.ts";
import { auditRetention } from "./lib/audit/mod.ts";
import { guildRetention } from "./lib/guilds/retention.ts";
import { sweepAllOrphans } from "./lib/kv/blob.ts";

export function registerCrons(app: App): void {
  const log = app.deps.log.child({ component: "cron" });
  const cron = (name: string, schedule: string, run: () => Promise<unknown>) =>
    Deno.cron(name, schedule, async () => {
      try {
        await run();
      } catch (error) {
        log.error("cron job failed", { cron: name, error });
      }
    });
  // Keeps KV warm and proves the cron runtime works; the job crons are added by their issues.
  cron(
    "heartbeat",
    "*/10 * * * *",
    () => app.deps.kv.set(["health", "cron"], app.deps.clock.now()),
  );
  // Daily: log drift between the code's commands and Discord's; syncs with AUTO_SYNC_COMMANDS.
  cron("commands-drift", "17 4 * * *", () => commandsDriftCheck(app));
  // Role sync: the full run daily at 02:00 UTC (unless DISABLE_DAILY_SYNC), members whose Ethos
  // score changed hourly, and a watchdog resuming runs whose chunk died.
  cron("role-sync-daily", "0 2 * * *", () => dailySync(app.deps));
  cron("role-sync-incremental", "30 * * * *", () => incrementalSync(app.deps));
  cron("role-sync-watchdog", "* * * * *", () => syncWatchdog(app.deps));
  // Freshness: Ethos score changes to roles within two minutes (SYNC_FRESHNESS).
  cron(
    "role-sync-fresh",
    "* * * * *",
    () => freshnessPass(app.deps, { linked: linkedRolesStage(app.deps, app.keys.tokenBox) }),
  );
  // Linked roles: tokens expiring within two days are refreshed (they live 7 days).
  cron("linked-roles-refresh", "37 5 * * *", () => refreshExpiring(app.deps, app.keys.tokenBox));
  // Backups: due per-guild schedules every 5 minutes, a watchdog for capture and restore runs
  // whose chunk died, and the daily retention of backups (BACKUP_RETENTION_DAYS, pinned kept)
  // and of the audit log (AUDIT_RETENTION_DAYS).
  cron("backup-schedule", "*/5 * * * *", () => runScheduledBackups(app.deps));
  cron("backup-watchdog", "*/2 * * * *", () => backupWatchdog(app.deps));
  cron("backup-retention", "23 3 * * *", () => backupRetention(app.deps));
  cron("audit-retention", "41 3 * * *", () => auditRetention(app.deps));
  // Parts of split KV values left by writes that died (an hour old, no head names them).
  cron("blob-sweep", "47 3 * * *", () => sweepAllOrphans(app.deps.kv));
  // The sync data of guilds the bot left more than GUILD_RETENTION_DAYS ago.
  cron("guild-retention", "53 3 * * *", () => guildRetention(app.deps));
  // Failed and stalled jobs (sync, backup, restore) raise an alert.
  cron("job-alerts", "*/2 * * * *", () => checkJobs(app.deps));
}
