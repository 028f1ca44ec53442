/** /privacy view|delete: what the bot keeps about you, and deleting what it does not need. */
import { defineCommand, sub } from "../interactions/define.ts";
import { deleteMemberData, privacySources, viewMemberData } from "../privacy/mod.ts";
import { described, formatCount, type Language, t } from "../i18n/mod.ts";

const entries = (language: Language, count: number) =>
  t(language, count === 1 ? "privacy.entry_one" : "privacy.entry_other", {
    count: formatCount(language, count),
  });

// The sources' names, items and retention periods come from lib/privacy (the inventory of what
// is kept) and are shown as it words them; the sentences around them are the member's language.
export const privacy = defineCommand({
  name: "privacy",
  ...described("cmd.privacy.description"),
  category: "General",
  contexts: ["guild", "bot_dm"],
  subcommands: {
    view: sub({
      ...described("cmd.privacy.view.description"),
      // Deferred: reading backups for your roles can take a few seconds in a large server.
      handler: (ctx) =>
        ctx.defer(async (f) => {
          const lang = ctx.language;
          const reports = await viewMemberData(
            ctx.deps,
            ctx.guildId,
            ctx.user.id,
            privacySources(ctx.keys.tokenBox),
          );
          const lines = reports.flatMap((r) => [
            t(lang, "privacy.source", { name: r.name, retention: r.retention }),
            ...(r.items.length
              ? r.items.map((i) => `- ${i}`)
              : [`- ${t(lang, "privacy.nothing")}`]),
          ]);
          await f.editOriginal(
            [t(lang, "privacy.intro"), ...lines].join("\n").slice(0, 2000),
          );
        }),
    }),
    delete: sub({
      ...described("cmd.privacy.delete.description"),
      handler: (ctx) =>
        ctx.defer(async (f) => {
          const lang = ctx.language;
          const { deleted, kept } = await deleteMemberData(
            ctx.deps,
            ctx.guildId,
            ctx.user.id,
            privacySources(ctx.keys.tokenBox),
          );
          ctx.log.info("member data deleted on request", { user: ctx.user.id, deleted });
          const lines = [
            t(lang, "privacy.deleted"),
            ...deleted.map((d) => `- ${d.name}: ${entries(lang, d.count)}`),
          ];
          if (kept.length) {
            lines.push(
              t(lang, "privacy.kept"),
              ...kept.map((k) =>
                `- ${
                  t(lang, "privacy.kept_item", {
                    name: k.name,
                    why: k.keptBecause ?? t(lang, "privacy.needed"),
                    retention: k.retention,
                  })
                }`
              ),
            );
          } else lines.push(t(lang, "privacy.nothing_else"));
          lines.push(t(lang, "privacy.ethos_again"));
          await f.editOriginal(lines.join("\n").slice(0, 2000));
        }),
    }),
  },
});
