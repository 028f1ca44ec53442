/**
 * What the bot keeps of a member who linked Ethos as a Discord linked role: their sealed OAuth
 * tokens and the metadata last pushed. `/privacy delete` disconnects: Discord's metadata for the
 * member is cleared, the grant revoked and the record deleted.
 */
import type { PrivacySource } from "./inventory.ts";
import type { TokenKeys } from "../signing_keys.ts";
import { getLinked } from "../linked_roles/store.ts";
import { disconnect } from "../linked_roles/keeper.ts";

/** The source, opening the member's tokens with the app's token keys (`keys.tokenBox`). */
export function linkedRoleSource(keys: TokenKeys): PrivacySource {
  return {
    name: "Ethos linked role connection",
    async view(deps, _guildId, userId) {
      const rec = await getLinked(deps.kv, userId);
      const m = rec?.value.metadata;
      return {
        name: this.name,
        items: rec
          ? [
            `connected ${
              new Date(rec.value.linkedAt).toISOString()
            }: your Discord OAuth tokens (encrypted), so the bot can keep your linked-role data current`,
            `last sent to Discord ${
              new Date(rec.value.pushedAt).toISOString()
            }: score ${m?.score}, level ${m?.level}, validator ${m?.validator}, human ${m?.human}`,
          ]
          : [],
        retention: "until you delete it here or remove the app from Discord's Authorized Apps",
      };
    },
    async delete(deps, _guildId, userId) {
      return (await disconnect(deps, keys, userId)) ? 1 : 0;
    },
  };
}
