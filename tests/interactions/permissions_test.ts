/** The per-guild role allow-list of a command: open without one, closed on one it cannot read. */
import { assertEquals, assertStringIncludes } from "../_assert.ts";
import { allowListRefusal } from "../../lib/interactions/permissions.ts";

const ROLE = "210000000000000001";
const OTHER = "210000000000000002";

Deno.test("allow-list: none stored is open; a member with a listed role passes; others get the roles", () => {
  assertEquals(allowListRefusal(undefined, [], "backup", "en"), null);
  assertEquals(allowListRefusal(null, [], "backup", "en"), null);
  assertEquals(allowListRefusal([], [], "backup", "en"), null);
  assertEquals(allowListRefusal([ROLE], [OTHER, ROLE], "backup", "en"), null);
  const refused = allowListRefusal([ROLE], [OTHER], "backup", "en")!;
  assertStringIncludes(refused, "`/backup` is limited to members with");
  assertStringIncludes(refused, `<@&${ROLE}>`);
});

Deno.test("allow-list: a stored list the bot cannot read closes the command (fails closed)", () => {
  for (const bad of ["not a list", ["not-a-role-id"], { roles: [ROLE] }, Array(26).fill(ROLE)]) {
    const r = allowListRefusal(bad, [ROLE], "backup", "en");
    assertStringIncludes(r ?? "", "cannot read", JSON.stringify(bad).slice(0, 40));
  }
  assertStringIncludes(allowListRefusal("x", [ROLE], "backup", "es")!, "no puede leer");
});
