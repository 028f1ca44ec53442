/**
 * POST /linked-roles/register {force?: boolean} (bearer SYNC_AUTH_TOKEN): registers the Ethos
 * linked-role metadata records with Discord, unless the same ones were (no call then).
 */
import { z } from "zod";
import type { App } from "../lib/app.ts";
import { requireBearer } from "../lib/http/auth.ts";
import { readJson } from "../lib/http/body.ts";
import { httpError, json } from "../lib/http/response.ts";
import type { Handler } from "../lib/http/router.ts";
import { DiscordApiError } from "../lib/discord/errors.ts";
import { registerMetadata } from "../lib/linked_roles/metadata.ts";

const body = z.strictObject({ force: z.boolean().optional() });

export function linkedRolesRegisterRoute(app: App): Handler {
  return async (req) => {
    const denied = requireBearer(req, app.deps.config.syncAuthToken);
    if (denied) return denied;
    const raw = await readJson(req, 4 * 1024);
    if (!raw.ok) return httpError(raw.status, raw.error);
    const parsed = body.safeParse(raw.value);
    if (!parsed.success) return httpError(400, 'body must be {"force"?: boolean}');
    try {
      const r = await registerMetadata(app.deps, app.deps.config.discord.applicationId, {
        force: parsed.data.force,
      });
      return json(r, 200, { "cache-control": "no-store" });
    } catch (error) {
      if (error instanceof DiscordApiError && error.status < 500) {
        return httpError(502, `Discord refused the records: ${error.message}`);
      }
      throw error;
    }
  };
}
