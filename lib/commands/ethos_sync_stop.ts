/** /ethos_sync_stop (Manage Roles): the running chunk stops after its current batch. */
import { defineCommand } from "../interactions/define.ts";
import { statusEmbed, syncGuildOf } from "./ethos_sync_status.ts";
import { stopSync } from "../sync/service.ts";
import { described, t, translateReason } from "../i18n/mod.ts";

export const ethosSyncStop = defineCommand({
  name: "ethos_sync_stop",
  ...described("cmd.ethos_sync_stop.description"),
  category: "Role sync",
  permissions: ["ManageRoles"],
  handler: async (ctx) => {
    const lang = ctx.language;
    const guildId = syncGuildOf(ctx);
    if (!guildId) return ctx.ephemeral(t(lang, "ethos_sync.other_guild"));
    const r = await stopSync(ctx.deps, guildId, `user:${ctx.user.id}`);
    const text = r.status === "noop"
      ? t(lang, "ethos_sync_stop.noop", { reason: translateReason(lang, r.reason) })
      : r.status === "stopping"
      ? t(lang, "ethos_sync_stop.stopping")
      : t(lang, "ethos_sync_stop.stopped");
    return ctx.ephemeral({ content: text, embeds: [statusEmbed(r.progress, lang)] });
  },
});
