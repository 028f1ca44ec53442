import { assertEquals, assertNotEquals } from "../_assert.ts";
import {
  checksumOf,
  compareIds,
  normalizeSnapshot,
  type Snapshot,
} from "../../lib/backup/model.ts";
import { sampleSnapshot } from "./_sample.ts";

Deno.test("ids compare numerically", () => {
  assertEquals(compareIds("9", "10") < 0, true);
  assertEquals(compareIds("90000000000000001", "900000000000000002") < 0, true);
  assertEquals(compareIds("5", "5"), 0);
});

Deno.test("normalised snapshot: every list in id order; the checksum ignores input order", async () => {
  const s = sampleSnapshot();
  const n = normalizeSnapshot(s);
  assertEquals(n.roles.map((r) => r.id), [
    "200000000000000001",
    "300000000000000001",
    "300000000000000002",
  ]);
  assertEquals(n.channels.map((c) => c.id), ["400000000000000001", "400000000000000003"]);
  assertEquals(n.channels[1].permission_overwrites.map((o) => o.id), [
    "200000000000000001",
    "300000000000000002",
  ]);
  assertEquals(n.members.map((m) => m.id), ["90000000000000001", "900000000000000002"]);
  assertEquals(n.members[1].roles, ["300000000000000001", "300000000000000002"]);
  assertEquals(Object.keys(n.bot.commandRoles), ["a", "b"]);

  const shuffled: Snapshot = {
    ...s,
    roles: [...s.roles].reverse(),
    channels: [...s.channels].reverse(),
    members: [...s.members].reverse(),
  };
  assertEquals(await checksumOf(shuffled), await checksumOf(s));
  const changed = { ...s, members: [{ id: "90000000000000001", roles: ["300000000000000001"] }] };
  assertNotEquals(await checksumOf(changed), await checksumOf(s));
});
