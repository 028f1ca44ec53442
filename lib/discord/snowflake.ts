/**
 * Discord's ids and the orders of ids and roles, shared by the role sync and the backup restore:
 * ids compare as numbers, and roles by position, the older (smaller id) above on a tie, as Discord
 * shows them. The id's shape lives at the ground floor (lib/http/snowflake.ts) and is re-exported.
 */
export { isSnowflake, SNOWFLAKE } from "../http/snowflake.ts";

/** Numeric order of decimal ids without BigInt: longer is larger, else string order. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Role order, lowest first: by position, then the larger id lower on a tie. */
export function compareRoles(
  a: { id: string; position: number },
  b: { id: string; position: number },
): number {
  if (a.position !== b.position) return a.position - b.position;
  return compareIds(b.id, a.id);
}
