/**
 * Every privacy source, in the order /privacy shows them; the linked-role one opens tokens with
 * the app's token keys.
 */
import { deletableSources, type PrivacySource } from "./inventory.ts";
import { auditSource, backupSource } from "./kept.ts";
import { linkedRoleSource } from "./linked.ts";
import type { TokenKeys } from "../signing_keys.ts";
import { holderIndexSource, lastRunSource, memberIndexSource, setupAuthorSource } from "./guild.ts";

export function privacySources(keys: TokenKeys): PrivacySource[] {
  return [
    ...deletableSources,
    linkedRoleSource(keys),
    holderIndexSource,
    memberIndexSource,
    lastRunSource,
    auditSource,
    backupSource,
    setupAuthorSource,
  ];
}
export { deleteMemberData, viewMemberData } from "./inventory.ts";
