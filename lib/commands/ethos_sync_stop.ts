/** /ethos_sync_stop (Manage Roles): the running chunk stops after its current batch. */
import { defineCommand } from "./define.ts";
import { OTHER_GUILD, statusEmbed, syncGuildOf } from "./ethos_sync_status.ts";
import { stopSync } from "../sync/service.ts";

export const ethosSyncStop = defineCommand({
  name: "ethos_sync_stop",
  description: "Stop the Ethos role sync after its current batch (resume with /ethos_sync)",
  category: "Role sync",
  permissions: ["ManageRoles"],
  handler: async (ctx) => {
    const guildId = syncGuildOf(ctx);
    if (!guildId) return ctx.ephemeral(OTHER_GUILD);
    const r = await stopSync(ctx.deps, guildId, `user:${ctx.user.id}`);
    const text = r.status === "noop"
      ? `Nothing to stop: ${r.reason}.`
      : r.status === "stopping"
      ? "Stopping: the running chunk ends after its current batch. Resume with `/ethos_sync`."
      : "Stopped. Resume with `/ethos_sync`.";
    return ctx.ephemeral({ content: text, embeds: [statusEmbed(r.progress)] });
  },
});
