/**
 * The one writer of a member's roles, shared by the role sync (its chunks, /ethos_refresh, the
 * freshness pass) and the backup restore. A change goes out either as one member PATCH (the whole
 * role list) or as one PUT/DELETE per changed role; Discord keeps the two routes in separate
 * per-guild buckets. Who decides the route: a caller with one member uses `cheapestRoute`, the
 * sync's scheduler splits many members between both, and the freshness pass, which has no fresh
 * read of the member to PATCH from, sends single-role calls only.
 * Every call's result is sorted the same way (`WriteOutcome`), so the callers only decide what
 * an outcome means for them.
 */
import type { RestClient } from "./rest.ts";
import { addMemberRole, modifyMemberRoles, removeMemberRole } from "./api.ts";
import { DiscordApiError, isUnknownMember, RestClosedError, RESTJSONErrorCodes } from "./errors.ts";
import { isAbort } from "../abort.ts";

/** Roles to give and to take; the other roles a member holds are left as they are. */
export interface RoleChange {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/** One PATCH of the whole list, or single-role PUT/DELETEs. */
export type RoleRoute = "patch" | "role";

/** A single-role PUT ("add") or DELETE ("remove"). */
export interface SingleRoleCall {
  kind: "add" | "remove";
  roleId: string;
}

/** One request: the PATCH, or a single-role call. */
export type RoleCall = { kind: "patch" } | SingleRoleCall;

export type WriteOutcome =
  | { kind: "done" }
  /** The write was cut short (an abort, the chunk's signal, the client closed): not a result. */
  | { kind: "stopped"; error: unknown }
  /** 10007 Unknown Member: the member left the guild. */
  | { kind: "gone"; error: DiscordApiError }
  /**
   * Discord refused for good (4xx other than 429): `code` is "missing_permissions" (also the
   * role hierarchy), "unknown_role" or "http_<status>". Sending it again would not help.
   */
  | { kind: "refused"; code: string; error: DiscordApiError }
  /** Anything else (5xx or 429 after the client's retries, the network): worth a later try. */
  | { kind: "failed"; error: unknown };

/** Where and how a write is sent. */
export interface MemberTarget {
  rest: RestClient;
  guildId: string;
  userId: string;
  /** Audit-log reason. */
  reason: string;
  signal?: AbortSignal;
}

/** Number of single-role calls the change needs. */
export function changeCount(change: RoleChange): number {
  return change.add.length + change.remove.length;
}

/** The full role list to PATCH: `current` with the change applied, other roles untouched. */
export function rolesAfter(current: readonly string[], change: RoleChange): string[] {
  const remove = new Set(change.remove);
  const out = current.filter((r) => !remove.has(r));
  for (const r of change.add) if (!out.includes(r)) out.push(r);
  return out;
}

/** The route with the fewest calls for one member: one changed role by its own call. */
export function cheapestRoute(change: RoleChange): RoleRoute {
  return changeCount(change) === 1 ? "role" : "patch";
}

/** The requests `change` takes by `route`: one PATCH, or one call per role. */
export function callsFor(change: RoleChange, route: RoleRoute): RoleCall[] {
  return route === "patch" ? [{ kind: "patch" }] : singleRoleCalls(change);
}

/** One call per changed role, adds first. */
export function singleRoleCalls(change: RoleChange): SingleRoleCall[] {
  return [
    ...change.add.map((roleId) => ({ kind: "add" as const, roleId })),
    ...change.remove.map((roleId) => ({ kind: "remove" as const, roleId })),
  ];
}

/**
 * Sends one call of a change. A PATCH sends `current` with the change applied, so `current` must
 * be a fresh read of the member's roles (a role someone else changed since would be undone).
 */
export async function sendRoleCall(
  to: MemberTarget,
  call: RoleCall,
  current: readonly string[],
  change: RoleChange,
): Promise<WriteOutcome> {
  const { rest, guildId, userId, reason, signal } = to;
  try {
    if (call.kind === "patch") {
      await modifyMemberRoles(rest, guildId, userId, rolesAfter(current, change), reason, {
        signal,
      });
    } else {
      const send = call.kind === "add" ? addMemberRole : removeMemberRole;
      await send(rest, guildId, userId, call.roleId, reason, { signal });
    }
    return { kind: "done" };
  } catch (error) {
    return writeOutcomeOf(error, signal);
  }
}

/** Sorts an error of a member read or write; `signal` is the one the call was given. */
export function writeOutcomeOf(error: unknown, signal?: AbortSignal): WriteOutcome {
  if (
    isAbort(error) || error instanceof RestClosedError ||
    (signal?.aborted === true && error === signal.reason)
  ) {
    return { kind: "stopped", error };
  }
  if (isUnknownMember(error)) return { kind: "gone", error };
  if (error instanceof DiscordApiError && error.status < 500 && error.status !== 429) {
    const code = error.code === RESTJSONErrorCodes.MissingPermissions
      ? "missing_permissions"
      : error.code === RESTJSONErrorCodes.UnknownRole
      ? "unknown_role"
      : `http_${error.status}`;
    return { kind: "refused", code, error };
  }
  return { kind: "failed", error };
}
