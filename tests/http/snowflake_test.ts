import assert from "node:assert/strict";
import { isSnowflake, SNOWFLAKE } from "../../lib/http/snowflake.ts";
import * as discord from "../../lib/discord/snowflake.ts";

Deno.test("isSnowflake: 17 to 20 digits, the whole string, nothing else", () => {
  assert.equal(isSnowflake("12345678901234567"), true);
  assert.equal(isSnowflake("12345678901234567890"), true);
  assert.equal(isSnowflake("1234567890123456"), false, "16 digits");
  assert.equal(isSnowflake("123456789012345678901"), false, "21 digits");
  assert.equal(isSnowflake("12345678901234567x"), false);
  assert.equal(isSnowflake(" 12345678901234567"), false);
  assert.equal(isSnowflake(""), false);
});

Deno.test("lib/discord/snowflake.ts re-exports the same shape", () => {
  assert.equal(discord.SNOWFLAKE, SNOWFLAKE);
  assert.equal(discord.isSnowflake, isSnowflake);
});
