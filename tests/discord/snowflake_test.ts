import assert from "node:assert/strict";
import { compareIds, compareRoles } from "../../lib/discord/snowflake.ts";

Deno.test("compareIds: ids compare as numbers, whatever their length", () => {
  assert.ok(compareIds("9", "10") < 0);
  assert.ok(compareIds("200000000000000002", "200000000000000001") > 0);
  assert.ok(compareIds("99999999999999999", "100000000000000000") < 0);
  assert.strictEqual(compareIds("123", "123"), 0);
  const ids = ["300000000000000010", "30000000000000009", "300000000000000002"];
  assert.deepStrictEqual([...ids].sort(compareIds), [
    "30000000000000009",
    "300000000000000002",
    "300000000000000010",
  ]);
});

Deno.test("compareRoles: by position; on a tie the older (smaller id) role is higher", () => {
  const role = (id: string, position: number) => ({ id, position });
  assert.ok(compareRoles(role("2", 5), role("1", 3)) > 0);
  assert.ok(compareRoles(role("1", 3), role("2", 5)) < 0);
  // Same position: the smaller id sorts above (Discord's order).
  assert.ok(compareRoles(role("100", 4), role("200", 4)) > 0);
  assert.ok(compareRoles(role("200", 4), role("100", 4)) < 0);
  assert.strictEqual(compareRoles(role("100", 4), role("100", 4)), 0);
  const lowestFirst = [role("3", 1), role("1", 2), role("2", 1)].sort(compareRoles);
  assert.deepStrictEqual(lowestFirst.map((r) => r.id), ["3", "2", "1"]);
});
