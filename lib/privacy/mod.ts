/** Every privacy source, in the order /privacy shows them. */
import { deletableSources, type PrivacySource } from "./inventory.ts";
import { auditSource, backupSource } from "./kept.ts";
import { holderIndexSource, lastRunSource, setupAuthorSource } from "./guild.ts";

export const privacySources: PrivacySource[] = [
  ...deletableSources,
  holderIndexSource,
  lastRunSource,
  auditSource,
  backupSource,
  setupAuthorSource,
];
export { deleteMemberData, viewMemberData } from "./inventory.ts";
