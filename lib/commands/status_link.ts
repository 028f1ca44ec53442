/** /status_link: a signed link to the status page, valid for one hour (Administrator, ephemeral). */
import { defineCommand } from "./define.ts";
import { createStatusLink } from "../ops/status_access.ts";

export const statusLink = defineCommand({
  name: "status_link",
  description: "Get a link to the bot's status page, valid for one hour",
  category: "Admin",
  permissions: ["Administrator"],
  handler: async (ctx) => {
    const base = ctx.deps.config.selfUrl;
    if (!base) {
      return ctx.ephemeral(
        "The bot does not know its public address: set `SELF_URL` (e.g. https://my-bot.deno.dev).",
      );
    }
    const link = await createStatusLink(ctx.keys.statusLink, base, ctx.deps.clock.now());
    ctx.log.info("status link issued", { by: ctx.user.id });
    return ctx.ephemeral(
      `[Open the status page](${link.url}) — valid until <t:${
        Math.floor(link.expiresAt / 1000)
      }:t>. ` +
        "Do not share it: anyone with the link can see the status page for an hour.",
    );
  },
});
