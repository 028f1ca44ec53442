/** /privacy view|delete: what the bot keeps about you, and deleting what it does not need. */
import { defineCommand, sub } from "./define.ts";
import { deleteMemberData, privacySources, viewMemberData } from "../privacy/mod.ts";

export const privacy = defineCommand({
  name: "privacy",
  description: "See what this bot stores about you, or delete it",
  category: "General",
  contexts: ["guild", "bot_dm"],
  subcommands: {
    view: sub({
      description: "Show everything this bot stores about you",
      // Deferred: reading backups for your roles can take a few seconds in a large server.
      handler: (ctx) =>
        ctx.defer(async (f) => {
          const reports = await viewMemberData(ctx.deps, ctx.guildId, ctx.user.id, privacySources);
          const lines = reports.flatMap((r) => [
            `**${r.name}** (kept ${r.retention})`,
            ...(r.items.length ? r.items.map((i) => `- ${i}`) : ["- nothing"]),
          ]);
          await f.editOriginal(
            ["Here is everything the bot stores about you:", ...lines].join("\n").slice(0, 2000),
          );
        }),
    }),
    delete: sub({
      description: "Delete what this bot stores about you that it does not need",
      handler: (ctx) =>
        ctx.defer(async (f) => {
          const { deleted, kept } = await deleteMemberData(
            ctx.deps,
            ctx.guildId,
            ctx.user.id,
            privacySources,
          );
          ctx.log.info("member data deleted on request", { user: ctx.user.id, deleted });
          const lines = [
            "Deleted:",
            ...deleted.map((d) => `- ${d.name}: ${d.count} ${d.count === 1 ? "entry" : "entries"}`),
          ];
          if (kept.length) {
            lines.push(
              "Kept, and why:",
              ...kept.map((k) =>
                `- **${k.name}**: ${
                  k.keptBecause ?? "needed to run the server"
                } (kept ${k.retention})`
              ),
            );
          } else lines.push("Nothing else is stored about you.");
          lines.push(
            "Your Ethos score will be looked up again the next time your roles are synced.",
          );
          await f.editOriginal(lines.join("\n").slice(0, 2000));
        }),
    }),
  },
});
