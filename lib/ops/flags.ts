/** Per-guild feature flags in KV. Every feature is on until an admin turns it off. */
import { z } from "zod";
import { keys } from "../kv/keys.ts";

export const FEATURES = ["role_sync", "self_refresh", "backups", "scheduled_backups"] as const;
export type Feature = typeof FEATURES[number];

const flagsSchema = z.record(z.string(), z.boolean());

export async function getFlags(kv: Deno.Kv, guildId: string): Promise<Record<Feature, boolean>> {
  const entry = await kv.get(keys.flags(guildId));
  const parsed = flagsSchema.safeParse(entry.value);
  const stored = parsed.success ? parsed.data : {};
  return Object.fromEntries(FEATURES.map((f) => [f, stored[f] ?? true])) as Record<
    Feature,
    boolean
  >;
}

export async function isEnabled(kv: Deno.Kv, guildId: string, feature: Feature): Promise<boolean> {
  return (await getFlags(kv, guildId))[feature];
}

export async function setFlag(
  kv: Deno.Kv,
  guildId: string,
  feature: Feature,
  enabled: boolean,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(keys.flags(guildId));
    const parsed = flagsSchema.safeParse(entry.value);
    const next = { ...(parsed.success ? parsed.data : {}), [feature]: enabled };
    if ((await kv.atomic().check(entry).set(keys.flags(guildId), next).commit()).ok) return;
  }
  throw new Error("feature flag update kept conflicting; try again");
}
