/**
 * /ethos_refresh: any member re-syncs their own Ethos roles now (fresh score, fresh roles).
 * One use a minute per member; respects the self_refresh feature flag.
 */
import { defineCommand } from "./define.ts";
import { OTHER_GUILD, syncGuildOf } from "./ethos_sync_status.ts";
import { isEnabled } from "../ops/flags.ts";
import { refreshMember } from "../sync/refresh.ts";
import { SyncConfigError } from "../sync/context.ts";

export const ethosRefresh = defineCommand({
  name: "ethos_refresh",
  description: "Update your own Ethos roles now from your current Ethos score",
  category: "Role sync",
  cooldown: { uses: 1, perMs: 60_000 },
  handler: async (ctx) => {
    const guildId = syncGuildOf(ctx);
    if (!guildId) return ctx.ephemeral(OTHER_GUILD);
    if (!(await isEnabled(ctx.deps.kv, guildId, "self_refresh"))) {
      return ctx.ephemeral("Self-refresh is turned off in this server.");
    }
    return ctx.defer(async (f) => {
      let r;
      try {
        r = await refreshMember(ctx.deps, guildId, ctx.user.id);
      } catch (error) {
        if (error instanceof SyncConfigError) {
          await f.editOriginal(`Role sync is not set up here yet: ${error.message}.`);
          return;
        }
        throw error;
      }
      let text: string;
      if (r.status === "skipped") {
        text = r.reason === "score_unavailable"
          ? "Ethos is not answering right now, so nothing was changed. Please try again later."
          : r.reason === "bot"
          ? "Bots do not get Ethos roles."
          : "You are not a member of this server.";
      } else if (!r.verified) {
        text = r.removed.length
          ? `You do not have the verified role, so your Ethos roles were removed: ${
            r.removed.join(", ")
          }.`
          : "You do not have the verified role yet, so you hold no Ethos roles. Verify first, then run this again.";
      } else {
        const score = r.score === null
          ? "You have no Ethos score yet."
          : `Your Ethos score is **${r.score}**${r.tier ? ` (${r.tier})` : ""}.`;
        const changes = [
          r.added.length ? `added ${r.added.join(", ")}` : "",
          r.removed.length ? `removed ${r.removed.join(", ")}` : "",
        ].filter(Boolean).join("; ");
        text = `${score} ${
          r.status === "changed"
            ? `Roles updated: ${changes}.`
            : "Your roles were already up to date."
        }`;
        if (r.blocked.length) {
          text += ` (The bot cannot give or take ${
            r.blocked.join(", ")
          }: ask an admin to move its role up.)`;
        }
      }
      await f.editOriginal(text);
    }, { ephemeral: true });
  },
});
