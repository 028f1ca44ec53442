/**
 * /ethos_refresh: any member re-syncs their own Ethos roles now (fresh score, fresh roles).
 * One use a minute per member; respects the self_refresh feature flag.
 */
import { defineCommand } from "../interactions/define.ts";
import { isEnabled } from "../ops/flags.ts";
import { refreshMember } from "../sync/refresh.ts";
import { SyncConfigError } from "../sync/context.ts";
import { described, formatCount, t } from "../i18n/mod.ts";
import { explain } from "../i18n/reason.ts";

export const ethosRefresh = defineCommand({
  name: "ethos_refresh",
  ...described("cmd.ethos_refresh.description"),
  category: "Role sync",
  cooldown: { uses: 1, perMs: 60_000 },
  handler: async (ctx) => {
    const lang = ctx.language;
    const guildId = ctx.guildId!;
    if (!(await isEnabled(ctx.deps.kv, guildId, "self_refresh"))) {
      return ctx.ephemeral(t(lang, "ethos_refresh.disabled"));
    }
    return ctx.defer(async (f) => {
      let r;
      try {
        r = await refreshMember(ctx.deps, guildId, ctx.user.id);
      } catch (error) {
        if (error instanceof SyncConfigError) {
          await f.editOriginal(
            t(lang, "ethos_refresh.not_set_up", { reason: explain(lang, error) }),
          );
          return;
        }
        throw error;
      }
      let text: string;
      if (r.status === "skipped") {
        text = t(
          lang,
          r.reason === "score_unavailable"
            ? "ethos_refresh.score_unavailable"
            : r.reason === "bot"
            ? "ethos_refresh.bot"
            : "ethos_refresh.not_member",
        );
      } else if (!r.verified) {
        text = r.removed.length
          ? t(lang, "ethos_refresh.unverified_removed", { roles: r.removed.join(", ") })
          : t(lang, "ethos_refresh.unverified");
      } else {
        const score = r.score === null
          ? t(lang, "ethos_refresh.no_score")
          : r.tier
          ? t(lang, "ethos_refresh.score_tier", { score: formatCount(lang, r.score), tier: r.tier })
          : t(lang, "ethos_refresh.score", { score: formatCount(lang, r.score) });
        const changes = [
          r.added.length ? t(lang, "ethos_refresh.added", { roles: r.added.join(", ") }) : "",
          r.removed.length ? t(lang, "ethos_refresh.removed", { roles: r.removed.join(", ") }) : "",
        ].filter(Boolean).join("; ");
        text = `${score} ${
          r.status === "changed"
            ? t(lang, "ethos_refresh.updated", { changes })
            : t(lang, "ethos_refresh.up_to_date")
        }`;
        if (r.blocked.length) {
          text += ` ${t(lang, "ethos_refresh.blocked", { roles: r.blocked.join(", ") })}`;
        }
      }
      await f.editOriginal(text);
    }, { ephemeral: true });
  },
});
