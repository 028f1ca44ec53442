/**
 * POST /linked-roles/register {force?: boolean} (bearer SYNC_AUTH_TOKEN): registers the Ethos
 * linked-role metadata records with Discord, unless the same ones were (no call then).
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { parseBody } from "../lib/http/json_body.ts";
import type { Handler } from "hono";
import { DiscordApiError } from "../lib/discord/errors.ts";
import { registerMetadata } from "../lib/linked_roles/metadata.ts";

const body = z.strictObject({ force: z.boolean().optional() });

export function linkedRolesRegisterRoute(app: App): Handler {
  return async (c) => {
    const parsed = await parseBody(c, body, 'body must be {"force"?: boolean}');
    if (!parsed.ok) return parsed.res;
    try {
      const r = await registerMetadata(app.deps, app.deps.config.discord.applicationId, {
        force: parsed.value.force,
      });
      return c.json(r, 200, { "cache-control": "no-store" });
    } catch (error) {
      if (error instanceof DiscordApiError && error.status < 500) {
        return c.json({ error: `Discord refused the records: ${error.message}` }, 502);
      }
      throw error;
    }
  };
}
