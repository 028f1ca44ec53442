/**
 * When Discord says the bot is no longer in a guild (Unknown Guild) or can no longer see it
 * (Missing Access), the guild's setup is marked inactive: its syncs stop, and one alert says so.
 * Re-inviting the bot and running /ethos_setup view makes it active again.
 */
import type { AppDeps } from "../deps.ts";
import { DiscordApiError } from "../discord/errors.ts";
import { raiseAlert } from "../ops/alerts.ts";
import { updateSetup } from "./setup.ts";

const UNKNOWN_GUILD = 10004;
const MISSING_ACCESS = 50001;

/** Whether an error means the bot left the guild or lost access to it. */
export function isGuildGone(error: unknown): boolean {
  return error instanceof DiscordApiError &&
    (error.code === UNKNOWN_GUILD || error.code === MISSING_ACCESS);
}

export async function markGuildGone(deps: AppDeps, guildId: string, error: unknown): Promise<void> {
  const reason = error instanceof DiscordApiError && error.code === UNKNOWN_GUILD
    ? "Discord answered Unknown Guild: the bot was removed from the server"
    : "Discord answered Missing Access: the bot can no longer see the server";
  const setup = await updateSetup(
    deps,
    guildId,
    { id: "system", name: "role sync" },
    "inactive",
    (s) => ({
      ...s,
      active: false,
    }),
    { reason },
  );
  await raiseAlert(deps, {
    cause: `guild_gone:${guildId}:${setup.version}`,
    title: `Role sync stopped for guild ${guildId}`,
    detail: `${reason}. Its syncs are stopped. Re-invite the bot and run /ethos_setup view there ` +
      "to resume.",
    severity: "warning",
  }).catch((alertError) => deps.log.warn("could not raise the alert", { error: alertError }));
}
