/** /ethos_sync_stop (Manage Roles): the running chunk stops after its current batch. */
import { defineCommand } from "../interactions/define.ts";
import { statusEmbed } from "./ethos_sync_status.ts";
import { stopSync } from "../sync/service.ts";
import { described, t } from "../i18n/mod.ts";
import { explain } from "../i18n/reason.ts";

export const ethosSyncStop = defineCommand({
  name: "ethos_sync_stop",
  ...described("cmd.ethos_sync_stop.description"),
  category: "Role sync",
  permissions: ["ManageRoles"],
  handler: async (ctx) => {
    const lang = ctx.language;
    const guildId = ctx.guildId!;
    const r = await stopSync(ctx.deps, guildId, `user:${ctx.user.id}`);
    const text = r.status === "noop"
      ? t(lang, "ethos_sync_stop.noop", { reason: explain(lang, r) })
      : r.status === "stopping"
      ? t(lang, "ethos_sync_stop.stopping")
      : t(lang, "ethos_sync_stop.stopped");
    return ctx.ephemeral({ content: text, embeds: [statusEmbed(r.progress, lang)] });
  },
});
