/** /status_link: a signed link to the status page, valid for one hour (Administrator, ephemeral). */
import { defineCommand } from "../interactions/define.ts";
import { createStatusLink } from "../http/status_access.ts";
import { described, t } from "../i18n/mod.ts";

export const statusLink = defineCommand({
  name: "status_link",
  ...described("cmd.status_link.description"),
  category: "Admin",
  permissions: ["Administrator"],
  handler: async (ctx) => {
    const base = ctx.deps.config.selfUrl;
    if (!base) return ctx.ephemeral(t(ctx.language, "status_link.no_url"));
    const link = await createStatusLink(ctx.keys.statusLink, base, ctx.deps.clock.now());
    ctx.log.info("status link issued", { by: ctx.user.id });
    // A Discord timestamp: each member's client shows the time in their own locale and zone.
    const until = `<t:${Math.floor(link.expiresAt / 1000)}:t>`;
    return ctx.ephemeral(t(ctx.language, "status_link.link", { url: link.url, until }));
  },
});
