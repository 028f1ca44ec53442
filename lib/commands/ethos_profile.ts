/**
 * Profile lookups: `/ethos user:<member> [private]`, `/ethosx handle:<x handle>` and the member
 * context-menu command "Ethos profile" (ephemeral). Each answers at once when Ethos does, and when
 * Ethos is slow acknowledges within Discord's 3 s and edits the card in. Profiles are cached in KV
 * for a minute; each member may look up 5 times per 30 s.
 */
import type {
  APIApplicationCommandInteraction,
  APIInteractionResponse,
  APIUser,
  APIUserApplicationCommandInteraction,
} from "discord-api-types/v10";
import { defineCommand, defineUserCommand } from "../interactions/define.ts";
import { opt } from "../interactions/options.ts";
import type { CommandContext } from "../interactions/context.ts";
import { described, languageOf, localizations, t } from "../i18n/mod.ts";
import { profilesFor } from "../ethos/service.ts";
import { type Subject, X_HANDLE } from "../ethos/profile.ts";
import { lookupMessage } from "./profile_card.ts";

/** A lookup slower than this is acknowledged first (Discord allows 3 s in all). */
const ANSWER_NOW_MS = 1_500;
/** What every lookup command shares: read-only (no interaction record), 5 uses per 30 s. */
const LOOKUP = {
  category: "Ethos",
  readOnly: true,
  cooldown: { uses: 5, perMs: 30_000 },
} as const;
const EVERYWHERE = ["guild", "bot_dm", "private_channel"] as const;

function language(ctx: CommandContext) {
  const i = ctx.interaction as APIApplicationCommandInteraction;
  return languageOf(i.locale, i.guild_locale);
}

/** A resolved user of the interaction, from the data Discord attached to it. */
function resolvedUser(ctx: CommandContext, id: string): APIUser | undefined {
  const resolved = (ctx.interaction.data as { resolved?: { users?: Record<string, APIUser> } })
    .resolved;
  const users = resolved?.users;
  return users && Object.hasOwn(users, id) ? users[id] : undefined;
}

async function answer(
  ctx: CommandContext,
  subject: Subject,
  displayName: string,
  ephemeral: boolean,
): Promise<APIInteractionResponse> {
  const lang = language(ctx);
  const lookup = profilesFor(ctx.deps).lookup(subject);
  const timer = new AbortController();
  const first = await Promise.race([
    lookup,
    ctx.deps.clock.sleep(ANSWER_NOW_MS, timer.signal).then(
      () => "slow" as const,
      () => "slow" as const,
    ),
  ]).finally(() => timer.abort());
  if (first !== "slow") {
    const message = lookupMessage(first, subject, displayName, lang);
    // A failure is for the asker only, never a public "Ethos is down" post.
    return ephemeral || first.kind === "unavailable" ? ctx.ephemeral(message) : ctx.reply(message);
  }
  return ctx.defer(async (f) => {
    const result = await lookup;
    const message = lookupMessage(result, subject, displayName, lang);
    if (result.kind === "unavailable" && !ephemeral) {
      await f.deleteOriginal();
      await f.send(message, true);
      return;
    }
    await f.editOriginal(message);
  }, { ephemeral });
}

export const ethos = defineCommand({
  name: "ethos",
  ...described("cmd.ethos.description"),
  ...LOOKUP,
  contexts: [...EVERYWHERE],
  options: {
    user: opt.user({
      ...described("cmd.ethos.user"),
      required: true,
    }),
    private: opt.boolean({
      ...described("cmd.ethos.private"),
    }),
  },
  handler: (ctx) => {
    const user = resolvedUser(ctx, ctx.options.user);
    if (!user) return ctx.ephemeral(t(language(ctx), "lookup.unknown_user"));
    if (user.bot) return ctx.ephemeral(t(language(ctx), "lookup.bot"));
    const name = user.global_name ?? user.username;
    return answer(ctx, { kind: "discord", id: user.id }, name, ctx.options.private ?? false);
  },
});

export const ethosx = defineCommand({
  name: "ethosx",
  ...described("cmd.ethosx.description"),
  ...LOOKUP,
  contexts: [...EVERYWHERE],
  options: {
    handle: opt.string({
      ...described("cmd.ethosx.handle"),
      required: true,
      maxLength: 100,
    }),
  },
  handler: (ctx) => {
    const typed = ctx.options.handle.trim();
    const handle = X_HANDLE.exec(typed)?.[1];
    if (!handle) {
      // Code formatting keeps whatever was typed from rendering as markdown or a mention.
      const shown = typed.replaceAll("`", "'").slice(0, 60);
      return ctx.ephemeral(t(language(ctx), "lookup.x_invalid", { handle: shown }));
    }
    return answer(ctx, { kind: "x", handle }, `@${handle}`, false);
  },
});

export const ethosProfileMenu = defineUserCommand({
  name: t("en", "cmd.ethos_menu.name"),
  nameLocalizations: localizations("cmd.ethos_menu.name"),
  ...described("cmd.ethos_menu.description"),
  ...LOOKUP,
  handler: (ctx) => {
    const data = (ctx.interaction as APIUserApplicationCommandInteraction).data;
    const user = resolvedUser(ctx, data.target_id);
    if (!user) return ctx.ephemeral(t(language(ctx), "lookup.unknown_user"));
    if (user.bot) return ctx.ephemeral(t(language(ctx), "lookup.bot"));
    return answer(ctx, { kind: "discord", id: user.id }, user.global_name ?? user.username, true);
  },
});
