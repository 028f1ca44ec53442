/**
 * The shape of a Discord id (a snowflake: 17 to 20 decimal digits), written once. It sits at the
 * ground floor so request checks here can use it; lib/discord/snowflake.ts re-exports it for the
 * layers above.
 */

/** A whole string that is a Discord id. */
export const SNOWFLAKE = /^\d{17,20}$/;

export function isSnowflake(value: string): boolean {
  return SNOWFLAKE.test(value);
}
