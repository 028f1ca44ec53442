/**
 * /ethos_sync (Manage Roles): starts a role sync run (or continues the unfinished one), deferred
 * and ephemeral; the follow-up says which run and chunk started. The run itself goes on in the
 * background, chunk after chunk; /ethos_sync_status follows it.
 */
import { defineCommand } from "./define.ts";
import { opt } from "./options.ts";
import { OTHER_GUILD, statusEmbed, syncGuildOf } from "./ethos_sync_status.ts";
import { SyncConfigError, SyncDisabledError, triggerSync } from "../sync/service.ts";
import { summaryLine } from "../jobs/progress.ts";

export const ethosSync = defineCommand({
  name: "ethos_sync",
  description: "Sync every member's Ethos roles now (continues an unfinished run)",
  category: "Role sync",
  permissions: ["ManageRoles"],
  options: {
    restart: opt.boolean({ description: "Start a new run even if one is unfinished" }),
    dry_run: opt.boolean({ description: "Report what would change without changing anything" }),
  },
  handler: (ctx) => {
    const guildId = syncGuildOf(ctx);
    if (!guildId) return ctx.ephemeral(OTHER_GUILD);
    return ctx.defer(async (f) => {
      let r;
      try {
        r = await triggerSync(ctx.deps, guildId, {
          startIndex: ctx.options.restart || ctx.options.dry_run ? 0 : undefined,
          dryRun: ctx.options.dry_run ?? false,
          source: "command",
        });
      } catch (error) {
        if (error instanceof SyncConfigError || error instanceof SyncDisabledError) {
          await f.editOriginal(`The role sync cannot start: ${error.message}.`);
          return;
        }
        throw error;
      }
      if (r.status === "started") {
        ctx.deps.waitUntil(r.done);
        ctx.log.info("sync started from Discord", { runId: r.run.runId, by: ctx.user.id });
        await f.editOriginal({
          content: `Started ${
            r.run.chunk > 1 ? `chunk ${r.run.chunk} of` : ""
          } run \`${r.run.runId}\`${
            r.run.dryRun ? " (dry run: nothing will be changed)" : ""
          }. Follow it with \`/ethos_sync_status\`.`,
          embeds: [statusEmbed(r.progress)],
        });
      } else if (r.status === "conflict") {
        await f.editOriginal({
          content: `A sync chunk is already running: ${summaryLine(r.progress)}`,
          embeds: [statusEmbed(r.progress)],
        });
      } else {
        await f.editOriginal(`Nothing started: ${r.reason}.`);
      }
    }, { ephemeral: true });
  },
});
