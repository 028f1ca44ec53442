/** Every privacy source, in the order /privacy shows them. */
import { deletableSources, type PrivacySource } from "./inventory.ts";
import { auditSource, backupSource } from "./kept.ts";
import { linkedRoleSource } from "./linked.ts";
import { holderIndexSource, lastRunSource, memberIndexSource, setupAuthorSource } from "./guild.ts";

export const privacySources: PrivacySource[] = [
  ...deletableSources,
  linkedRoleSource,
  holderIndexSource,
  memberIndexSource,
  lastRunSource,
  auditSource,
  backupSource,
  setupAuthorSource,
];
export { deleteMemberData, viewMemberData } from "./inventory.ts";
