/**
 * The connect flow behind Discord's "Linked Roles Verification URL":
 *
 * 1. `beginConnect`: a random state, kept in KV for 10 minutes and in an HttpOnly, SameSite=Lax
 *    cookie, and the authorize URL to send the browser to.
 * 2. `completeConnect` (the callback): the state must be in the cookie and in KV, and is used up;
 *    the code is exchanged; the user read with their token; their Ethos profile looked up by
 *    `service:discord:<id>`; the metadata pushed with their token; only then are the tokens
 *    stored (sealed). Every failure is an outcome the page explains with a 4xx status, and leaves
 *    no token stored; the metadata is only ever pushed with the token of the user it describes.
 */
import { generateCookie } from "hono/cookie";
import type { AppDeps } from "../deps.ts";
import { profilesFor } from "../ethos/service.ts";
import type { EthosProfile } from "../ethos/profile.ts";
import { type Metadata, metadataOf, standingOfProfile } from "./metadata.ts";
import {
  authorizeUrl,
  currentUser,
  type DiscordUser,
  exchangeCode,
  InvalidGrantError,
  pushRoleConnection,
  revokeToken,
  roleConnection,
  SCOPES,
} from "./oauth.ts";
import { open, seal, type TokenKeys } from "./token_box.ts";
import {
  createState,
  getLinked,
  type LinkedUser,
  saveLinked,
  STATE_TTL_MS,
  takeState,
} from "./store.ts";

export const STATE_COOKIE = "ethos_linked_role_state";
// Lax, not Strict: the browser comes back from Discord's authorize page, another site.
const STATE_COOKIE_OPTIONS = {
  path: "/linked-role",
  maxAge: STATE_TTL_MS / 1000,
  httpOnly: true,
  sameSite: "Lax",
} as const;

export function linkedRolesEnabled(deps: Pick<AppDeps, "config">): boolean {
  return !!deps.config.linkedRoles.clientSecret && !!deps.config.linkedRoles.redirectUri;
}

export async function beginConnect(
  deps: AppDeps,
): Promise<{ location: string; cookie: string }> {
  const state = await createState(deps.kv, deps.clock.now());
  const secure = deps.config.linkedRoles.redirectUri!.startsWith("https:");
  return {
    location: authorizeUrl(deps.config, state),
    cookie: generateCookie(STATE_COOKIE, state, { ...STATE_COOKIE_OPTIONS, secure }),
  };
}

/** The cookie that ends the state once the callback ran (whatever its outcome). */
export const CLEAR_STATE_COOKIE = generateCookie(STATE_COOKIE, "", {
  ...STATE_COOKIE_OPTIONS,
  maxAge: 0,
});

export interface CallbackInput {
  code?: string;
  state?: string;
  error?: string;
  /** Every value of the state cookie the browser sent. */
  cookieStates: string[];
}

export type ConnectOutcome =
  | { kind: "connected"; user: DiscordUser; profile: EthosProfile | null; metadata: Metadata }
  | { kind: "denied" }
  | { kind: "bad_state"; reason: "missing" | "mismatch" | "used_or_expired" }
  | { kind: "bad_code" }
  | { kind: "missing_scope" }
  | { kind: "upstream"; service: "Discord" | "Ethos" };

export async function completeConnect(
  deps: AppDeps,
  keys: TokenKeys,
  input: CallbackInput,
): Promise<ConnectOutcome> {
  const { kv, clock, log } = deps;
  const state = input.state;
  if (!state || input.cookieStates.length === 0) return { kind: "bad_state", reason: "missing" };
  if (!input.cookieStates.includes(state)) return { kind: "bad_state", reason: "mismatch" };
  if (!(await takeState(kv, state, clock.now()))) {
    return { kind: "bad_state", reason: "used_or_expired" };
  }
  if (input.error) return { kind: "denied" };
  if (!input.code) return { kind: "bad_code" };
  let tokens;
  let user: DiscordUser;
  try {
    tokens = await exchangeCode(deps, input.code, clock.now());
    if (!SCOPES.every((s) => tokens!.scopes.includes(s))) return { kind: "missing_scope" };
    user = await currentUser(deps, tokens.accessToken);
  } catch (error) {
    if (error instanceof InvalidGrantError) return { kind: "bad_code" };
    log.warn("linked roles: Discord failed during connect", { error });
    return { kind: "upstream", service: "Discord" };
  }
  const found = await profilesFor(deps).lookup({ kind: "discord", id: user.id });
  if (found.kind === "unavailable") {
    log.warn("linked roles: Ethos unavailable during connect", { reason: found.reason });
    return { kind: "upstream", service: "Ethos" };
  }
  const profile = found.kind === "profile" ? found.profile : null;
  const metadata = metadataOf(profile ? standingOfProfile(profile) : null);
  const platformUsername = profile?.displayName ?? null;
  try {
    await pushRoleConnection(deps, tokens.accessToken, roleConnection(platformUsername, metadata));
  } catch (error) {
    log.warn("linked roles: pushing the metadata failed during connect", { error });
    return { kind: "upstream", service: "Discord" };
  }
  const now = clock.now();
  const record: LinkedUser = {
    refresh: await seal(keys, user.id, tokens.refreshToken),
    access: await seal(keys, user.id, tokens.accessToken),
    expiresAt: tokens.expiresAt,
    linkedAt: now,
    pushedAt: now,
    metadata,
    platformUsername,
  };
  // Connecting again replaces the stored grant: the one before is revoked, not left alive.
  const before = await getLinked(kv, user.id);
  await saveLinked(kv, user.id, record);
  const old = before && await open(keys, user.id, before.value.refresh);
  if (old) {
    await revokeToken(deps, old).catch((error) =>
      log.warn("linked roles: revoking the grant before failed", { userId: user.id, error })
    );
  }
  log.info("linked roles: user connected", { userId: user.id, score: metadata.score });
  return { kind: "connected", user, profile, metadata };
}
