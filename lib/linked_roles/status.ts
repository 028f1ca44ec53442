/** What the operator sees of linked roles (GET /linked-roles/status, `linked-roles status`). */
import type { AppDeps } from "../deps.ts";
import { linkedRolesEnabled } from "./connect.ts";
import { recordsFingerprint, registeredMetadata } from "./metadata.ts";
import { countLinked } from "./store.ts";

export interface LinkedRolesStatus {
  /** The connect routes answer (DISCORD_CLIENT_SECRET and SELF_URL set). */
  enabled: boolean;
  /** The verification URL to set in the developer portal, and the redirect URI to register. */
  verificationUrl: string | null;
  redirectUri: string | null;
  /** The records registered from here, and whether they are this code's. */
  registered: { at: number; current: boolean } | null;
  linkedUsers: number;
}

export async function linkedRolesStatus(deps: AppDeps): Promise<LinkedRolesStatus> {
  const [registered, fingerprint, linkedUsers] = await Promise.all([
    registeredMetadata(deps.kv),
    recordsFingerprint(),
    countLinked(deps.kv),
  ]);
  const { selfUrl } = deps.config;
  return {
    enabled: linkedRolesEnabled(deps),
    verificationUrl: selfUrl ? `${selfUrl}/linked-role` : null,
    redirectUri: deps.config.linkedRoles.redirectUri ?? null,
    registered: registered
      ? { at: registered.at, current: registered.fingerprint === fingerprint }
      : null,
    linkedUsers,
  };
}
