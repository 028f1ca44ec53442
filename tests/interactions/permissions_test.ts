/** The per-guild role allow-list of a command: open without one, closed on one it cannot read. */
import assert from "node:assert/strict";
import { allowListRefusal } from "../../lib/interactions/permissions.ts";

const ROLE = "210000000000000001";
const OTHER = "210000000000000002";

Deno.test("allow-list: none stored is open; a member with a listed role passes; others get the roles", () => {
  assert.deepStrictEqual(allowListRefusal(undefined, [], "backup", "en"), null);
  assert.deepStrictEqual(allowListRefusal(null, [], "backup", "en"), null);
  assert.deepStrictEqual(allowListRefusal([], [], "backup", "en"), null);
  assert.deepStrictEqual(allowListRefusal([ROLE], [OTHER, ROLE], "backup", "en"), null);
  const refused = allowListRefusal([ROLE], [OTHER], "backup", "en")!;
  assert.match(refused, /`\/backup` is limited to members with/);
  assert.ok(refused.includes(`<@&${ROLE}>`), refused);
});

Deno.test("allow-list: a stored list the bot cannot read closes the command (fails closed)", () => {
  for (const bad of ["not a list", ["not-a-role-id"], { roles: [ROLE] }, Array(26).fill(ROLE)]) {
    const r = allowListRefusal(bad, [ROLE], "backup", "en");
    assert.match(r ?? "", /cannot read/, JSON.stringify(bad).slice(0, 40));
  }
  assert.match(allowListRefusal("x", [ROLE], "backup", "es")!, /no puede leer/);
});
