/** The bot's own user id: asked once ever (`GET /users/@me`), then kept in KV. */
import type { RestClient } from "./rest.ts";
import { getCurrentUser } from "./api.ts";
import { keys } from "../kv/keys.ts";

export async function botUserId(
  kv: Deno.Kv,
  rest: RestClient,
  applicationId: string,
  signal?: AbortSignal,
): Promise<string> {
  const key = keys.botUser(applicationId);
  const cached = await kv.get<string>(key);
  if (typeof cached.value === "string") return cached.value;
  const me = await getCurrentUser(rest, { signal });
  await kv.set(key, me.id);
  return me.id;
}
