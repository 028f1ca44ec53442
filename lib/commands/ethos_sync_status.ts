/** /ethos_sync_status: the role sync's progress, read from KV (the same record every view reads). */
import { defineCommand } from "./define.ts";
import { keys } from "../kv/keys.ts";

export const ethosSyncStatus = defineCommand({
  name: "ethos_sync_status",
  description: "Show the progress of the Ethos role sync",
  category: "Role sync",
  handler: async (ctx) => {
    const guildId = ctx.guildId ?? ctx.deps.config.discord.guildId;
    const status = guildId ? (await ctx.deps.kv.get(keys.syncStatus(guildId))).value : null;
    if (!status) return ctx.ephemeral("No sync has run yet in this server.");
    return ctx.ephemeral("```json\n" + JSON.stringify(status, null, 2).slice(0, 1800) + "\n```");
  },
});
