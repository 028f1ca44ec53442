/** Every privacy source, in the order /privacy shows them. */
import { deletableSources, type PrivacySource } from "./inventory.ts";
import { auditSource, backupSource } from "./kept.ts";

export const privacySources: PrivacySource[] = [...deletableSources, auditSource, backupSource];
export { deleteMemberData, viewMemberData } from "./inventory.ts";
